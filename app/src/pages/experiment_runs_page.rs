//! An experiment's runs: filter with MLflow's grammar, sort by any column, select runs to compare.
//! Driven by the query string and plain forms, so it works the same without JavaScript.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::run_format::fmt_duration;
use crate::components::url_state::use_query;
use crate::components::when::TimeMs;
use crate::domain::url::query_string;
use crate::error::AppError;
use crate::server_fns::runs::experiment_runs;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_params_map;

/// `/runs/experiment/:id`.
#[component]
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub fn ExperimentRunsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query();
    let args = move || {
        let q = query.read();
        (
            params.read().get("id").and_then(|s| s.parse::<i64>().ok()),
            q.get("filter").unwrap_or_default(),
            q.get("order_by").unwrap_or_default(),
            q.get("offset")
                .and_then(|o| o.parse::<i64>().ok())
                .unwrap_or(0),
        )
    };
    // Chosen columns (`col=params.x&col=metrics.y`); none chosen means all of them.
    let chosen = move || query.read().get_all("col").unwrap_or_default();
    let page = Resource::new(args, |(id, filter, order, offset)| async move {
        match id {
            Some(id) => experiment_runs(id, filter, order, offset).await,
            None => Err(AppError::not_found("no such experiment")),
        }
    });
    view! {
        <Title text="Experiment runs"/>
        <p class="breadcrumb"><a href="/runs">"Runs"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let cols = chosen();
                Suspend::new(async move {
                let (id, filter, order, offset) = args();
                let id = id.unwrap_or_default();
                match page.await {
                    Err(e @ AppError::Validation { .. }) => view! {
                        <h1>"Runs"</h1>
                        <RunFilterForm id=id filter=filter.clone() order=order.clone()/>
                        <FormError error=e/>
                    }.into_any(),
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(p) => {
                        let baseline = p.baseline.clone();
                        let base = |extra: Vec<(String, String)>| {
                            let mut pairs = vec![];
                            if !filter.is_empty() { pairs.push(("filter".to_string(), filter.clone())); }
                            pairs.extend(cols.iter().map(|c| ("col".to_string(), c.clone())));
                            pairs.extend(extra);
                            format!("/runs/experiment/{id}?{}", query_string(&pairs))
                        };
                        let sort_link = |key: String| {
                            let desc = format!("{key} DESC");
                            let next = if order == key { desc } else { key.clone() };
                            base(vec![("order_by".into(), next)])
                        };
                        let sort_mark = |key: &str| {
                            if order == key { " ▲" } else if order == format!("{key} DESC") { " ▼" } else { "" }
                        };
                        let older = p.next_offset.map(|o| base(vec![("order_by".into(), order.clone()), ("offset".into(), o.to_string())]));
                        let newer = (offset > 0).then(|| base(vec![("order_by".into(), order.clone()), ("offset".into(), (offset - 50).max(0).to_string())]));
                        let shown = |prefix: &str, k: &String| cols.is_empty() || cols.contains(&format!("{prefix}.{k}"));
                        let pk: Vec<String> = p.param_keys.iter().filter(|k| shown("params", k)).cloned().collect();
                        let mk: Vec<String> = p.metric_keys.iter().filter(|k| shown("metrics", k)).cloned().collect();
                        let all_keys: Vec<(String, bool)> = p
                            .param_keys
                            .iter()
                            .map(|k| (format!("params.{k}"), shown("params", k)))
                            .chain(p.metric_keys.iter().map(|k| (format!("metrics.{k}"), shown("metrics", k))))
                            .collect();
                        view! {
                            <h1>{p.experiment.name.clone()}</h1>
                            {p.experiment.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
                            <RunFilterForm id=id filter=filter.clone() order=order.clone()/>
                            <ColumnChooser id=id filter=filter.clone() order=order.clone() keys=all_keys/>
                            {if p.runs.is_empty() {
                                view! { <p class="muted">"No runs match this filter."</p> }.into_any()
                            } else {
                                view! {
                                    <form method="get" action="/runs/compare" class="compare-form">
                                        <div class="toolbar">
                                            <button type="submit" class="button primary">"Compare selected"</button>
                                            <span class="muted">"Select two to eight runs."</span>
                                        </div>
                                        <div class="table-wrap">
                                            <table class="runs">
                                                <thead>
                                                    <tr>
                                                        <th scope="col"><span class="visually-hidden">"Select"</span></th>
                                                        <th scope="col"><a href=sort_link("attributes.run_name".into())>"Run"{sort_mark("attributes.run_name")}</a></th>
                                                        <th scope="col">"Status"</th>
                                                        <th scope="col"><a href=sort_link("attributes.start_time".into())>"Started"{sort_mark("attributes.start_time")}</a></th>
                                                        <th scope="col">"Duration"</th>
                                                        {pk.iter().map(|k| { let key = format!("params.{k}"); view! { <th scope="col" class="param"><a href=sort_link(key.clone())>{k.clone()}{sort_mark(&key)}</a></th> } }).collect_view()}
                                                        {mk.iter().map(|k| { let key = format!("metrics.{k}"); view! { <th scope="col" class="metric"><a href=sort_link(key.clone())>{k.clone()}{sort_mark(&key)}</a></th> } }).collect_view()}
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {p.runs.into_iter().map(|r| {
                                                        let check_id = format!("sel-{}", r.run_id);
                                                        let is_baseline = baseline.as_deref() == Some(r.run_id.as_str());
                                                        view! {
                                                            <tr>
                                                                <td><input type="checkbox" name="run" value=r.run_id.clone() id=check_id.clone() aria-label=format!("Select {}", r.name)/></td>
                                                                <td class="nowrap"><a href=format!("/runs/run/{}", r.run_id)>{r.name.clone()}</a>{is_baseline.then(|| view! { " " <span class="badge baseline">"baseline"</span> })}</td>
                                                                <td><span class=format!("badge status-{}", r.status.to_lowercase())>{r.status.clone()}</span></td>
                                                                <td class="nowrap"><TimeMs ms=r.start_time/></td>
                                                                <td class="nowrap">{fmt_duration(r.start_time, r.end_time)}</td>
                                                                {pk.iter().map(|k| view! { <td>{r.params.get(k).cloned().unwrap_or_default()}</td> }).collect_view()}
                                                                {mk.iter().map(|k| view! { <td class="num">{r.metrics.get(k).map(|m| m.text()).unwrap_or_default()}</td> }).collect_view()}
                                                            </tr>
                                                        }
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    </form>
                                    <nav class="pager" aria-label="Pages">
                                        {newer.map(|h| view! { <a href=h>"← Previous"</a> })}
                                        {older.map(|h| view! { <a href=h rel="next">"Next →"</a> })}
                                    </nav>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                }
            })}}
        </Transition>
    }
}

/// Which param and metric columns the table shows; a plain GET form, so it needs no JS.
#[component]
fn ColumnChooser(
    id: i64,
    filter: String,
    order: String,
    keys: Vec<(String, bool)>,
) -> impl IntoView {
    view! {
        <details class="columns">
            <summary>"Columns"</summary>
            <form method="get" action=format!("/runs/experiment/{id}")>
                <input type="hidden" name="filter" value=filter/>
                <input type="hidden" name="order_by" value=order/>
                <fieldset>
                    <legend>"Show these params and metrics"</legend>
                    {keys.into_iter().map(|(k, on)| {
                        let cid = format!("col-{}", k.replace('.', "-"));
                        view! {
                            <label class="check" for=cid.clone()>
                                <input type="checkbox" id=cid.clone() name="col" value=k.clone() checked=on/>
                                {k.clone()}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <button type="submit" class="button">"Show columns"</button>
            </form>
        </details>
    }
}

#[component]
fn RunFilterForm(id: i64, filter: String, order: String) -> impl IntoView {
    view! {
        <Form method="GET" action=format!("/runs/experiment/{id}") attr:class="filters run-filter" attr:aria-label="Filter runs">
            <div class="field wide">
                <label for="run-filter">"Filter"</label>
                <input id="run-filter" name="filter" value=filter placeholder="metrics.auc > 0.8 AND params.max_depth = '6'"/>
            </div>
            <div class="field">
                <label for="run-order">"Order by"</label>
                <input id="run-order" name="order_by" value=order placeholder="metrics.auc DESC"/>
            </div>
            <div class="actions">
                <button type="submit" class="button primary">"Apply"</button>
                <a class="button" href=format!("/runs/experiment/{id}")>"Clear"</a>
            </div>
        </Form>
    }
}
