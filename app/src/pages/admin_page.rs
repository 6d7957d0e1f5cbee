//! Administration: users and their roles, API tokens (created, shown once, revoked).

use crate::api::admin::{get_admin_data, CreateToken, CreateUser, RevokeToken, SetUserRoles};
use crate::components::audit_table::display_ts;
use crate::components::error_view::{ErrorView, FormError};
use crate::components::nav::RoleBadges;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::model::{CreatedToken, TokenSummary, UserSummary};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin`, for administrators.
#[component]
pub fn AdminPage() -> impl IntoView {
    let create_user = ServerAction::<CreateUser>::new();
    let set_roles = ServerAction::<SetUserRoles>::new();
    let create_token = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let data = Resource::new(
        move || {
            (
                create_user.version().get(),
                set_roles.version().get(),
                create_token.version().get(),
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
                        let fresh = create_token.value().get_untracked().and_then(|r| r.ok()).or(d.new_token.clone());
                        let usernames: Vec<String> = d.users.iter().map(|u| u.username.clone()).collect();
                        view! {
                            <section aria-labelledby="users-title">
                                <h2 id="users-title">"Users"</h2>
                                <UsersTable users=d.users set_roles=set_roles/>
                                {move || err_of(set_roles.value().get()).map(|e| view! { <FormError error=e/> })}
                            </section>
                            <section aria-labelledby="tokens-title">
                                <h2 id="tokens-title">"API tokens"</h2>
                                {fresh.map(|t| view! { <NewTokenNotice token=t/> })}
                                <TokensTable tokens=d.tokens revoke=revoke/>
                                {move || err_of(revoke.value().get()).map(|e| view! { <FormError error=e/> })}
                            </section>
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
                                <section class="card" aria-labelledby="new-token-title">
                                    <h2 id="new-token-title">"Create an API token"</h2>
                                    <ActionForm action=create_token>
                                        <label for="nt-user">"For user"</label>
                                        <select id="nt-user" name="username">
                                            {usernames.into_iter().map(|u| view! { <option value=u.clone()>{u.clone()}</option> }).collect_view()}
                                        </select>
                                        <label for="nt-name">"Label"</label>
                                        <input id="nt-name" name="name" required placeholder="e.g. ci-pipeline" autocomplete="off"/>
                                        <button type="submit" class="button primary">"Create token"</button>
                                    </ActionForm>
                                    {move || err_of(create_token.value().get()).map(|e| view! { <FormError error=e/> })}
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
fn NewTokenNotice(token: CreatedToken) -> impl IntoView {
    view! {
        <div class="notice" role="status" id=format!("token-{}", token.id)>
            <p><strong>"New token #" {token.id}</strong> " — copy it now; it will not be shown again."</p>
            <code class="secret" aria-label="New API token">{token.token}</code>
        </div>
    }
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
fn UsersTable(users: Vec<UserSummary>, set_roles: ServerAction<SetUserRoles>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr><th scope="col">"User"</th><th scope="col">"Roles"</th><th scope="col">"Created (UTC)"</th><th scope="col">"Change roles"</th></tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|u| {
                        let name = u.username.clone();
                        view! {
                            <tr id=format!("user-{}", u.username)>
                                <td>{u.username.clone()}{u.disabled.then_some(" (disabled)")}</td>
                                <td><RoleBadges roles=u.roles.clone()/></td>
                                <td class="nowrap">{display_ts(&u.created_at)}</td>
                                <td>
                                    <ActionForm action=set_roles attr:class="inline-roles">
                                        <input type="hidden" name="username" value=name.clone()/>
                                        <RoleCheckboxes id_prefix=format!("r-{name}") checked=u.roles.clone()/>
                                        <button type="submit" class="button small" aria-label=format!("Save roles of {name}")>"Save"</button>
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

#[component]
fn TokensTable(tokens: Vec<TokenSummary>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted">"No API tokens yet. Machines such as the MLflow client authenticate with one."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"#"</th><th scope="col">"User"</th><th scope="col">"Label"</th><th scope="col">"Starts with"</th>
                        <th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let live = t.revoked_at.is_none();
                        let label = t.name.clone();
                        view! {
                            <tr id=format!("token-{}", t.id)>
                                <td class="num">{t.id}</td>
                                <td>{t.username}</td>
                                <td>{t.name}</td>
                                <td><code>{t.prefix}"…"</code></td>
                                <td class="nowrap">{display_ts(&t.created_at)} " by " {t.created_by}</td>
                                <td class="nowrap">{t.last_used_at.map(|s| display_ts(&s)).unwrap_or_else(|| "never".into())}</td>
                                <td>
                                    {if live {
                                        view! {
                                            <ActionForm action=revoke attr:class="inline">
                                                <input type="hidden" name="id" value=t.id.to_string()/>
                                                <button type="submit" class="button small danger" aria-label=format!("Revoke token {label}")>"Revoke"</button>
                                            </ActionForm>
                                        }.into_any()
                                    } else {
                                        view! { <span class="badge muted">"revoked"</span> }.into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }.into_any()
}
