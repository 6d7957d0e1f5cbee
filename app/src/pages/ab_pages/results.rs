//! A test's results: the verdict, the metric table with its forest plot, cumulative lift and
//! the health checks (sample ratio, data days).

use super::{decision_class, mean_text, p_text};
use crate::domain::ab_tests::{Analysis, Comparison, Correction, MetricRole};
use crate::domain::format::{count, pct};
use crate::dto::AbTestView;
use leptos::prelude::*;

#[component]
pub(super) fn Results(
    a: Analysis,
    v: AbTestView,
    current: Correction,
    shared: bool,
) -> impl IntoView {
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
