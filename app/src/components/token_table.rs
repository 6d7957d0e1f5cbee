//! API tokens as a table with a revoke button per live token, and the one-time notice that
//! shows a new token's secret.

use crate::components::when::Time;
use crate::dto::{CreatedToken, TokenSummary};
use crate::server_fns::tokens::RevokeToken;
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The secret of a token just created, shown this once.
#[component]
pub fn NewTokenNotice(
    /// The token just created; its secret is shown this once.
    token: CreatedToken,
) -> impl IntoView {
    view! {
        <div class="notice" role="status" id=format!("token-{}", token.id)>
            <p><strong>"New token #" {token.id}</strong> " — copy it now; it will not be shown again."</p>
            <code class="secret" aria-label="New API token">{token.token}</code>
        </div>
    }
}

/// Tokens, newest first; `show_user` adds the owner's column (the admin list).
#[component]
pub fn TokensTable(
    /// The tokens to list (never their secrets).
    tokens: Vec<TokenSummary>,
    /// The action each row's Revoke button dispatches.
    revoke: ServerAction<RevokeToken>,
    /// Whether to show the owner column (the admin's view of all tokens).
    show_user: bool,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted">"No API tokens yet. Machines such as the MLflow client authenticate with one."</p> }.into_any();
    }
    view! {
        // Wide enough to scroll sideways: focusable, so keyboards can scroll it too.
        <div class="table-wrap" tabindex="0">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        {show_user.then(|| view! { <th scope="col">"User"</th> })}
                        <th scope="col">"Label"</th><th scope="col">"Starts with"</th>
                        <th scope="col">"Created"</th><th scope="col">"Expires"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let live = t.revoked_at.is_none();
                        let label = t.name.clone();
                        view! {
                            <tr id=format!("token-{}", t.id)>
                                <td class="num">{t.id}</td>
                                {show_user.then(|| view! { <td>{t.username.clone()}</td> })}
                                <td>{t.name}</td>
                                <td><code>{t.prefix}"…"</code></td>
                                <td class="nowrap">
                                    <Time ts=t.created_at/> " by " {t.created_by}
                                    {(!t.self_issued).then(|| view! { " " <span class="badge muted" title="Issued by someone other than its user: it may not approve, reject or waive">"not self-issued"</span> })}
                                </td>
                                <td class="nowrap">{match t.expires_at { Some(s) => view! { <Time ts=s/> }.into_any(), None => "never".into_any() }}</td>
                                <td class="nowrap">{match t.last_used_at { Some(s) => view! { <Time ts=s/> }.into_any(), None => "never".into_any() }}</td>
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
