//! An experiment's runs: filter with MLflow's grammar, sort by any column, select runs to compare.
//! Driven by the query string and plain forms, so it works the same without JavaScript.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::run_format::fmt_duration;
use crate::components::url_state::use_query;
use crate::components::when::TimeMs;
use crate::domain::url::query_string;
use crate::dto::RunsPage;
use crate::error::AppError;
use crate::server_fns::runs::experiment_runs;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_params_map;

/// `/runs/experiment/:id`.
#[component]
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
                        let links = Links { id, filter, order, cols };
                        view! { <RunsBody p=p links=links offset=offset/> }.into_any()
                    }
                }
            })}}
        </Transition>
    }
}

/// What every link of the page keeps: the experiment, the filter, the sort and the chosen
/// columns.
#[derive(Clone, Debug, PartialEq)]
struct Links {
    id: i64,
    filter: String,
    order: String,
    cols: Vec<String>,
}

impl Links {
    /// This page with the filter and columns kept, and `extra` pairs.
    fn href(&self, extra: Vec<(String, String)>) -> String {
        let mut pairs = vec![];
        if !self.filter.is_empty() {
            pairs.push(("filter".to_string(), self.filter.clone()));
        }
        pairs.extend(self.cols.iter().map(|c| ("col".to_string(), c.clone())));
        pairs.extend(extra);
        format!("/runs/experiment/{}?{}", self.id, query_string(&pairs))
    }

    /// Sorting by `key`: ascending, or descending when already sorted ascending by it.
    fn sort(&self, key: String) -> String {
        let desc = format!("{key} DESC");
        let next = if self.order == key { desc } else { key };
        self.href(vec![("order_by".into(), next)])
    }

    /// The arrow beside a column sorted by `key`.
    fn mark(&self, key: &str) -> &'static str {
        if self.order == key {
            " ▲"
        } else if self.order == format!("{key} DESC") {
            " ▼"
        } else {
            ""
        }
    }

    /// The page of runs starting at `offset`, in the same order.
    fn page(&self, offset: i64) -> String {
        self.href(vec![
            ("order_by".into(), self.order.clone()),
            ("offset".into(), offset.to_string()),
        ])
    }

    /// Whether column `key` of kind `prefix` (`params`, `metrics`) is shown.
    fn shown(&self, prefix: &str, key: &str) -> bool {
        self.cols.is_empty() || self.cols.contains(&format!("{prefix}.{key}"))
    }
}

/// A page of runs once loaded: the filter and column forms, the table with a checkbox per run
/// to compare, and the pager.
#[component]
fn RunsBody(
    /// The page of runs.
    p: RunsPage,
    /// The filter, sort and columns every link keeps.
    links: Links,
    /// Where this page starts in the matching runs.
    offset: i64,
) -> impl IntoView {
    let older = p.next_offset.map(|o| links.page(o));
    let newer = (offset > 0).then(|| links.page((offset - 50).max(0)));
    let all_keys: Vec<(String, bool)> = p
        .param_keys
        .iter()
        .map(|k| (format!("params.{k}"), links.shown("params", k)))
        .chain(
            p.metric_keys
                .iter()
                .map(|k| (format!("metrics.{k}"), links.shown("metrics", k))),
        )
        .collect();
    let (id, filter, order) = (links.id, links.filter.clone(), links.order.clone());
    view! {
        <h1>{p.experiment.name.clone()}</h1>
        {p.experiment.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
        <RunFilterForm id=id filter=filter.clone() order=order.clone()/>
        <ColumnChooser id=id filter=filter order=order keys=all_keys/>
        {if p.runs.is_empty() {
            view! { <p class="muted">"No runs match this filter."</p> }.into_any()
        } else {
            view! {
                <form method="get" action="/runs/compare" class="compare-form">
                    <div class="toolbar">
                        <button type="submit" class="button primary">"Compare selected"</button>
                        <span class="muted">"Select two to eight runs."</span>
                    </div>
                    <RunsTable p=p links=links/>
                </form>
                <nav class="pager" aria-label="Pages">
                    {newer.map(|h| view! { <a href=h>"← Previous"</a> })}
                    {older.map(|h| view! { <a href=h rel="next">"Next →"</a> })}
                </nav>
            }.into_any()
        }}
    }
}

/// The runs as a table: a checkbox, name, status, times, and the shown params and metrics,
/// each column header a sort link.
#[component]
fn RunsTable(
    /// The page of runs.
    p: RunsPage,
    /// The filter, sort and columns every link keeps.
    links: Links,
) -> impl IntoView {
    let baseline = p.baseline.clone();
    let pk: Vec<String> = p
        .param_keys
        .iter()
        .filter(|k| links.shown("params", k))
        .cloned()
        .collect();
    let mk: Vec<String> = p
        .metric_keys
        .iter()
        .filter(|k| links.shown("metrics", k))
        .cloned()
        .collect();
    let sorted = |key: String, label: String| {
        let mark = links.mark(&key);
        view! { <a href=links.sort(key.clone())>{label}{mark}</a> }
    };
    view! {
        <div class="table-wrap">
            <table class="runs">
                <thead>
                    <tr>
                        <th scope="col"><span class="visually-hidden">"Select"</span></th>
                        <th scope="col">{sorted("attributes.run_name".into(), "Run".into())}</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">{sorted("attributes.start_time".into(), "Started".into())}</th>
                        <th scope="col">"Duration"</th>
                        {pk.iter().map(|k| view! { <th scope="col" class="param">{sorted(format!("params.{k}"), k.clone())}</th> }).collect_view()}
                        {mk.iter().map(|k| view! { <th scope="col" class="metric">{sorted(format!("metrics.{k}"), k.clone())}</th> }).collect_view()}
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
