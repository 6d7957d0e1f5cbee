//! The side panel of the selected node: its facts, links to recentre, focus and the blast
//! radius, and the list of what a change would reach.

use super::Params;
use crate::components::when::Time;
use crate::domain::axis::shorten;
use crate::domain::url::query_string;
use crate::dto::NodeDetail;
use leptos::prelude::*;

/// The panel of node `d` as the page `p` shows it, with the blast radius list when asked.
#[component]
pub(super) fn DetailPanel(
    d: NodeDetail,
    p: Params,
    blast: Option<Vec<(String, String, String)>>,
) -> AnyView {
    let recentre = p.href(|q| {
        q.node = d.id.clone();
        q.selected = String::new();
    });
    let blast_link = p.href(|q| q.blast = !q.blast);
    let field_link = {
        let p = p.clone();
        move |f: &str| {
            format!(
                "{}&{}",
                p.href(|_| {}),
                query_string(&[("field".to_string(), f.to_string())])
            )
        }
    };
    let compare = training_runs_link(&d.training_runs);
    view! {
        <aside class="lineage-panel card" aria-labelledby="panel-title">
            <header>
            <h2 id="panel-title"><span class=format!("badge kind-{}", d.kind)>{d.kind.clone()}</span> " " {d.name.clone()}</h2>
            {(!d.namespace.is_empty()).then(|| view! { <p class="muted"><code>{d.namespace.clone()}</code></p> })}
            <p class="panel-links">
                {(d.id != p.node).then(|| view! { <a href=recentre.clone()>"Centre the graph here"</a> " · " })}
                <a href=blast_link>{if p.blast { "Hide blast radius" } else { "Show blast radius" }}</a>
                {compare.map(|(href, text)| view! { " · " <a href=href>{text}</a> })}
            </p>
            </header>
            {blast.map(|list| view! { <BlastList list=list/> })}
            {(!d.fields.is_empty()).then(|| view! { <section>
                <h3>"Schema"</h3>
                <table class="kv"><thead><tr><th scope="col">"Field"</th><th scope="col">"Type"</th></tr></thead><tbody>
                    {d.fields.iter().map(|(name, ty, desc)| view! {
                        <tr>
                            <th scope="row"><a href=field_link(name) title="Where this field comes from">{name.clone()}</a></th>
                            <td>{ty.clone()} {(!desc.is_empty()).then(|| view! { <div class="muted">{desc.clone()}</div> })}</td>
                        </tr>
                    }).collect_view()}
                </tbody></table>
            </section> })}
            {d.column_lineage.clone().map(|(field, sources)| view! { <section>
                <h3>"Column lineage of " <code>{field}</code></h3>
                {if sources.is_empty() {
                    view! { <p class="muted">"No column lineage was reported for this field."</p> }.into_any()
                } else {
                    view! { <ul class="column-lineage">{sources.into_iter().map(|(ds, f)| view! {
                        <li><code>{f}</code> " from " <a href=format!("/lineage?{}", query_string(&[("node".to_string(), ds.clone())]))>{ds.clone()}</a></li>
                    }).collect_view()}</ul> }.into_any()
                }}
            </section> })}
            {history(&d)}
            {(!d.facets.is_empty() && d.facets != "{}").then(|| view! { <section>
                <details><summary>"Facets"</summary><pre class="facets">{d.facets.clone()}</pre></details>
            </section> })}
        </aside>
    }
    .into_any()
}

/// The link to a node's training runs: the run's page for one, the comparison for several.
fn training_runs_link(runs: &[(String, String)]) -> Option<(String, String)> {
    match runs.len() {
        0 => None,
        1 => Some((
            format!("/runs/run/{}", runs[0].0),
            format!("Open training run {}", runs[0].1),
        )),
        _ => Some((
            format!(
                "/runs/compare?{}",
                query_string(
                    &runs
                        .iter()
                        .map(|(id, _)| ("run".to_string(), id.clone()))
                        .collect::<Vec<_>>()
                )
            ),
            format!("Compare the {} training runs", runs.len()),
        )),
    }
}

/// A node's latest runs (state, start, duration, error) and its versions.
fn history(d: &NodeDetail) -> impl IntoView {
    view! {
    {(!d.runs.is_empty()).then(|| view! { <section>
        <h3>"Latest runs"</h3>
        <table><thead><tr><th scope="col">"State"</th><th scope="col">"Started"</th><th scope="col">"Duration"</th></tr></thead><tbody>
            {d.runs.iter().map(|(id, state, started, dur, error)| view! {
                <tr title=id.clone()>
                    <td><span class=format!("badge state-{}", state.to_lowercase())>{state.clone()}</span>
                        {(!error.is_empty()).then(|| view! { <div class="form-error">{error.clone()}</div> })}</td>
                    <td class="nowrap"><Time ts=started.clone()/></td>
                    <td class="nowrap">{dur.clone()}</td>
                </tr>
            }).collect_view()}
        </tbody></table>
    </section> })}
    {(!d.versions.is_empty()).then(|| view! { <section>
        <h3>"Versions"</h3>
        <ul class="versions">{d.versions.iter().map(|(v, created, run)| view! {
            <li><code>{shorten(v, 28)}</code> " " <span class="muted"><Time ts=created.clone()/> {(!run.is_empty()).then(|| format!(" · run {}", shorten(run, 13)))}</span></li>
        }).collect_view()}</ul>
    </section> })}
    }
}

/// What a change to the node would reach downstream.
#[component]
fn BlastList(list: Vec<(String, String, String)>) -> impl IntoView {
    let n = list.len();
    view! {
        <section class="blast" aria-labelledby="blast-title">
            <h3 id="blast-title">"Blast radius: " {n} " downstream"</h3>
            {if list.is_empty() {
                view! { <p class="muted">"Nothing downstream."</p> }.into_any()
            } else {
                view! { <ul>{list.into_iter().map(|(kind, id, label)| view! {
                    <li><span class=format!("badge kind-{kind}")>{kind.clone()}</span> " "
                        <a href=format!("/lineage?{}", query_string(&[("node".to_string(), id)]))>{label}</a></li>
                }).collect_view()}</ul> }.into_any()
            }}
        </section>
    }
}
