//! Compare runs, diff-first: what differs comes first, what is equal is folded away.

use crate::api::runs::compare_runs;
use crate::components::chart_figure::ChartFigure;
use crate::components::error_view::ErrorView;
use crate::domain::palette;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/runs/compare?run=…&run=…`.
#[component]
pub fn RunComparePage() -> impl IntoView {
    let query = use_query_map();
    let view_data = Resource::new(
        move || query.read().get_all("run").unwrap_or_default(),
        compare_runs,
    );
    view! {
        <Title text="Compare runs"/>
        <p class="breadcrumb"><a href="/runs">"Runs"</a></p>
        <h1>"Compare runs"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(c) => {
                        let heads = move |runs: &Vec<crate::model::RunRow>| runs.iter().enumerate().map(|(i, r)| view! {
                            <th scope="col">
                                <span class="swatch" style=format!("background:{}", palette::css(i)) aria-hidden="true"></span>
                                <a href=format!("/runs/run/{}", r.run_id)>{r.name.clone()}</a>
                            </th>
                        }).collect_view();
                        let n_identical = c.identical.len();
                        view! {
                            <section aria-labelledby="diff-title">
                                <h2 id="diff-title">"Parameters that differ (" {c.differing.len()} ")"</h2>
                                {if c.differing.is_empty() {
                                    view! { <p class="muted">"All parameters are identical."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap"><table class="compare">
                                            <thead><tr><th scope="col">"Parameter"</th>{heads(&c.runs)}</tr></thead>
                                            <tbody>{c.differing.into_iter().map(|(k, vals)| view! {
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
                                        {c.identical.into_iter().map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v}</td></tr> }).collect_view()}
                                    </tbody></table>
                                </details>
                            </section>
                            <section aria-labelledby="metrics-title">
                                <h2 id="metrics-title">"Metrics"</h2>
                                <p class="muted">"Latest value, with the minimum and maximum of the history below it; ★ marks the best run (lowest for losses and errors, highest otherwise)."</p>
                                <div class="table-wrap"><table class="compare">
                                    <thead><tr><th scope="col">"Metric"</th>{heads(&c.runs)}</tr></thead>
                                    <tbody>{c.metrics.into_iter().map(|m| {
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
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
