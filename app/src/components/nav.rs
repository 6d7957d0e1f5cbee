//! The top bar: navigation filtered by role, the signed-in user, sign-out and the theme switch.

use super::theme_toggle::ThemeToggle;
use crate::app::use_session;
use crate::domain::authz::{authorize, Action};
use crate::domain::roles::Role;
use crate::dto::{SessionInfo, UserInfo};
use crate::server_fns::session::SignOut;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;

/// Navigation entries: path, label, and the action a role needs to see the entry.
pub const NAV: [(&str, &str, Action); 8] = [
    ("/", "Overview", Action::ReadWorkspace),
    ("/runs", "Runs", Action::ReadWorkspace),
    ("/lineage", "Lineage", Action::ReadWorkspace),
    ("/experiments", "Experiments", Action::ReadWorkspace),
    ("/fairness", "Fairness", Action::ReadWorkspace),
    ("/models", "Models & Approvals", Action::ReadWorkspace),
    ("/audit", "Audit", Action::ReadAudit),
    ("/admin", "Admin", Action::ManageUsers),
];

/// The page header.
#[component]
pub fn Header() -> impl IntoView {
    let session = use_session().session;
    view! {
        <Transition fallback=|| view! { <header class="topbar"><a class="brand" href="/">"Gatehouse"</a></header> }>
            {move || Suspend::new(async move {
                let info = session.await.ok();
                let demo = info.as_ref().is_some_and(|s| s.demo);
                let user = info.and_then(|s: SessionInfo| s.user);
                view! {
                    {demo.then(|| view! {
                        // A landmark of its own, so no content sits outside one (axe `region`).
                        <aside class="demo-banner" aria-label="Demo workspace">
                            <strong>"Demo data"</strong>
                            " — this workspace is fictional and its accounts share a published password."
                        </aside>
                    })}
                    <header class="topbar">
                        <a class="brand" href="/">"Gatehouse"</a>
                        {match user {
                            Some(u) => view! { <SignedInBar user=u/> }.into_any(),
                            None => view! {
                                <div class="userbar"><ThemeToggle/><a class="button" href="/login">"Sign in"</a></div>
                            }.into_any(),
                        }}
                    </header>
                }
            })}
        </Transition>
    }
}

#[component]
fn SignedInBar(user: UserInfo) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let roles = user.roles.clone();
    let role_text = user
        .roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <nav aria-label="Main">
            <ul>
                {NAV
                    .into_iter()
                    .filter(|(_, _, action)| authorize(&roles, *action))
                    // Sections stay highlighted on their sub-pages; Overview only on itself.
                    .map(|(href, label, _)| view! { <li><A href=href exact={href == "/"}>{label}</A></li> })
                    .collect_view()}
            </ul>
        </nav>
        <div class="userbar">
            <ThemeToggle/>
            <span class="who">
                <a class="username" href="/account" title="Your account and API tokens">{user.username.clone()}</a>
                <span class="roles" title="Your roles">{role_text}</span>
            </span>
            <ActionForm action=sign_out>
                <button type="submit" class="link-button">"Sign out"</button>
            </ActionForm>
        </div>
    }
}

/// The roles as readable badges.
#[component]
pub fn RoleBadges(
    /// The account's roles, one badge each.
    roles: Vec<Role>,
) -> impl IntoView {
    view! {
        <span class="badges">
            {roles.into_iter().map(|r| view! { <span class="badge" title=r.label()>{r.as_str()}</span> }).collect_view()}
        </span>
    }
}
