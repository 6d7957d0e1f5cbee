//! One run: attributes, params, metrics with charts, tags and dataset inputs.

use crate::components::artifact_browser::ArtifactBrowser;
use crate::components::chart_figure::ChartFigure;
use crate::components::error_view::ErrorView;
use crate::components::error_view::FormError;
use crate::components::run_format::fmt_duration;
use crate::components::url_state::use_query;
use crate::components::when::TimeMs;
use crate::dto::RunDetail;
use crate::server_fns::artifacts::list_run_artifacts;
use crate::server_fns::runs::{get_run_detail, SetBaseline};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// `/runs/run/:run_id`.
#[component]
pub fn RunDetailPage() -> impl IntoView {
    let params = use_params_map();
    let set_baseline = ServerAction::<SetBaseline>::new();
    let detail = Resource::new(
        move || {
            (
                params.read().get("run_id").unwrap_or_default(),
                set_baseline.version().get(),
            )
        },
        |(id, _)| get_run_detail(id),
    );
    view! {
        <Title text="Run"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(d) => view! { <RunBody d=d set_baseline=set_baseline/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The run's page once loaded: its facts, the baseline bar, parameters and latest metrics,
/// metric histories, dataset inputs, files and tags.
#[component]
fn RunBody(
    /// The run with everything its page shows.
    d: RunDetail,
    /// Sets the experiment's baseline (the page reloads the run when it completes).
    set_baseline: ServerAction<SetBaseline>,
) -> impl IntoView {
    let r = d.run.clone();
    let commit = d
        .tags
        .iter()
        .find(|(k, _)| k == "mlflow.source.git.commit")
        .map(|(_, v)| v.clone());
    view! {
        <p class="breadcrumb">
            <a href="/runs">"Runs"</a> " / "
            <a href=format!("/runs/experiment/{}", d.experiment.0)>{d.experiment.1.clone()}</a>
        </p>
        <h1>{r.name.clone()}</h1>
        <dl class="facts">
            <div><dt>"Status"</dt><dd><span class=format!("badge status-{}", r.status.to_lowercase())>{r.status.clone()}</span></dd></div>
            <div><dt>"Author"</dt><dd>{r.user_id.clone()}</dd></div>
            <div><dt>"Started"</dt><dd><TimeMs ms=r.start_time/></dd></div>
            <div><dt>"Ended"</dt><dd><TimeMs ms=r.end_time/></dd></div>
            <div><dt>"Duration"</dt><dd>{fmt_duration(r.start_time, r.end_time)}</dd></div>
            <div><dt>"Source version"</dt><dd><code>{commit.unwrap_or_else(|| "—".into())}</code></dd></div>
            <div><dt>"Run id"</dt><dd><code>{r.run_id.clone()}</code></dd></div>
        </dl>
        <BaselineBar
            run_id=r.run_id.clone()
            baseline=d.baseline.clone()
            can_set=d.can_set_baseline
            action=set_baseline
        />
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
        <RunFiles run_id=r.run_id.clone()/>
        <section aria-labelledby="tags-title">
            <h2 id="tags-title">"Tags"</h2>
            <table class="kv"><tbody>
                {d.tags.into_iter().map(|(k, v)| view! { <tr><th scope="row">{k}</th><td>{v}</td></tr> }).collect_view()}
            </tbody></table>
        </section>
    }
}

/// The run's files (a browser with previews) and the models it logged.
#[component]
fn RunFiles(run_id: String) -> impl IntoView {
    let query = use_query();
    let page = format!("/runs/run/{run_id}");
    let files = Resource::new(
        move || (run_id.clone(), query.read().get("artifact")),
        |(id, artifact)| list_run_artifacts(id, artifact),
    );
    view! {
        <section aria-labelledby="artifacts-title">
            <h2 id="artifacts-title">"Artifacts"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let page = page.clone();
                    Suspend::new(async move {
                        match files.await {
                            Err(e) => view! { <ErrorView error=e/> }.into_any(),
                            Ok(a) => {
                                let models = a.models.clone();
                                view! {
                                    <ArtifactBrowser root=a.root.clone() files=a.files.clone() page=page preview=a.preview.clone()/>
                                    {(!models.is_empty()).then(|| view! {
                                        <h3>"Models logged by this run"</h3>
                                        <div class="table-wrap"><table>
                                            <thead><tr><th scope="col">"Model"</th><th scope="col">"Status"</th><th scope="col">"Digest"</th><th scope="col">"Registered as"</th></tr></thead>
                                            <tbody>{models.into_iter().map(|m| view! {
                                                <tr>
                                                    <td>{m.name.clone()}" "<code class="small">{m.model_id.clone()}</code></td>
                                                    <td>{m.status.trim_start_matches("LOGGED_MODEL_").to_lowercase()}</td>
                                                    <td><code class="digest">{m.digest.clone().unwrap_or_else(|| "not finalized".into())}</code></td>
                                                    <td>{m.versions.iter().map(|(n, v)| {
                                                        let href = crate::domain::url::model_version_href(n, *v);
                                                        view! { <a rel=crate::domain::url::link_rel(&href) href=href>{format!("{n} v{v}")}</a>" " }
                                                    }).collect_view()}</td>
                                                </tr>
                                            }).collect_view()}</tbody>
                                        </table></div>
                                    })}
                                }.into_any()
                            }
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

/// Whether this run is its experiment's baseline, a link to compare with the baseline, and
/// (for scientists) the form that sets or clears it.
#[component]
fn BaselineBar(
    run_id: String,
    baseline: Option<(String, String)>,
    can_set: bool,
    action: ServerAction<SetBaseline>,
) -> AnyView {
    let is_baseline = baseline.as_ref().map(|b| &b.0) == Some(&run_id);
    let status = match &baseline {
        Some(_) if is_baseline => view! {
            <span class="badge baseline">"baseline"</span>
            " This run is the experiment's baseline."
        }
        .into_any(),
        Some((id, name)) => view! {
            "Baseline: " <a href=format!("/runs/run/{id}")>{name.clone()}</a> " · "
            <a href=format!("/runs/compare?run={id}&run={run_id}")>"Compare with the baseline"</a>
        }
        .into_any(),
        None => {
            view! { <span class="muted">"The experiment has no baseline run."</span> }.into_any()
        }
    };
    view! {
        <div class="baseline-bar">
            <p>{status}</p>
            {can_set.then(|| view! {
                <ActionForm action=action attr:class="inline-form">
                    <input type="hidden" name="run_id" value=run_id.clone()/>
                    <input type="hidden" name="baseline" value=if is_baseline { "false" } else { "true" }/>
                    <button type="submit" class="button">{if is_baseline { "Clear baseline" } else { "Set as baseline" }}</button>
                </ActionForm>
            })}
            {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
        </div>
    }
    .into_any()
}
