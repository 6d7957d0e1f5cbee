//! Administration: users and their roles; every API token, to revoke (users create their own
//! on the Account page).

use crate::components::error_view::{ErrorView, FormError};
use crate::components::nav::RoleBadges;
use crate::components::token_table::TokensTable;
use crate::components::when::Time;
use crate::domain::roles::Role;
use crate::dto::UserSummary;
use crate::error::AppError;
use crate::server_fns::admin::{get_admin_data, CreateUser, SetUserActive, SetUserRoles};
use crate::server_fns::tokens::RevokeToken;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

mod sign_in;
mod webhooks;

/// `/admin`, for administrators.
#[component]
pub fn AdminPage() -> impl IntoView {
    let create_user = ServerAction::<CreateUser>::new();
    let set_roles = ServerAction::<SetUserRoles>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let data = Resource::new(
        move || {
            (
                create_user.version().get(),
                set_roles.version().get(),
                set_active.version().get(),
                revoke.version().get(),
            )
        },
        |_| get_admin_data(),
    );
    view! {
        <Title text="Admin"/>
        <h1>"Administration"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(d) => {
                        view! {
                            <section aria-labelledby="users-title">
                                <h2 id="users-title">"Users"</h2>
                                <UsersTable users=d.users set_roles=set_roles set_active=set_active/>
                                {move || err_of(set_roles.value().get()).map(|e| view! { <FormError error=e/> })}
                                {move || err_of(set_active.value().get()).map(|e| view! { <FormError error=e/> })}
                            </section>
                            <section aria-labelledby="tokens-title">
                                <h2 id="tokens-title">"API tokens"</h2>
                                <p class="muted">"Each user creates their own tokens on their Account page. Revoke any token here."</p>
                                <TokensTable tokens=d.tokens revoke=revoke show_user=true/>
                                {move || err_of(revoke.value().get()).map(|e| view! { <FormError error=e/> })}
                            </section>
                            <sign_in::SignInSection/>
                            <webhooks::WebhooksSection/>
                            <div class="two-col">
                                <section class="card" aria-labelledby="new-user-title">
                                    <h2 id="new-user-title">"Create a user"</h2>
                                    <ActionForm action=create_user>
                                        <label for="nu-name">"User name"</label>
                                        <input id="nu-name" name="username" required autocomplete="off"/>
                                        <label for="nu-pass">"Initial password (at least 12 characters)"</label>
                                        <input id="nu-pass" name="password" type="password" required minlength="12" autocomplete="new-password"/>
                                        <fieldset>
                                            <legend>"Roles"</legend>
                                            <RoleCheckboxes id_prefix="nu".to_string() checked=vec![Role::Viewer]/>
                                        </fieldset>
                                        <button type="submit" class="button primary">"Create user"</button>
                                    </ActionForm>
                                    {move || err_of(create_user.value().get()).map(|e| view! { <FormError error=e/> })}
                                </section>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn err_of<T>(v: Option<Result<T, AppError>>) -> Option<AppError> {
    v.and_then(|r| r.err())
}

#[component]
fn RoleCheckboxes(id_prefix: String, checked: Vec<Role>) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|r| {
            let id = format!("{id_prefix}-{}", r.as_str());
            view! {
                <label class="check" for=id.clone()>
                    <input type="checkbox" id=id.clone() name=format!("roles[{}]", r.as_str()) value="on" checked=checked.contains(&r)/>
                    {r.label()}
                </label>
            }
        })
        .collect_view()
}

#[component]
fn UsersTable(
    users: Vec<UserSummary>,
    set_roles: ServerAction<SetUserRoles>,
    set_active: ServerAction<SetUserActive>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr><th scope="col">"User"</th><th scope="col">"Roles"</th><th scope="col">"Created (UTC)"</th><th scope="col">"Change roles"</th><th scope="col">"Access"</th></tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|u| {
                        let name = u.username.clone();
                        let toggle = if u.disabled { "Reactivate" } else { "Deactivate" };
                        let toggle_label = format!("{toggle} {name}");
                        let toggle_name = name.clone();
                        view! {
                            <tr id=format!("user-{}", u.username)>
                                <td>{u.username.clone()}{u.disabled.then_some(" (deactivated)")}</td>
                                <td><RoleBadges roles=u.roles.clone()/></td>
                                <td class="nowrap"><Time ts=u.created_at.clone()/></td>
                                <td>
                                    <ActionForm action=set_roles attr:class="inline-roles">
                                        <input type="hidden" name="username" value=name.clone()/>
                                        <RoleCheckboxes id_prefix=format!("r-{name}") checked=u.roles.clone()/>
                                        <button type="submit" class="button small" aria-label=format!("Save roles of {name}")>"Save"</button>
                                    </ActionForm>
                                </td>
                                <td>
                                    <ActionForm action=set_active>
                                        <input type="hidden" name="username" value=toggle_name/>
                                        <input type="hidden" name="active" value=u.disabled.to_string()/>
                                        <button type="submit" class="button small" aria-label=toggle_label>{toggle}</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
