//! Compare runs, diff-first: what differs comes first, what is equal is folded away.

use crate::components::chart_figure::ChartFigure;
use crate::components::error_view::ErrorView;
use crate::components::url_state::use_query;
use crate::domain::palette;
use crate::domain::url::query_string;
use crate::dto::{CompareView, Figure, MetricComparison, RunRow};
use crate::server_fns::runs::compare_runs;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;

/// `/runs/compare?run=…&run=…`.
#[component]
pub fn RunComparePage() -> impl IntoView {
    let query = use_query();
    let view_data = Resource::new(
        move || {
            let q = query.read();
            (
                q.get_all("run").unwrap_or_default(),
                q.get("pc_metric"),
                q.get("scatter_x"),
                q.get("scatter_y"),
            )
        },
        |(runs, pc, x, y)| compare_runs(runs, pc, x, y),
    );
    view! {
        <Title text="Compare runs"/>
        <p class="breadcrumb"><a href="/runs">"Runs"</a></p>
        <h1>"Compare runs"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(c) => view! { <CompareBody c=c/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The comparison once loaded: the baseline offer, the parameters that differ (the equal
/// ones folded), the metrics, their histories and the explore figures.
#[component]
fn CompareBody(
    /// The runs compared, with everything the page shows of them.
    c: CompareView,
) -> impl IntoView {
    let add_baseline = c.missing_baseline.clone().map(|(id, name)| {
        let mut pairs = vec![("run".to_string(), id)];
        pairs.extend(c.runs.iter().map(|r| ("run".to_string(), r.run_id.clone())));
        view! {
            <p class="baseline-bar">
                <a class="button" href=format!("/runs/compare?{}", query_string(&pairs))>"Add the baseline run (" {name} ")"</a>
            </p>
        }
    });
    let metric_keys: Vec<String> = c.metrics.iter().map(|m| m.key.clone()).collect();
    let run_ids: Vec<String> = c.runs.iter().map(|r| r.run_id.clone()).collect();
    view! {
        {add_baseline}
        <ParamsDiff runs=c.runs.clone() baselines=c.baselines.clone() differing=c.differing identical=c.identical/>
        <MetricsTable runs=c.runs.clone() baselines=c.baselines metrics=c.metrics/>
        {(!c.charts.is_empty()).then(|| view! {
            <section aria-labelledby="hist-title">
                <h2 id="hist-title">"Histories"</h2>
                <ul class="legend">
                    {c.runs.iter().enumerate().map(|(i, r)| view! {
                        <li><span class="swatch" style=format!("background:{}", palette::css(i)) aria-hidden="true"></span>{r.name.clone()}</li>
                    }).collect_view()}
                </ul>
                <div class="charts">
                    {c.charts.into_iter().map(|chart| view! { <ChartFigure chart=chart/> }).collect_view()}
                </div>
            </section>
        })}
        <ExploreSection
            run_ids=run_ids
            metric_keys=metric_keys
            param_keys=c.param_keys
            parallel_metric=c.parallel_metric.unwrap_or_default()
            scatter_param=c.scatter_param.unwrap_or_default()
            scatter_metric=c.scatter_metric.unwrap_or_default()
            parallel=c.parallel
            scatter=c.scatter
        />
    }
}

/// One column header per run: its colour, its name as a link, and a baseline badge.
fn run_heads(runs: &[RunRow], baselines: &[String]) -> impl IntoView {
    runs.iter().enumerate().map(|(i, r)| view! {
        <th scope="col">
            <span class="swatch" style=format!("background:{}", palette::css(i)) aria-hidden="true"></span>
            <a href=format!("/runs/run/{}", r.run_id)>{r.name.clone()}</a>
            {baselines.contains(&r.run_id).then(|| view! { " " <span class="badge baseline">"baseline"</span> })}
        </th>
    }).collect_view()
}

/// The parameters that differ between the runs, and the identical ones folded away.
#[component]
fn ParamsDiff(
    /// The runs, in column order.
    runs: Vec<RunRow>,
    /// The ids of the runs that are their experiment's baseline.
    baselines: Vec<String>,
    /// Each differing parameter with its value per run (`None`: not set).
    differing: Vec<(String, Vec<Option<String>>)>,
    /// The parameters every run sets to the same value.
    identical: Vec<(String, String)>,
) -> impl IntoView {
    let n_identical = identical.len();
    view! {
        <section aria-labelledby="diff-title">
            <h2 id="diff-title">"Parameters that differ (" {differing.len()} ")"</h2>
            {if differing.is_empty() {
                view! { <p class="muted">"All parameters are identical."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table class="compare">
                        <thead><tr><th scope="col">"Parameter"</th>{run_heads(&runs, &baselines)}</tr></thead>
                        <tbody>{differing.into_iter().map(|(k, vals)| view! {
                            <tr><th scope="row">{k}</th>{vals.into_iter().map(|v| match v {
                                Some(v) => view! { <td>{v}</td> }.into_any(),
                                None => view! { <td class="muted">"not set"</td> }.into_any(),
                            }).collect_view()}</tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
            <details class="identical">
                <summary>"Show identical params (" {n_identical} ")"</summary>
                <table class="kv"><tbody>
                    {identical.into_iter().map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v}</td></tr> }).collect_view()}
                </tbody></table>
            </details>
        </section>
    }
}

/// Each metric's latest value per run with its history's range, the best run starred.
#[component]
fn MetricsTable(
    /// The runs, in column order.
    runs: Vec<RunRow>,
    /// The ids of the runs that are their experiment's baseline.
    baselines: Vec<String>,
    /// The metrics with a cell per run.
    metrics: Vec<MetricComparison>,
) -> impl IntoView {
    view! {
        <section aria-labelledby="metrics-title">
            <h2 id="metrics-title">"Metrics"</h2>
            <p class="muted">"Latest value, with the minimum and maximum of the history below it; ★ marks the best run (lowest for losses and errors, highest otherwise)."</p>
            <div class="table-wrap"><table class="compare">
                <thead><tr><th scope="col">"Metric"</th>{run_heads(&runs, &baselines)}</tr></thead>
                <tbody>{metrics.into_iter().map(|m| {
                    let best = m.best;
                    view! {
                        <tr>
                            <th scope="row">{m.key.clone()}<span class="muted">{if m.higher_is_better { " ↑" } else { " ↓" }}</span></th>
                            {m.cells.into_iter().enumerate().map(|(i, cell)| match cell {
                                None => view! { <td class="muted">"—"</td> }.into_any(),
                                Some((last, lo, hi)) => {
                                    let is_best = best == Some(i);
                                    view! {
                                        <td class=if is_best { "num best" } else { "num" }>
                                            {is_best.then(|| view! { <span class="visually-hidden">"best: "</span><span aria-hidden="true">"★ "</span> })}
                                            {last.text()}
                                            {(lo != hi).then(|| view! { <div class="range">{lo.text()} " – " {hi.text()}</div> })}
                                        </td>
                                    }.into_any()
                                }
                            }).collect_view()}
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table></div>
        </section>
    }
}

/// Parallel coordinates and the scatter, with a GET form choosing their metric and param.
#[component]
#[allow(clippy::too_many_arguments)]
fn ExploreSection(
    run_ids: Vec<String>,
    metric_keys: Vec<String>,
    param_keys: Vec<String>,
    parallel_metric: String,
    scatter_param: String,
    scatter_metric: String,
    parallel: Option<Figure>,
    scatter: Option<Figure>,
) -> AnyView {
    if metric_keys.is_empty() && param_keys.is_empty() {
        return ().into_any();
    }
    let options = |keys: &Vec<String>, chosen: &String| {
        keys.iter()
            .map(|k| view! { <option value=k.clone() selected=k == chosen>{k.clone()}</option> })
            .collect_view()
    };
    view! {
        <section aria-labelledby="explore-title">
            <h2 id="explore-title">"Params against metrics"</h2>
            <Form method="GET" action="/runs/compare" attr:class="filters chart-controls" attr:aria-label="Choose chart axes">
                {run_ids.into_iter().map(|id| view! { <input type="hidden" name="run" value=id/> }).collect_view()}
                <div class="field">
                    <label for="pc-metric">"Metric axis"</label>
                    <select id="pc-metric" name="pc_metric">{options(&metric_keys, &parallel_metric)}</select>
                </div>
                <div class="field">
                    <label for="scatter-x">"Scatter: param"</label>
                    <select id="scatter-x" name="scatter_x">{options(&param_keys, &scatter_param)}</select>
                </div>
                <div class="field">
                    <label for="scatter-y">"Scatter: metric"</label>
                    <select id="scatter-y" name="scatter_y">{options(&metric_keys, &scatter_metric)}</select>
                </div>
                <div class="actions"><button type="submit" class="button">"Update charts"</button></div>
            </Form>
            <div class="charts">
                {match parallel {
                    Some(f) => view! { <FigureView figure=f wide=true/> }.into_any(),
                    None => view! { <p class="muted">"No parallel-coordinates chart: it needs a differing param and a metric with a finite value."</p> }.into_any(),
                }}
                {match scatter {
                    Some(f) => view! { <FigureView figure=f wide=false/> }.into_any(),
                    None => view! { <p class="muted">"No scatter: no selected run has both the param and a finite value of the metric."</p> }.into_any(),
                }}
            </div>
        </section>
    }
    .into_any()
}

/// A chart across runs with its exact values (run × axis) behind a toggle; a wide one spans
/// the whole row.
#[component]
fn FigureView(figure: Figure, wide: bool) -> AnyView {
    let Figure {
        title,
        description,
        svg,
        columns,
        rows,
        note,
    } = figure;
    view! {
        <figure class=if wide { "chart wide" } else { "chart" }>
            <figcaption>{title.clone()}</figcaption>
            <div class="svg" inner_html=svg role="img" aria-label=description></div>
            {note.map(|n| view! { <p class="muted">{n}</p> })}
            <details class="values">
                <summary>"Values of " {title}</summary>
                <div class="table-wrap">
                    <table>
                        <thead><tr>{columns.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {rows.into_iter().enumerate().map(|(i, row)| {
                                let mut cells = row.into_iter();
                                let name = cells.next().unwrap_or_default();
                                view! {
                                    <tr>
                                        <th scope="row"><span class="swatch" style=format!("background:{}", palette::css(i)) aria-hidden="true"></span>{name}</th>
                                        {cells.map(|v| view! { <td>{v}</td> }).collect_view()}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </details>
        </figure>
    }
    .into_any()
}
