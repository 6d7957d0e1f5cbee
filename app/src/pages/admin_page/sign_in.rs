//! The admin page's sign-in section: the identity provider as configured (its groups and the
//! roles they grant) and the switch for password sign-in.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::nav::RoleBadges;
use crate::dto::{ProviderSummary, SignInSettings};
use crate::server_fns::sign_in_settings::{get_sign_in_settings, SetLocalSignIn};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// How people sign in.
#[component]
pub fn SignInSection() -> impl IntoView {
    let switch = ServerAction::<SetLocalSignIn>::new();
    let data = Resource::new(move || switch.version().get(), |_| get_sign_in_settings());
    view! {
        <section aria-labelledby="sign-in-title">
            <h2 id="sign-in-title">"Sign-in"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(s) => view! { <Settings settings=s switch=switch/> }.into_any(),
                    }
                })}
            </Transition>
            {move || switch.value().get().and_then(Result::err).map(|e| view! { <FormError error=e/> })}
        </section>
    }
}

#[component]
fn Settings(settings: SignInSettings, switch: ServerAction<SetLocalSignIn>) -> impl IntoView {
    let (state, button) = if settings.local {
        ("on", "Turn password sign-in off")
    } else {
        ("off", "Turn password sign-in on")
    };
    view! {
        {match settings.provider {
            Some(p) => view! { <Provider provider=p/> }.into_any(),
            None => view! { <p class="muted">"No identity provider is configured; everyone signs in with a password (see the README's single sign-on section)."</p> }.into_any(),
        }}
        <p>"Password sign-in is " <strong>{state}</strong> ". API tokens work either way."</p>
        <ActionForm action=switch>
            <input type="hidden" name="enabled" value=(!settings.local).to_string()/>
            <button type="submit" class="button small">{button}</button>
        </ActionForm>
    }
}

#[component]
fn Provider(provider: ProviderSummary) -> impl IntoView {
    view! {
        <p>"Single sign-on through " <strong>{provider.name}</strong> " (" <code>{provider.issuer}</code> "). Roles follow the " <code>{provider.groups_claim}</code> " claim at every sign-in:"</p>
        <div class="table-wrap">
            <table aria-label="Groups and roles">
                <thead><tr><th scope="col">"Group at the provider"</th><th scope="col">"Role in Gatehouse"</th></tr></thead>
                <tbody>
                    {provider.role_map.into_iter().map(|(group, role)| view! {
                        <tr><td><code>{group}</code></td><td><RoleBadges roles=vec![role]/></td></tr>
                    }).collect_view()}
                    {(!provider.default_roles.is_empty()).then(|| view! {
                        <tr><td>"everyone"</td><td><RoleBadges roles=provider.default_roles.clone()/></td></tr>
                    })}
                </tbody>
            </table>
        </div>
    }
}
