//! Promotion policies: the text in force per scope, every earlier version, and (for admins)
//! the editor that saves a new version, or says on which line the text is wrong.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::url_state::use_query;
use crate::components::when::Time;
use crate::dto::registry::{PoliciesView, PolicyVersion};
use crate::server_fns::promotions::{list_policies, SavePolicy};
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeMap;

/// `/promotions/policies`.
#[component]
pub fn PoliciesPage() -> impl IntoView {
    let save = ServerAction::<SavePolicy>::new();
    let query = use_query();
    let policies = Resource::new(move || save.version().get(), |_| list_policies());
    let scope = move || query.read().get("scope").unwrap_or_else(|| "*".into());
    view! {
        <Title text="Promotion policies"/>
        <p class="breadcrumb"><a href="/models">"Models & Approvals"</a>" › "<a href="/promotions">"Promotion requests"</a></p>
        <h1>"Promotion policies"</h1>
        <p class="lede">"Policies are TOML, versioned per scope: " <code>"*"</code>", "<code>"tier:low|medium|high"</code>" or "
            <code>"model:<name>"</code>"; the most specific scope with a policy is in force for a model."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) => view! { <Body v=v scope=scope() save=save/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Body(v: PoliciesView, scope: String, save: ServerAction<SavePolicy>) -> impl IntoView {
    let mut by_scope: BTreeMap<String, Vec<PolicyVersion>> = BTreeMap::new();
    for p in &v.versions {
        by_scope.entry(p.scope.clone()).or_default().push(p.clone());
    }
    let current_text = by_scope
        .get(&scope)
        .and_then(|vs| vs.first())
        .map(|p| p.text.clone())
        .or_else(|| {
            by_scope
                .get("*")
                .and_then(|vs| vs.first())
                .map(|p| p.text.clone())
        })
        .unwrap_or_else(|| v.default_text.clone());
    let default_in_force = !by_scope.contains_key("*");
    view! {
        <section aria-labelledby="scopes-title">
            <h2 id="scopes-title">"In force"</h2>
            {default_in_force.then(|| view! {
                <p>"No policy is stored for " <code>"*"</code>": the built-in default applies to every model without one of its own."</p>
            })}
            {by_scope.iter().map(|(s, vs)| {
                let latest = vs[0].clone();
                let older = vs[1..].to_vec();
                view! {
                    <article class="policy">
                        <h3><a href=format!("/promotions/policies?scope={}", crate::domain::url::encode(s))>{s.clone()}</a>
                            {format!(" — version {} by {} on ", latest.version, latest.created_by)}<Time ts=latest.created_at.clone()/></h3>
                        <pre class="wrap">{latest.text.clone()}</pre>
                        <p class="muted small">"SHA-256 " <code>{latest.sha256.clone()}</code></p>
                        {(!older.is_empty()).then(|| view! {
                            <details><summary>{format!("{} earlier version(s)", older.len())}</summary>
                                {older.into_iter().map(|o| view! {
                                    <h4>{format!("Version {} by {} on ", o.version, o.created_by)}<Time ts=o.created_at.clone()/></h4>
                                    <pre class="wrap">{o.text}</pre>
                                }).collect_view()}
                            </details>
                        })}
                    </article>
                }
            }).collect_view()}
            <details><summary>"The built-in default"</summary><pre class="wrap">{v.default_text.clone()}</pre></details>
        </section>
        {v.can_edit.then(|| view! {
            <section aria-labelledby="edit-title" class="policy-editor">
                <h2 id="edit-title">"Save a new version"</h2>
                <ActionForm action=save attr:class="ab-form">
                    <label>"Scope" <input name="scope" value=scope.clone() required list="policy-scopes"/></label>
                    <datalist id="policy-scopes">
                        {["*", "tier:low", "tier:medium", "tier:high"].map(|s| view! { <option value=s></option> }).collect_view()}
                    </datalist>
                    <label>"Policy (TOML)" <textarea name="text" rows="24" spellcheck="false" class="code">{current_text}</textarea></label>
                    <button type="submit" class="button primary">"Save policy"</button>
                </ActionForm>
                {move || save.value().get().map(|r| match r {
                    Ok(version) => view! { <p role="status" class="ok">{format!("Saved as version {version}.")}</p> }.into_any(),
                    Err(e) => view! { <FormError error=e/> }.into_any(),
                })}
            </section>
        })}
    }
    .into_any()
}
