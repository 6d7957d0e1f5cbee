//! The Fairness section: reports (with the upload form) and a report's page.

use crate::components::error_view::ErrorView;
use crate::components::url_state::use_query;
use crate::components::when::Time;
use crate::domain::fairness::AttributeReport;
use crate::dto::{FairnessSummary, FairnessView};
use crate::server_fns::fairness::{get_fairness_report, list_fairness_reports};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

mod upload_form;
use upload_form::UploadForm;

fn subject(s: &FairnessSummary) -> String {
    s.model_version
        .clone()
        .or_else(|| s.run_id.as_ref().map(|r| format!("run {r}")))
        .unwrap_or_default()
}

fn verdict_badge(v: &str) -> impl IntoView {
    let class = if v == "pass" {
        "badge verdict-ship"
    } else {
        "badge verdict-roll-back"
    };
    view! { <span class=class>{if v == "pass" { "Pass" } else { "Fail" }}</span> }
}

/// `/fairness`.
#[component]
pub fn FairnessPage() -> impl IntoView {
    let query = use_query();
    let reports = Resource::new(|| (), |_| list_fairness_reports());
    view! {
        <Title text="Fairness"/>
        <h1>"Fairness"</h1>
        {move || query.read().get("error").map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match reports.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok((list, can_upload)) => view! {
                        {if list.is_empty() {
                            view! {
                                <div class="empty-state">
                                    <h2>"No fairness reports yet"</h2>
                                    <p>"Upload a prediction file for a model version: a label column, a prediction (or a score and a threshold) and the sensitive attributes."</p>
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <div class="table-wrap"><table class="fairness-reports">
                                    <thead><tr><th scope="col">"Model"</th><th scope="col">"Dataset"</th><th scope="col">"Verdict"</th>
                                        <th scope="col" class="num">"Rows"</th><th scope="col">"Uploaded (UTC)"</th><th scope="col">"By"</th></tr></thead>
                                    <tbody>{list.into_iter().map(|r| view! {
                                        <tr>
                                            <td><a href=format!("/fairness/{}", r.id)>{subject(&r)}</a></td>
                                            <td>{r.dataset.clone()}</td>
                                            <td title=r.sentence.clone()>{verdict_badge(&r.verdict)}</td>
                                            <td class="num">{crate::domain::format::count(r.rows as f64)}</td>
                                            <td class="nowrap"><Time ts=r.created_at.clone()/></td>
                                            <td>{r.created_by.clone()}</td>
                                        </tr>
                                    }).collect_view()}</tbody>
                                </table></div>
                            }.into_any()
                        }}
                        {can_upload.then(|| view! { <UploadForm/> })}
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/fairness/:id`.
#[component]
pub fn FairnessReportPage() -> impl IntoView {
    let params = use_params_map();
    let report = Resource::new(
        move || {
            params
                .read()
                .get("id")
                .and_then(|i| i.parse::<i64>().ok())
                .unwrap_or(0)
        },
        get_fairness_report,
    );
    view! {
        <Title text="Fairness report"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) => view! { <ReportBody v=v/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ReportBody(v: FairnessView) -> impl IntoView {
    let s = v.summary.clone();
    let r = v.report.clone();
    let pass = r.verdict == "pass";
    let charts = v.charts.clone();
    let attrs: Vec<(String, AttributeReport)> = r
        .by_attribute
        .clone()
        .into_iter()
        .chain(
            r.intersectional
                .clone()
                .map(|x| ("intersectional".to_owned(), x)),
        )
        .collect();
    view! {
        <p class="breadcrumb"><a href="/fairness">"Fairness"</a></p>
        <h1>{subject(&s)}" on "{s.dataset.clone()}</h1>
        <section class=if pass { "verdict verdict-ship" } else { "verdict verdict-roll-back" } role="status">
            <p class="verdict-label">{if pass { "Pass" } else { "Fail" }}</p>
            <p class="verdict-sentence">{r.sentence.clone()}</p>
        </section>
        <dl class="facts">
            <div><dt>"Rows"</dt><dd>{crate::domain::format::count(s.rows as f64)}</dd></div>
            <div><dt>"Favourable prediction"</dt><dd>{if r.favorable == 1 { "1" } else { "0 (prediction 1 is adverse; the rule applies to 1 − selection rate)" }}</dd></div>
            <div><dt>"Policy"</dt><dd>{r.policy.rules.iter().map(|x| format!("{} ratio {:.2}–{:.2}", x.metric.replace('_', " "), x.min_ratio, x.max_ratio)).collect::<Vec<_>>().join("; ")}
                {format!("; groups under {} rows are flagged", r.policy.min_group_rows)}</dd></div>
            <div><dt>"Uploaded"</dt><dd><Time ts=s.created_at.clone()/>" by "{s.created_by.clone()}</dd></div>
            <div><dt>"File SHA-256"</dt><dd><code>{s.file_sha256.clone()}</code></dd></div>
            <div><dt>"Export"</dt><dd><a href=format!("/api/v1/fairness/reports/{}/export.csv", s.id) download>"CSV"</a>" · "<a href=format!("/api/v1/fairness/reports/{}", s.id) target="_blank">"JSON"</a></dd></div>
        </dl>
        {v.previous.clone().map(|p| view! {
            <p class="notice">"Compared with "<a href=format!("/fairness/{}", p.id)>{subject(&p)}</a>" on "{p.dataset.clone()}": "
                {verdict_badge(&p.verdict)}" "{p.sentence.clone()}</p>
        })}
        {attrs.into_iter().map(|(a, ar)| {
            let chart = charts.iter().find(|(n, _)| *n == a).map(|(_, svg)| svg.clone());
            view! { <AttributeSection name=a report=ar chart=chart/> }
        }).collect_view()}
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

#[component]
fn AttributeSection(name: String, report: AttributeReport, chart: Option<String>) -> impl IntoView {
    let reference = report.reference_group.clone();
    let title = if name == "intersectional" {
        "Intersectional groups".to_owned()
    } else {
        format!("By {name}")
    };
    let agg = report.aggregates.clone();
    view! {
        <section aria-label=title.clone() class="fairness-attribute">
            <h2>{title.clone()}{report.pass.then_some(" — pass")}{(!report.pass).then_some(" — fail")}</h2>
            <div class="table-wrap"><table class="fairness-groups">
                <thead><tr>
                    <th scope="col">"Group"</th><th scope="col" class="num">"Rows"</th><th scope="col">"Metric"</th><th scope="col" class="num">"Value"</th>
                    <th scope="col" class="num">"Ratio to reference"</th><th scope="col">"95% interval"</th><th scope="col">"Allowed"</th><th scope="col">"Result"</th>
                </tr></thead>
                <tbody>{report.groups.iter().flat_map(|(g, gr)| {
                    let is_ref = *g == reference;
                    let warning = gr.warning.clone();
                    gr.disparities.iter().map(move |d| view! {
                        <tr class=if d.pass { "" } else { "fails" }>
                            <th scope="row">{g.clone()}{is_ref.then(|| view! { <span class="muted">" (reference)"</span> })}
                                {warning.clone().map(|w| view! { <br/><span class="badge warn" title=w.clone()>"small group"</span><span class="muted small">" "{w}</span> })}</th>
                            <td class="num">{gr.metrics.rows}</td>
                            <td>{d.metric.replace('_', " ")}</td>
                            <td class="num">{pct(d.value)}</td>
                            <td class="num">{format!("{:.2}", d.ratio_vs_reference)}</td>
                            <td>{format!("{:.2} to {:.2}", d.ratio_ci[0], d.ratio_ci[1])}</td>
                            <td>{format!("{:.2}–{:.2}", d.threshold[0], d.threshold[1])}</td>
                            <td>{if d.pass { view! { <span class="badge verdict-ship">"pass"</span> }.into_any() } else { view! { <span class="badge verdict-roll-back">"fail"</span> }.into_any() }}</td>
                        </tr>
                    }).collect::<Vec<_>>()
                }).collect_view()}</tbody>
            </table></div>
            {chart.map(|svg| view! {
                <figure class="chart wide">
                    <figcaption>"Per group (reference dark, the band is what the policy allows)"</figcaption>
                    <div class="svg" inner_html=svg role="img" aria-label=format!("Bar chart of the policy metric by {name}")></div>
                </figure>
            })}
            <details class="values">
                <summary>"All metrics by group"</summary>
                <div class="table-wrap"><table>
                    <thead><tr><th scope="col">"Group"</th><th scope="col" class="num">"Base rate"</th><th scope="col" class="num">"Selection"</th>
                        <th scope="col" class="num">"TPR"</th><th scope="col" class="num">"FPR"</th><th scope="col" class="num">"FNR"</th>
                        <th scope="col" class="num">"Precision"</th><th scope="col" class="num">"NPV"</th><th scope="col" class="num">"Accuracy"</th><th scope="col" class="num">"ROC AUC"</th></tr></thead>
                    <tbody>{report.groups.iter().map(|(g, gr)| { let m = &gr.metrics; view! {
                        <tr><th scope="row">{g.clone()}</th><td class="num">{pct(m.base_rate)}</td><td class="num">{pct(m.selection_rate)}</td>
                        <td class="num">{pct(m.true_positive_rate)}</td><td class="num">{pct(m.false_positive_rate)}</td><td class="num">{pct(m.false_negative_rate)}</td>
                        <td class="num">{pct(m.precision)}</td><td class="num">{pct(m.negative_predictive_value)}</td><td class="num">{pct(m.accuracy)}</td>
                        <td class="num">{m.roc_auc.map(|a| format!("{a:.3}")).unwrap_or_else(|| "—".into())}</td></tr>
                    }}).collect_view()}</tbody>
                </table></div>
                <p class="muted small">{format!(
                    "Demographic parity difference {:.3}, ratio {:.3}; equalized odds difference {:.3}, ratio {:.3}; equal opportunity difference {:.3}, ratio {:.3}.",
                    agg.demographic_parity_difference, agg.demographic_parity_ratio, agg.equalized_odds_difference,
                    agg.equalized_odds_ratio, agg.equal_opportunity_difference, agg.equal_opportunity_ratio
                )}</p>
            </details>
        </section>
    }
}
