//! One run: attributes, params, metrics with charts, tags and dataset inputs.

use crate::api::runs::get_run_detail;
use crate::components::chart_figure::ChartFigure;
use crate::components::error_view::ErrorView;
use crate::components::run_format::{fmt_duration, fmt_ms};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/runs/run/:run_id`.
#[component]
pub fn RunDetailPage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(
        move || params.read().get("run_id").unwrap_or_default(),
        get_run_detail,
    );
    view! {
        <Title text="Run"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(d) => {
                        let r = d.run.clone();
                        let commit = d.tags.iter().find(|(k, _)| k == "mlflow.source.git.commit").map(|(_, v)| v.clone());
                        view! {
                            <p class="breadcrumb">
                                <a href="/runs">"Runs"</a> " / "
                                <a href=format!("/runs/experiment/{}", d.experiment.0)>{d.experiment.1.clone()}</a>
                            </p>
                            <h1>{r.name.clone()}</h1>
                            <dl class="facts">
                                <div><dt>"Status"</dt><dd><span class=format!("badge status-{}", r.status.to_lowercase())>{r.status.clone()}</span></dd></div>
                                <div><dt>"Author"</dt><dd>{r.user_id.clone()}</dd></div>
                                <div><dt>"Started (UTC)"</dt><dd>{fmt_ms(r.start_time)}</dd></div>
                                <div><dt>"Ended (UTC)"</dt><dd>{fmt_ms(r.end_time)}</dd></div>
                                <div><dt>"Duration"</dt><dd>{fmt_duration(r.start_time, r.end_time)}</dd></div>
                                <div><dt>"Source version"</dt><dd><code>{commit.unwrap_or_else(|| "—".into())}</code></dd></div>
                                <div><dt>"Run id"</dt><dd><code>{r.run_id.clone()}</code></dd></div>
                            </dl>
                            <div class="two-col">
                                <section aria-labelledby="params-title">
                                    <h2 id="params-title">"Parameters"</h2>
                                    <table class="kv"><tbody>
                                        {r.params.iter().map(|(k, v)| view! { <tr><th scope="row">{k.clone()}</th><td>{v.clone()}</td></tr> }).collect_view()}
                                    </tbody></table>
                                </section>
                                <section aria-labelledby="metrics-title">
                                    <h2 id="metrics-title">"Metrics (latest)"</h2>
                                    <table class="kv"><tbody>
                                        {r.metrics.iter().map(|(k, v)| view! { <tr><th scope="row">{k.clone()}</th><td class="num">{v.text()}</td></tr> }).collect_view()}
                                    </tbody></table>
                                </section>
                            </div>
                            {(!d.charts.is_empty()).then(|| view! {
                                <section aria-labelledby="charts-title">
                                    <h2 id="charts-title">"Metric histories"</h2>
                                    <div class="charts">
                                        {d.charts.into_iter().map(|chart| view! { <ChartFigure chart=chart/> }).collect_view()}
                                    </div>
                                </section>
                            })}
                            <section aria-labelledby="inputs-title">
                                <h2 id="inputs-title">"Dataset inputs"</h2>
                                {if d.inputs.is_empty() {
                                    view! { <p class="muted">"No dataset inputs were logged."</p> }.into_any()
                                } else {
                                    view! {
                                        <table><thead><tr><th scope="col">"Name"</th><th scope="col">"Digest"</th><th scope="col">"Context"</th><th scope="col">"Source"</th></tr></thead>
                                        <tbody>{d.inputs.into_iter().map(|i| view! {
                                            <tr><td>{i.name}</td><td><code>{i.digest}</code></td><td>{i.context.unwrap_or_default()}</td><td><code class="details">{i.source}</code></td></tr>
                                        }).collect_view()}</tbody></table>
                                    }.into_any()
                                }}
                            </section>
                            <section aria-labelledby="tags-title">
                                <h2 id="tags-title">"Tags"</h2>
                                <table class="kv"><tbody>
                                    {d.tags.into_iter().map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v}</td></tr> }).collect_view()}
                                </tbody></table>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
