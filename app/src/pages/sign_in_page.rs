//! Sign-in: a plain form that works with and without JavaScript.

use crate::components::error_view::FormError;
use crate::components::url_state::use_query;
use crate::domain::url::encode;
use crate::dto::DemoAccounts;
use crate::server_fns::session::{get_demo_accounts, SignIn};
use crate::server_fns::sign_in_settings::get_sign_in_options;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

/// The sign-in page: single sign-on when a provider is configured, the password form unless an
/// admin turned it off; in demo mode it lists the demo accounts and their password.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query();
    let next = move || query.read().get("next").unwrap_or_default();
    let demo = Resource::new(|| (), |_| get_demo_accounts());
    let options = Resource::new(|| (), |_| get_sign_in_options());
    let error = move || action.value().get().and_then(|r| r.err());
    view! {
        <Title text="Sign in"/>
        <section class="signin card" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in to Gatehouse"</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let o = options.await.unwrap_or_default();
                    let sso_href = format!("/auth/oidc/login?next={}", encode(&next()));
                    view! {
                        {o.error.map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                        {o.sso.map(|name| view! {
                            <p><a class="button primary sso" href=sso_href>{format!("Sign in with {name}")}</a></p>
                        })}
                        <Show when=move || o.local fallback=|| view! {
                            <p class="muted">"Sign-in with a password is turned off here."</p>
                        }>
                            <PasswordForm action=action next=Signal::derive(next)/>
                        </Show>
                    }
                })}
            </Transition>
            {move || error().map(|e| view! { <FormError error=e/> })}
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                demo.await.ok().flatten().map(|d| view! { <DemoAccountList demo=d/> })
            })}
        </Transition>
    }
}

#[component]
fn PasswordForm(action: ServerAction<SignIn>, next: Signal<String>) -> impl IntoView {
    view! {
        <ActionForm action=action>
            <input type="hidden" name="next" value=next/>
            <label for="username">"User name"</label>
            <input id="username" name="username" autocomplete="username" required autofocus/>
            <label for="password">"Password"</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required/>
            <button type="submit" class="button primary" disabled=move || action.pending().get()>"Sign in"</button>
        </ActionForm>
    }
}

#[component]
fn DemoAccountList(demo: DemoAccounts) -> impl IntoView {
    view! {
        <section class="card demo-accounts" aria-labelledby="demo-title">
            <h2 id="demo-title">"Demo accounts"</h2>
            <p>"Every demo account uses the password " <code>{demo.password}</code> "."</p>
            <table>
                <thead><tr><th scope="col">"User name"</th><th scope="col">"Role"</th></tr></thead>
                <tbody>
                    {demo.accounts.into_iter().map(|(u, r)| view! { <tr><td><code>{u}</code></td><td>{r.label()}</td></tr> }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
