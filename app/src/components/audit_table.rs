//! A table of audit entries with links to filter by actor, action and object.

use crate::components::when::Time;
use crate::domain::audit_query::object_href;
use crate::domain::url::encode;
use crate::dto::AuditRow;
use leptos::prelude::*;

fn q(k: &str, v: &str) -> String {
    format!("{k}={}", encode(v))
}

/// Audit entries, newest first. `filter_links` turns actor/action/object cells into filters.
#[component]
pub fn AuditTable(
    /// The entries to show, newest first.
    rows: Vec<AuditRow>,
    /// Whether actors and targets link to the trail filtered by them.
    #[prop(optional)]
    filter_links: bool,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="audit">
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Object"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            let object_label = format!("{} {}", r.object_type, r.object_id);
                            let object_link = object_href(&r.object_type, &r.object_id).unwrap_or_else(|| {
                                format!("/audit?{}&{}", q("object_type", &r.object_type), q("object_id", &r.object_id))
                            });
                            let actor_cell = if filter_links {
                                view! { <a href=format!("/audit?{}", q("actor", &r.actor))>{r.actor.clone()}</a> }.into_any()
                            } else {
                                view! { <span>{r.actor.clone()}</span> }.into_any()
                            };
                            let action_cell = if filter_links {
                                view! { <a href=format!("/audit?{}", q("action", &r.action))><code>{r.action.clone()}</code></a> }.into_any()
                            } else {
                                view! { <code>{r.action.clone()}</code> }.into_any()
                            };
                            view! {
                                <tr>
                                    <td class="num" title=format!("hash {}", r.hash)>{r.seq}</td>
                                    <td class="nowrap"><Time ts=r.ts.clone()/></td>
                                    <td>{actor_cell}</td>
                                    <td>{action_cell}</td>
                                    <td><a href=object_link>{object_label}</a></td>
                                    <td><code class="details">{r.details.clone()}</code></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
