//! `/account`: the signed-in user's own API tokens: create one (shown once), see when each
//! was last used and when it expires, revoke.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::token_table::{NewTokenNotice, TokensTable};
use crate::error::AppError;
use crate::server_fns::tokens::{get_my_tokens, CreateToken, RevokeToken};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

fn err_of<T>(v: Option<Result<T, AppError>>) -> Option<AppError> {
    v.and_then(|r| r.err())
}

/// `/account`, for every signed-in user.
#[component]
pub fn AccountPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let data = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| get_my_tokens(),
    );
    view! {
        <Title text="Your account"/>
        <h1>"Your account"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(d) => {
                        let fresh = create.value().get_untracked().and_then(|r| r.ok()).or(d.new_token.clone());
                        view! {
                            <p class="lede">{format!("Signed in as {}.", d.username)}</p>
                            <section aria-labelledby="my-tokens-title">
                                <h2 id="my-tokens-title">"Your API tokens"</h2>
                                <p class="muted">"A token acts as you, with your roles, for the MLflow and OpenLineage clients and the REST API. Only you can create yours."</p>
                                {fresh.map(|t| view! { <NewTokenNotice token=t/> })}
                                <TokensTable tokens=d.tokens revoke=revoke show_user=false/>
                                {move || err_of(revoke.value().get()).map(|e| view! { <FormError error=e/> })}
                            </section>
                            <section class="card" aria-labelledby="new-token-title">
                                <h2 id="new-token-title">"Create an API token"</h2>
                                <ActionForm action=create>
                                    <label for="nt-name">"Label"</label>
                                    <input id="nt-name" name="name" required placeholder="e.g. ci-pipeline" autocomplete="off"/>
                                    <label for="nt-expiry">"Expires"</label>
                                    <select id="nt-expiry" name="expires_in_days">
                                        <option value="30">"in 30 days"</option>
                                        <option value="90" selected>"in 90 days"</option>
                                        <option value="365">"in a year"</option>
                                        <option value="">"never"</option>
                                    </select>
                                    <button type="submit" class="button primary">"Create token"</button>
                                </ActionForm>
                                {move || err_of(create.value().get()).map(|e| view! { <FormError error=e/> })}
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
