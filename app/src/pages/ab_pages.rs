//! The Experiments section: the list of A/B tests with a form for a new one, a test's page
//! (verdict, metrics, forest plot, cumulative lift, health, decision) and its read-only
//! shared view.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::url_state::use_query;
use crate::components::when::Time;
use crate::domain::ab_tests::{Analysis, Comparison, Correction, Decision, MetricRole, Status};
use crate::domain::format::{count, pct};
use crate::dto::AbTestView;
use crate::server_fns::ab_tests::{
    get_ab_test, list_ab_tests, shared_ab_test, CreateAbTest, DecideAbTest, RevokeAbShare,
    SetAbStatus, ShareAbTest, UploadAbResults,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

pub(crate) fn decision_class(d: Decision) -> &'static str {
    match d {
        Decision::Ship => "verdict-ship",
        Decision::RollBack => "verdict-roll-back",
        Decision::KeepRunning => "verdict-keep-running",
        Decision::Invalid => "verdict-invalid",
    }
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Draft => "draft",
        Status::Running => "running",
        Status::Stopped => "stopped",
        Status::Decided => "decided",
    }
}

fn p_text(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

fn mean_text(m: f64, binomial: bool) -> String {
    if binomial {
        format!("{:.2}%", m * 100.0)
    } else if m.abs() >= 100.0 {
        format!("{m:.1}")
    } else {
        format!("{m:.3}")
    }
}

/// `/experiments`: every test with its status, verdict, days and users; a new test.
#[component]
pub fn ExperimentsPage() -> impl IntoView {
    let tests = Resource::new(|| (), |_| list_ab_tests());
    let create = ServerAction::<CreateAbTest>::new();
    view! {
        <Title text="Experiments"/>
        <h1>"Experiments"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tests.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty-state">
                            <h2>"No A/B tests yet"</h2>
                            <p>"Define a test below or through " <code>"POST /api/v1/experiments"</code>
                               ", then send per-variant counts daily."</p>
                        </div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="ab-tests">
                                <thead><tr>
                                    <th scope="col">"Test"</th><th scope="col">"Status"</th><th scope="col">"Verdict"</th>
                                    <th scope="col" class="num">"Days"</th><th scope="col" class="num">"Users"</th><th scope="col">"Owner"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! {
                                        <tr>
                                            <td><a href=format!("/experiments/{}", t.id)>{t.name.clone()}</a></td>
                                            <td><span class=format!("badge ab-status-{}", status_label(t.status))>{status_label(t.status)}</span></td>
                                            <td>{match t.verdict {
                                                Some(d) => view! { <span class=format!("badge {}", decision_class(d)) title=t.sentence.clone().unwrap_or_default()>{d.label()}</span> }.into_any(),
                                                None => view! { <span class="muted">"no data"</span> }.into_any(),
                                            }}</td>
                                            <td class="num">{t.days}</td>
                                            <td class="num">{t.users.map(count).unwrap_or_else(|| "—".into())}</td>
                                            <td>{t.owner.clone()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
        <NewTestForm action=create/>
    }
}

#[component]
fn NewTestForm(action: ServerAction<CreateAbTest>) -> impl IntoView {
    view! {
        <details class="new-test">
            <summary>"New A/B test"</summary>
            <ActionForm action=action attr:class="ab-form">
                <label>"Name" <input name="form[name]" required maxlength="200"/></label>
                <label>"Hypothesis" <textarea name="form[hypothesis]" rows="2"></textarea></label>
                <div class="row">
                    <label>"Status" <select name="form[status]"><option value="running">"running"</option><option value="draft">"draft"</option></select></label>
                    <label>"Start date" <input name="form[start_date]" type="date"/></label>
                    <label>"α" <input name="form[alpha]" value="0.05" inputmode="decimal" size="5"/></label>
                    <label>"Minimum detectable effect (%)" <input name="form[mde]" value="5" inputmode="decimal" size="5"/></label>
                    <label>"Correction" <select name="form[correction]">
                        <option value="holm">"Holm–Bonferroni"</option><option value="bh">"Benjamini–Hochberg"</option><option value="none">"none"</option>
                    </select></label>
                    <label class="check"><input type="checkbox" name="form[sequential]"/>" Sequential testing"</label>
                </div>
                <fieldset>
                    <legend>"Variants (the first is the control)"</legend>
                    {(0..4).map(|i| view! {
                        <div class="row">
                            <label>"Name" <input name=format!("form[variant][{i}]") value=match i { 0 => "control", 1 => "treatment", _ => "" }/></label>
                            <label>"Weight" <input name=format!("form[weight][{i}]") value="50" inputmode="decimal" size="4"/></label>
                            <label>"Model version" <input name=format!("form[model_version][{i}]") placeholder="model@version"/></label>
                        </div>
                    }).collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Metrics"</legend>
                    {(0..4).map(|i| view! {
                        <div class="row">
                            <label>"Name" <input name=format!("form[metric][{i}]")/></label>
                            <label>"Type" <select name=format!("form[kind][{i}]")><option value="binomial">"binomial"</option><option value="continuous">"continuous"</option></select></label>
                            <label>"Better when" <select name=format!("form[direction][{i}]")><option value="increase">"higher"</option><option value="decrease">"lower"</option></select></label>
                            <label>"Role" <select name=format!("form[role][{i}]")><option value="goal">"goal"</option><option value="guardrail">"guardrail"</option></select></label>
                            <label>"Tolerance (%)" <input name=format!("form[tolerance][{i}]") inputmode="decimal" size="4"/></label>
                        </div>
                    }).collect_view()}
                </fieldset>
                <button type="submit" class="button primary">"Create test"</button>
            </ActionForm>
            {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
        </details>
    }
}

/// `/experiments/:id`.
#[component]
pub fn AbTestPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query();
    let upload = ServerAction::<UploadAbResults>::new();
    let decide = ServerAction::<DecideAbTest>::new();
    let status = ServerAction::<SetAbStatus>::new();
    let share = ServerAction::<ShareAbTest>::new();
    let revoke = ServerAction::<RevokeAbShare>::new();
    let test = Resource::new(
        move || {
            (
                params
                    .read()
                    .get("id")
                    .and_then(|i| i.parse::<i64>().ok())
                    .unwrap_or(0),
                query.read().get("correction").unwrap_or_default(),
                (
                    upload.version().get(),
                    decide.version().get(),
                    status.version().get(),
                ),
                (share.version().get(), revoke.version().get()),
            )
        },
        |(id, correction, _, _)| get_ab_test(id, correction),
    );
    view! {
        <Title text="A/B test"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match test.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) => view! {
                        <p class="breadcrumb"><a href="/experiments">"Experiments"</a></p>
                        <TestBody v=v.clone() shared=false/>
                        <Manage v=v upload=upload decide=decide status=status share=share revoke=revoke/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/shared/ab/:token`: the same page, read-only, for people without an account.
#[component]
pub fn SharedAbTestPage() -> impl IntoView {
    let params = use_params_map();
    let test = Resource::new(
        move || params.read().get("token").unwrap_or_default(),
        shared_ab_test,
    );
    view! {
        <Title text="Shared A/B test"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match test.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(v) => view! {
                        <p class="notice">"A read-only copy shared from Gatehouse. It shows the results as they are now."</p>
                        <TestBody v=v shared=true/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TestBody(v: AbTestView, shared: bool) -> impl IntoView {
    let def = v.def.clone();
    let variants = def.variants.clone();
    let current = v
        .analysis
        .as_ref()
        .map(|a| a.correction)
        .unwrap_or(def.correction);
    view! {
        <h1>{def.name.clone()}</h1>
        <dl class="facts">
            <div><dt>"Status"</dt><dd><span class=format!("badge ab-status-{}", status_label(v.status))>{status_label(v.status)}</span></dd></div>
            <div><dt>"Owner"</dt><dd>{def.owner.clone().unwrap_or_default()}</dd></div>
            <div><dt>"Started"</dt><dd>{def.start_date.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div><dt>"Days with data"</dt><dd>{v.days.len()}</dd></div>
            <div><dt>"Variants"</dt><dd>{variants.iter().map(|x| match &x.model_version {
                Some(m) => format!("{} ({m}, weight {})", x.name, x.weight),
                None => format!("{} (weight {})", x.name, x.weight),
            }).collect::<Vec<_>>().join(" · ")}</dd></div>
        </dl>
        {(!def.hypothesis.is_empty()).then(|| view! { <p class="hypothesis"><strong>"Hypothesis: "</strong>{def.hypothesis.clone()}</p> })}
        {match v.analysis.clone() {
            None => view! {
                <div class="verdict verdict-none" role="status">
                    <p class="verdict-label">"No verdict yet"</p>
                    <p>{v.unavailable.clone().unwrap_or_default()}</p>
                </div>
            }.into_any(),
            Some(a) => view! { <Results a=a v=v.clone() current=current shared=shared/> }.into_any(),
        }}
        <Decisions v=v/>
    }
}

#[component]
fn Results(a: Analysis, v: AbTestView, current: Correction, shared: bool) -> impl IntoView {
    let verdict = a.verdict.clone();
    let goals: Vec<_> = a
        .metrics
        .iter()
        .filter(|m| m.role == MetricRole::Goal)
        .cloned()
        .collect();
    let guards: Vec<_> = a
        .metrics
        .iter()
        .filter(|m| m.role == MetricRole::Guardrail)
        .cloned()
        .collect();
    let id = v.id;
    view! {
        <section class=format!("verdict {}", decision_class(verdict.decision)) aria-labelledby="verdict-title" role="status">
            <p class="verdict-label" id="verdict-title">{verdict.decision.label()}</p>
            <p class="verdict-sentence">{verdict.sentence.clone()}</p>
            {(!verdict.warnings.is_empty()).then(|| view! {
                <ul class="warnings">{verdict.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
            })}
            <details class="rules">
                <summary>"How the verdict is reached"</summary>
                <ul>
                    <li><strong>"Invalid"</strong>" while a sample-ratio mismatch (χ² p < 0.001) or fewer than "{count(v.def.min_units)}" units in a variant blocks the reading."</li>
                    <li><strong>"Ship"</strong>" when every goal metric is significantly better and no guardrail is worse beyond its tolerance."</li>
                    <li><strong>"Roll back"</strong>" when any goal is significantly worse or a guardrail is worse beyond its tolerance."</li>
                    <li><strong>"Keep running"</strong>" otherwise, with the units still needed to find the minimum detectable effect ("{pct(a.mde).trim_start_matches('+').to_owned()}")."</li>
                </ul>
            </details>
        </section>
        <section aria-labelledby="settings-title" class="settings">
            <h2 id="settings-title">"Settings used"</h2>
            <p>
                "α = "{a.alpha}" · correction: "<strong>{a.correction.label()}</strong>" · "
                {if a.sequential { "sequential (always-valid confidence sequences)" } else { "fixed horizon" }}
                " · minimum detectable effect "{pct(a.mde).trim_start_matches('+').to_owned()}
            </p>
            {(!shared).then(|| view! {
                <form method="get" class="inline-form correction-form">
                    <label>"Correction "
                        <select name="correction">
                            <option value="holm" selected=current == Correction::Holm>"Holm–Bonferroni"</option>
                            <option value="bh" selected=current == Correction::BenjaminiHochberg>"Benjamini–Hochberg"</option>
                            <option value="none" selected=current == Correction::None>"none"</option>
                        </select>
                    </label>
                    <button type="submit" class="button small">"Apply"</button>
                </form>
                <p class="exports">
                    <a href=format!("/api/v1/experiments/{id}/export.csv") download>"Export CSV"</a>" · "
                    <a href=format!("/api/v1/experiments/{id}") target="_blank">"JSON"</a>
                </p>
            })}
        </section>
        <MetricTable title="Goal metrics" metrics=goals/>
        {(!guards.is_empty()).then(|| view! { <MetricTable title="Guardrails" metrics=guards/> })}
        {v.forest_svg.clone().map(|svg| view! {
            <figure class="chart wide">
                <figcaption>"Relative lift with "{format!("{:.0}%", (1.0 - a.alpha) * 100.0)}" intervals (green better, red worse; dashed: guardrail tolerance)"</figcaption>
                <div class="svg" inner_html=svg role="img" aria-label="Forest plot of the relative lift of every metric"></div>
            </figure>
        })}
        {v.cumulative_svg.clone().map(|svg| view! {
            <figure class="chart wide">
                <figcaption>"Cumulative lift over time: "{v.cumulative_of.clone()}</figcaption>
                <div class="svg" inner_html=svg role="img" aria-label="Cumulative relative lift by day with its interval"></div>
                <details class="values">
                    <summary>"Values"</summary>
                    <table><thead><tr><th scope="col">"Day"</th><th scope="col" class="num">"Lift"</th><th scope="col" class="num">"Low"</th><th scope="col" class="num">"High"</th></tr></thead>
                    <tbody>{v.cumulative.iter().map(|(d, l, lo, hi)| view! {
                        <tr><th scope="row">{d.clone()}</th><td class="num">{pct(*l)}</td><td class="num">{pct(*lo)}</td><td class="num">{pct(*hi)}</td></tr>
                    }).collect_view()}</tbody></table>
                </details>
            </figure>
        })}
        <Health a=a.clone() v=v/>
    }
}

fn cell_class(c: &Comparison) -> &'static str {
    match c.outcome {
        1 => "sig-better",
        -1 => "sig-worse",
        _ => "",
    }
}

#[component]
fn MetricTable(
    title: &'static str,
    metrics: Vec<crate::domain::ab_tests::MetricResult>,
) -> impl IntoView {
    view! {
        <section aria-label=title>
            <h2>{title}</h2>
            <div class="table-wrap">
                <table class="ab-metrics">
                    <thead><tr>
                        <th scope="col">"Metric"</th><th scope="col">"Variant"</th><th scope="col" class="num">"Units"</th>
                        <th scope="col" class="num">"Mean"</th><th scope="col" class="num">"Lift"</th><th scope="col">"Interval"</th>
                        <th scope="col" class="num">"p-value"</th><th scope="col" class="num">"Adjusted p"</th><th scope="col" class="num">"Chance to win"</th>
                        <th scope="col" class="num"><abbr title="Power to find the minimum detectable effect at this sample">"Power"</abbr></th>
                    </tr></thead>
                    <tbody>
                        {metrics.into_iter().map(|m| {
                            let binomial = m.kind == crate::domain::ab_tests::MetricKind::Binomial;
                            let control = m.arms.first().cloned();
                            let rows = m.comparisons.clone();
                            let tolerance = (m.role == MetricRole::Guardrail && m.tolerance > 0.0).then(|| format!(" (tolerance {})", pct(m.tolerance).trim_start_matches('+')));
                            let direction = if m.direction_sign() > 0.0 { "higher is better" } else { "lower is better" };
                            view! {
                                <tr class="control-row">
                                    <th scope="rowgroup" rowspan=(1 + rows.len() + rows.iter().filter(|c| c.cuped.is_some()).count()).to_string()>{m.name.clone()}<br/><span class="muted small">{direction}{tolerance}</span></th>
                                    <td>{control.as_ref().map(|c| c.variant.clone()).unwrap_or_default()}<span class="muted">" (control)"</span></td>
                                    <td class="num">{control.as_ref().map(|c| count(c.units)).unwrap_or_default()}</td>
                                    <td class="num">{control.as_ref().map(|c| mean_text(c.mean, binomial)).unwrap_or_default()}</td>
                                    <td></td><td></td><td></td><td></td><td></td><td></td>
                                </tr>
                                {rows.into_iter().map(|c| {
                                    let class = cell_class(&c);
                                    view! {
                                        <tr>
                                            <td>{c.variant.clone()}{c.implausible.then(|| view! { <span class="badge warn" title="Implausibly large: check the data">"check"</span> })}</td>
                                            <td class="num">{count(c.treatment_units)}</td>
                                            <td class="num">{mean_text(c.treatment_mean, binomial)}</td>
                                            <td class=format!("num {class}")>{pct(c.rel_lift)}</td>
                                            <td class=class>{format!("{} to {}", pct(c.decision_rel_lift_ci[0]), pct(c.decision_rel_lift_ci[1]))}</td>
                                            <td class="num">{p_text(c.decision_p_value)}</td>
                                            <td class=format!("num {class}")>{p_text(c.p_value_adjusted)}{c.significant.then_some(" ✱")}</td>
                                            <td class="num">{format!("{:.1}%", c.chance_to_win * 100.0)}</td>
                                            <td class="num">{format!("{:.0}%", c.power * 100.0)}</td>
                                        </tr>
                                        {c.cuped.clone().map(|cu| view! {
                                            <tr class="cuped-row">
                                                <td colspan="3" class="muted small">{format!("CUPED (θ = {:.3}, variance −{:.0}%)", cu.theta, cu.variance_reduction * 100.0)}</td>
                                                <td class="num">{pct(cu.rel_lift)}</td>
                                                <td>{format!("{} to {}", pct(cu.rel_lift_ci[0]), pct(cu.rel_lift_ci[1]))}</td>
                                                <td class="num">{p_text(cu.p_value)}</td>
                                                <td colspan="3" class="muted small">{format!("unadjusted: {} to {}, p {}", pct(c.rel_lift_ci[0]), pct(c.rel_lift_ci[1]), p_text(c.p_value))}</td>
                                            </tr>
                                        })}
                                    }
                                }).collect_view()}
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="muted small">"✱ significant at α after correction. Intervals and p-values are "
                "CUPED-adjusted where a pre-period covariate was sent, and always-valid under sequential testing."</p>
        </section>
    }
}

#[component]
fn Health(a: Analysis, v: AbTestView) -> impl IntoView {
    let srm = a.srm.clone();
    let names: Vec<String> = v.def.variants.iter().map(|x| x.name.clone()).collect();
    view! {
        <section aria-labelledby="health-title" class="health">
            <h2 id="health-title">"Health"</h2>
            <p class=if srm.detected { "srm bad" } else { "srm ok" }>
                {if srm.detected { "Sample-ratio mismatch: " } else { "Sample ratio as intended: " }}
                {format!("χ² = {:.2}, p = {}", srm.chi2, p_text(srm.p_value))}
            </p>
            <table class="srm-table">
                <thead><tr><th scope="col">"Variant"</th><th scope="col" class="num">"Units"</th><th scope="col" class="num">"Expected"</th><th scope="col" class="num">"Share"</th><th scope="col" class="num">"Intended"</th></tr></thead>
                <tbody>{srm.variants.iter().map(|s| view! {
                    <tr><th scope="row">{s.variant.clone()}</th><td class="num">{count(s.observed)}</td><td class="num">{count(s.expected)}</td>
                    <td class="num">{format!("{:.2}%", 100.0 * s.observed / a.total_units.max(1.0))}</td><td class="num">{format!("{:.2}%", 100.0 * s.weight_share)}</td></tr>
                }).collect_view()}</tbody>
            </table>
            <details class="values">
                <summary>"Units per day per variant"</summary>
                <table><thead><tr><th scope="col">"Day"</th>{names.iter().map(|n| view! { <th scope="col" class="num">{n.clone()}</th> }).collect_view()}</tr></thead>
                <tbody>{v.daily_units.iter().map(|(d, u)| view! {
                    <tr><th scope="row">{d.clone()}</th>{u.iter().map(|x| view! { <td class="num">{count(*x)}</td> }).collect_view()}</tr>
                }).collect_view()}</tbody></table>
            </details>
        </section>
    }
}

#[component]
fn Decisions(v: AbTestView) -> impl IntoView {
    (!v.decisions.is_empty()).then(|| view! {
        <section aria-labelledby="decisions-title">
            <h2 id="decisions-title">"Decisions"</h2>
            <table class="decisions"><thead><tr><th scope="col">"When"</th><th scope="col">"Decision"</th><th scope="col">"By"</th><th scope="col">"Comment"</th><th scope="col">"Verdict then"</th></tr></thead>
            <tbody>{v.decisions.iter().map(|d| view! {
                <tr><td class="nowrap"><Time ts=d.decided_at.clone()/></td><td><strong>{d.decision.replace('_', " ")}</strong></td><td>{d.decided_by.clone()}</td><td>{d.comment.clone()}</td><td class="muted">{d.sentence.clone()}</td></tr>
            }).collect_view()}</tbody></table>
        </section>
    })
}

#[component]
fn Manage(
    v: AbTestView,
    upload: ServerAction<UploadAbResults>,
    decide: ServerAction<DecideAbTest>,
    status: ServerAction<SetAbStatus>,
    share: ServerAction<ShareAbTest>,
    revoke: ServerAction<RevokeAbShare>,
) -> impl IntoView {
    let id = v.id;
    let decided = v.status == Status::Decided;
    let running = v.status == Status::Running;
    let shares = v.shares.clone();
    let fresh_share = v.new_share.clone();
    let (can_decide, can_manage) = (v.can_decide, v.can_manage);
    view! {
        {can_decide.then(|| view! {
            <section aria-labelledby="decide-title" class="decide">
                <h2 id="decide-title">"Record the decision"</h2>
                <ActionForm action=decide attr:class="ab-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <fieldset class="row">
                        <legend>"Decision"</legend>
                        <label class="check"><input type="radio" name="decision" value="ship" required/>" Ship"</label>
                        <label class="check"><input type="radio" name="decision" value="roll_back"/>" Roll back"</label>
                        <label class="check"><input type="radio" name="decision" value="extend"/>" Extend"</label>
                    </fieldset>
                    <label>"Comment" <textarea name="comment" rows="2" required></textarea></label>
                    <button type="submit" class="button primary">"Record decision"</button>
                </ActionForm>
                {move || decide.value().get().and_then(|r| r.err()).map(|e| view! { <FormError error=e/> })}
            </section>
        })}
        {can_manage.then(move || view! {
            <section aria-labelledby="data-title" class="manage">
                <h2 id="data-title">"Results and sharing"</h2>
                <ActionForm action=upload attr:class="ab-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Paste results as CSV ("<code>"day,metric,variant,units,conversions,n,sum,sum_squares,sum_x,sum_x2,sum_xy"</code>"; an empty metric is the units assigned)"
                        <textarea name="csv" rows="5" required placeholder="day,metric,variant,units,conversions\n2026-11-20,checkout,control,1000,100"></textarea>
                    </label>
                    <label class="check"><input type="checkbox" name="cumulative"/>" Rows are running totals"</label>
                    <button type="submit" class="button">"Add results"</button>
                </ActionForm>
                {move || upload.value().get().map(|r| match r {
                    Ok(n) => view! { <p class="notice" role="status">{format!("{n} rows stored.")}</p> }.into_any(),
                    Err(e) => view! { <FormError error=e/> }.into_any(),
                })}
                {(!decided).then(|| view! {
                    <ActionForm action=status attr:class="inline-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <input type="hidden" name="status" value=if running { "stopped" } else { "running" }/>
                        <button type="submit" class="button">{if running { "Stop the test" } else { "Start the test" }}</button>
                    </ActionForm>
                })}
                <ActionForm action=share attr:class="inline-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Share read-only for " <input name="days" value="7" size="3" inputmode="numeric"/> " days"</label>
                    <button type="submit" class="button">"Create share link"</button>
                </ActionForm>
                {move || match share.value().get() {
                    Some(Err(e)) => Some(view! { <FormError error=e/> }.into_any()),
                    Some(Ok(url)) => Some(view! { <p class="notice" role="status">"Share link (shown once): "<a class="share-url" href=url.clone()>{url.clone()}</a></p> }.into_any()),
                    None => fresh_share.clone().map(|url| view! { <p class="notice" role="status">"Share link (shown once): "<a class="share-url" href=url.clone()>{url.clone()}</a></p> }.into_any()),
                }}
                {(!shares.is_empty()).then(move || view! {
                    <table class="shares"><thead><tr><th scope="col">"Link"</th><th scope="col">"Created"</th><th scope="col">"Expires"</th><th scope="col">"State"</th></tr></thead>
                    <tbody>{shares.into_iter().map(|l| {
                        let live = l.revoked_at.is_none();
                        view! {
                            <tr><td>{format!("#{}", l.id)}" by "{l.created_by.clone()}</td><td class="nowrap"><Time ts=l.created_at.clone()/></td><td class="nowrap"><Time ts=l.expires_at.clone()/></td>
                            <td>{if live {
                                view! {
                                    <ActionForm action=revoke attr:class="inline-form">
                                        <input type="hidden" name="id" value=id.to_string()/>
                                        <input type="hidden" name="link" value=l.id.to_string()/>
                                        <button type="submit" class="button small danger">"Revoke"</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! { <span class="muted">"revoked"</span> }.into_any()
                            }}</td></tr>
                        }
                    }).collect_view()}</tbody></table>
                })}
            </section>
        })}
    }
}
