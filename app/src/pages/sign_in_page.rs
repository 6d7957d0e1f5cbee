//! Sign-in: a plain form that works with and without JavaScript.

use crate::components::error_view::FormError;
use crate::components::url_state::use_query;
use crate::dto::DemoAccounts;
use crate::server_fns::session::{get_demo_accounts, SignIn};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

/// The sign-in page; in demo mode it lists the demo accounts and their password.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query();
    let next = move || query.read().get("next").unwrap_or_default();
    let demo = Resource::new(|| (), |_| get_demo_accounts());
    let error = move || action.value().get().and_then(|r| r.err());
    view! {
        <Title text="Sign in"/>
        <section class="signin card" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in to Gatehouse"</h1>
            <ActionForm action=action>
                <input type="hidden" name="next" value=next/>
                <label for="username">"User name"</label>
                <input id="username" name="username" autocomplete="username" required autofocus/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <button type="submit" class="button primary" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
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
