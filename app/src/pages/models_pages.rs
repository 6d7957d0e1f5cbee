//! Models & Approvals: the registered models, one model's versions, aliases and their history,
//! and the form that requests a promotion.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::url_state::{use_path_tail, use_query};
use crate::components::when::TimeMs;
use crate::domain::url::{encode, link_rel, model_href, model_lineage_href};
use crate::domain::when::human_ms;
use crate::dto::registry::ModelDetail;
use crate::server_fns::promotions::{
    alias_at, list_models, model_page, RequestPromotion, RequestRollback,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;

/// The registered models.
#[component]
pub fn ModelsPage() -> impl IntoView {
    let models = Resource::new(|| (), |_| list_models());
    view! {
        <Title text="Models & Approvals"/>
        <h1>"Models & Approvals"</h1>
        <p class="lede"><a href="/promotions">"Promotion requests"</a>" · "<a href="/promotions?status=all">"all requests"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match models.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state">
                            <h2>"No models registered yet"</h2>
                            <p>"Registered model versions and their aliases (such as production) will be listed here, with promotion requests, the evidence they rest on and their approvals."</p>
                            <p>"Model versions arrive through the MLflow model-registry API ("<code>"mlflow.register_model"</code>"); promotions are requested here and approved by someone other than the requester."</p>
                        </div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="models">
                                <thead><tr>
                                    <th scope="col">"Model"</th><th scope="col">"Risk tier"</th><th scope="col" class="num">"Versions"</th>
                                    <th scope="col">"Aliases"</th><th scope="col">"Updated (UTC)"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|m| { let href = model_href(&m.name); view! {
                                        <tr>
                                            <td><a rel=link_rel(&href) href=href>{m.name.clone()}</a>
                                                {(!m.description.is_empty()).then(|| view! { <div class="muted small">{m.description.clone()}</div> })}</td>
                                            <td><span class=format!("badge tier-{}", m.risk_tier)>{m.risk_tier.clone()}</span></td>
                                            <td class="num">{m.version_count}</td>
                                            <td>{m.aliases.iter().map(|(a, v)| view! {
                                                <span class="chip">{format!("{a} → v{v}")}</span>" "
                                            }).collect_view()}</td>
                                            <td class="nowrap"><TimeMs ms=Some(m.last_updated_time)/></td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One registered model.
#[component]
pub fn ModelPage() -> impl IntoView {
    // Read from the raw path: the router's params decode a name holding `%41` twice.
    let name = use_path_tail("/models/");
    let request = ServerAction::<RequestPromotion>::new();
    let rollback = ServerAction::<RequestRollback>::new();
    let detail = Resource::new(move || name.get(), model_page);
    view! {
        <Title text="Model"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(d) => view! { <ModelBody d=d request=request rollback=rollback/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ModelBody(
    d: ModelDetail,
    request: ServerAction<RequestPromotion>,
    rollback: ServerAction<RequestRollback>,
) -> impl IntoView {
    let name = d.model.name.clone();
    let versions = d.versions.clone();
    let aliases = d.model.aliases.clone();
    let (form_name, rollback_name) = (name.clone(), name.clone());
    view! {
        <p class="breadcrumb"><a href="/models">"Models & Approvals"</a></p>
        <h1>{name.clone()}</h1>
        <p class="lede">
            <span class=format!("badge tier-{}", d.model.risk_tier)>{format!("{} risk", d.model.risk_tier)}</span>" "
            {d.model.description.clone()}
        </p>
        <section aria-labelledby="aliases-title">
            <h2 id="aliases-title">"Aliases"</h2>
            {if aliases.is_empty() {
                view! { <p class="muted">"No alias points at a version yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="aliases">{aliases.iter().map(|(a, v)| view! {
                        <li><strong>{a.clone()}</strong>" → "<a href=model_lineage_href(&name, *v)>{format!("version {v}")}</a></li>
                    }).collect_view()}</ul>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="versions-title">
            <h2 id="versions-title">"Versions"</h2>
            <div class="table-wrap"><table class="versions">
                <thead><tr><th scope="col">"Version"</th><th scope="col">"Training run"</th><th scope="col">"Source"</th>
                    <th scope="col">"Registered by"</th><th scope="col">"When (UTC)"</th><th scope="col">"Aliases"</th><th scope="col">"Download"</th></tr></thead>
                <tbody>{versions.iter().map(|v| view! {
                    <tr>
                        <td>{ let href = crate::domain::url::model_version_href(&v.name, v.version); view! { <a rel=link_rel(&href) href=href>{format!("v{}", v.version)}</a> } }</td>
                        <td>{match &v.run_id {
                            Some(r) => view! { <a href=format!("/runs/run/{r}")><code>{r.chars().take(8).collect::<String>()}</code></a> }.into_any(),
                            None => view! { <span class="muted">"none"</span> }.into_any(),
                        }}</td>
                        <td><code class="wrap">{v.source.clone()}</code></td>
                        <td>{v.user_id.clone()}</td>
                        <td class="nowrap"><TimeMs ms=Some(v.creation_time)/></td>
                        <td>{v.aliases.iter().map(|a| view! { <span class="chip">{a.clone()}</span>" " }).collect_view()}</td>
                        <td><a rel="external" download="" href=format!("/api/v1/models/{}/versions/{}/evidence-pack", encode(&v.name), v.version)>"Evidence pack"</a></td>
                    </tr>
                }).collect_view()}</tbody>
            </table></div>
        </section>
        <ServedAt name=name.clone() aliases=d.history.iter().map(|m| m.alias.clone()).collect()/>
        <section aria-labelledby="history-title">
            <h2 id="history-title">"Alias history"</h2>
            {if d.history.is_empty() {
                view! { <p class="muted">"No alias has moved yet."</p> }.into_any()
            } else {
                view! {
                    <table class="alias-history"><thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Alias"</th><th scope="col">"Version"</th>
                        <th scope="col">"Before"</th><th scope="col">"By"</th><th scope="col">"Through"</th></tr></thead>
                    <tbody>{d.history.iter().rev().map(|m| view! {
                        <tr>
                            <td class="nowrap"><TimeMs ms=Some(m.moved_at)/></td>
                            <td>{m.alias.clone()}</td>
                            <td>{m.version.map(|v| format!("v{v}")).unwrap_or_else(|| "removed".into())}</td>
                            <td>{m.previous_version.map(|v| format!("v{v}")).unwrap_or_else(|| "—".into())}</td>
                            <td>{m.moved_by.clone()}</td>
                            <td>{match m.promotion_id {
                                Some(id) => view! { <a href=format!("/promotions/{id}")>{format!("request #{id} ({})", m.note)}</a> }.into_any(),
                                None => view! { <span class="muted">{m.note.clone()}</span> }.into_any(),
                            }}</td>
                        </tr>
                    }).collect_view()}</tbody></table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="requests-title">
            <h2 id="requests-title">"Promotion requests"</h2>
            {if d.requests.is_empty() {
                view! { <p class="muted">"None yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="requests">{d.requests.iter().map(|r| view! {
                        <li><a href=format!("/promotions/{}", r.request_id)>{format!("#{}: v{} → {}", r.request_id, r.version, r.alias)}</a>" "
                            <span class=format!("badge promo-{}", r.status)>{r.status.clone()}</span>
                            <span class="muted">{format!(" requested by {} on {}", r.requested_by, crate::domain::when::human(&r.requested_at))}</span></li>
                    }).collect_view()}</ul>
                }.into_any()
            }}
        </section>
        {d.can_request.then(|| view! {
            <section aria-labelledby="promote-title" class="promote">
                <h2 id="promote-title">"Request a promotion"</h2>
                <ActionForm action=request attr:class="ab-form">
                    <input type="hidden" name="model" value=form_name.clone()/>
                    <div class="row">
                        <label>"Version" <select name="version" required>
                            {versions.iter().map(|v| view! { <option value=v.version.to_string()>{format!("v{}", v.version)}</option> }).collect_view()}
                        </select></label>
                        <label>"Alias" <input name="alias" value="production" required list="alias-names"/></label>
                        <datalist id="alias-names">
                            {["production", "staging", "canary", "shadow", "champion", "challenger"].map(|a| view! { <option value=a></option> }).collect_view()}
                        </datalist>
                    </div>
                    <label>"Justification" <textarea name="justification" rows="2" required minlength="10"></textarea></label>
                    <button type="submit" class="button primary">"Request promotion"</button>
                </ActionForm>
                {move || request.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
                {(!d.model.aliases.is_empty()).then(|| view! {
                    <details class="rollback">
                        <summary>"Roll an alias back"</summary>
                        <ActionForm action=rollback attr:class="ab-form">
                            <input type="hidden" name="model" value=rollback_name.clone()/>
                            <label>"Alias" <select name="alias">
                                {d.model.aliases.iter().map(|(a, _)| view! { <option value=a.clone()>{a.clone()}</option> }).collect_view()}
                            </select></label>
                            <label>"Justification" <textarea name="justification" rows="2" required minlength="10"></textarea></label>
                            <button type="submit" class="button">"Request rollback"</button>
                        </ActionForm>
                        {move || rollback.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
                    </details>
                })}
            </section>
        })}
    }
    .into_any()
}

/// "What did this alias serve at time T?": a plain GET form, answered on the server.
#[component]
fn ServedAt(name: String, aliases: Vec<String>) -> impl IntoView {
    let mut aliases = aliases;
    aliases.sort();
    aliases.dedup();
    let query = use_query();
    let asked = move || {
        let q = query.read();
        match (q.get("alias"), q.get("at")) {
            (Some(a), Some(t)) if !a.is_empty() && !t.is_empty() => Some((a, t)),
            _ => None,
        }
    };
    let model = name.clone();
    let answer = Resource::new(asked, move |a| {
        let model = model.clone();
        async move {
            match a {
                None => Ok(None),
                Some((alias, at)) => alias_at(model, alias.clone(), at.clone())
                    .await
                    .map(|m| Some((alias, at, m))),
            }
        }
    });
    let action = model_href(&name);
    (!aliases.is_empty()).then(|| view! {
        <section aria-labelledby="served-title">
            <h2 id="served-title">"Served at a time"</h2>
            <Form method="GET" action=action attr:class="filters" attr:aria-label="What an alias served at a time">
                <div class="field"><label for="s-alias">"Alias"</label>
                    <select id="s-alias" name="alias">{aliases.iter().map(|a| view! { <option value=a.clone()>{a.clone()}</option> }).collect_view()}</select></div>
                <div class="field"><label for="s-at">"At (UTC)"</label>
                    <input id="s-at" name="at" required placeholder="2026-11-27T08:00 or RFC 3339"/></div>
                <div class="actions"><button type="submit" class="button">"Look up"</button></div>
            </Form>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match answer.await {
                        Err(e) => view! { <FormError error=e/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Ok(Some((alias, at, m))) => view! {
                            <p role="status" class="served-answer">{match m.and_then(|m| m.version.map(|v| (v, m))) {
                                Some((v, m)) => format!("At {at}, '{alias}' served version {v} (since {}, moved by {}).", human_ms(m.moved_at), m.moved_by),
                                None => format!("At {at}, '{alias}' served no version."),
                            }}</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    })
}
