//! The report: per-group metrics with bootstrap intervals, disparities against the policy,
//! disparate impact and the verdict per attribute.

use super::div;
use super::quantile;
use super::Aggregates;
use super::Counts;
use super::GroupMetrics;
use super::Policy;
use super::Rng;
use super::Tally;
use super::METRICS;
use crate::domain::Invalid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A group's standing on one rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Disparity {
    /// The metric compared, for example `selection_rate`.
    pub metric: String,
    /// The group's value.
    pub value: f64,
    /// The reference group's value.
    pub reference_value: f64,
    /// value / reference (0 when the reference is 0).
    pub ratio_vs_reference: f64,
    /// value − reference.
    pub difference_vs_reference: f64,
    /// Bootstrap interval of the ratio.
    pub ratio_ci: [f64; 2],
    /// Bootstrap interval of the difference.
    pub difference_ci: [f64; 2],
    /// The rule's bounds.
    pub threshold: [f64; 2],
    /// Within the bounds.
    pub pass: bool,
}

/// A metric of a group against the reference group's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Versus {
    /// value / reference (0 when the reference is 0).
    pub ratio: f64,
    /// value − reference.
    pub difference: f64,
    /// Bootstrap interval of the ratio (none for ROC AUC: the counts do not carry scores).
    pub ratio_ci: [f64; 2],
    /// Bootstrap interval of the difference.
    pub difference_ci: [f64; 2],
}

/// One group of an attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct GroupReport {
    /// The group's rates, counts and their intervals.
    #[serde(flatten)]
    pub metrics: GroupMetrics,
    /// Every metric against the reference, with bootstrap intervals.
    pub vs_reference: BTreeMap<String, Versus>,
    /// The policy's rules applied to this group.
    pub disparities: Vec<Disparity>,
    /// Too few rows for the verdict to mean much (why).
    pub warning: Option<String>,
    /// Passes every rule.
    pub pass: bool,
}

/// The disparate-impact view of an attribute (the first rule's metric).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DisparateImpact {
    /// The group ratios are taken against: the configured one, else the largest.
    pub reference_group: String,
    /// Metric compared.
    pub metric: String,
    /// Per group: the ratio and whether it passes.
    pub groups: BTreeMap<String, ImpactGroup>,
    /// Every group passes.
    pub verdict: String,
}

/// A group in the disparate-impact view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ImpactGroup {
    /// Ratio to the reference group.
    pub ratio_vs_reference: f64,
    /// Bootstrap interval.
    pub ratio_ci: [f64; 2],
    /// pass or fail.
    pub verdict: String,
}

/// One sensitive attribute's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AttributeReport {
    /// The group ratios are taken against: the configured one, else the largest.
    pub reference_group: String,
    /// Groups, by name.
    pub groups: BTreeMap<String, GroupReport>,
    /// Fairlearn's aggregates.
    pub aggregates: Aggregates,
    /// The first rule, Aequitas-style.
    pub disparate_impact: DisparateImpact,
    /// Every group passes every rule.
    pub pass: bool,
}

/// A whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Report {
    /// Everyone.
    pub overall: GroupMetrics,
    /// Per attribute.
    pub by_attribute: BTreeMap<String, AttributeReport>,
    /// Cross product of the first two attributes, when asked.
    pub intersectional: Option<AttributeReport>,
    /// Whether prediction 1 is the favourable outcome.
    pub favorable: u8,
    /// Policy in force.
    pub policy: Policy,
    /// pass or fail overall.
    pub verdict: String,
    /// One sentence.
    pub sentence: String,
    /// Bootstrap resamples and seed.
    pub bootstrap: (u32, u64),
}

/// Settings of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Prediction 1 is favourable.
    pub favorable_is_one: bool,
    /// Reference group per attribute (the largest group when absent).
    pub reference: BTreeMap<String, String>,
    /// The thresholds a report must meet to pass.
    pub policy: Policy,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Bootstrap seed.
    pub seed: u64,
}

/// An attribute's report: each group against the reference group (the one named, else the
/// largest), with bootstrap intervals, the policy's disparities and the disparate-impact
/// summary over the policy's first rule.
fn attribute_report(
    groups: &BTreeMap<String, Counts>,
    reference: Option<&String>,
    s: &Settings,
    rng: &mut Rng,
    attr: &str,
) -> Result<AttributeReport, Invalid> {
    let reference = reference_group(groups, reference, attr)?;
    let metrics: BTreeMap<String, GroupMetrics> = groups
        .iter()
        .map(|(g, c)| (g.clone(), GroupMetrics::of(c, s.favorable_is_one)))
        .collect();
    let ref_m = &metrics[&reference];
    let ref_c = &groups[&reference];
    let mut out = BTreeMap::new();
    for (g, m) in &metrics {
        // The reference against itself is not redrawn: it stays exactly 1 and 0.
        let draws = if g == &reference {
            Draws::new()
        } else {
            bootstrap(rng, &groups[g], ref_c, s)
        };
        out.insert(g.clone(), group_report(m, ref_m, &draws, s));
    }
    let first = s
        .policy
        .rules
        .first()
        .map(|r| r.metric.clone())
        .unwrap_or_else(|| "favorable_rate".into());
    let impact_groups: BTreeMap<String, ImpactGroup> = out
        .iter()
        .filter_map(|(g, r)| {
            let d = r.disparities.iter().find(|d| d.metric == first)?;
            Some((
                g.clone(),
                ImpactGroup {
                    ratio_vs_reference: d.ratio_vs_reference,
                    ratio_ci: d.ratio_ci,
                    verdict: if d.pass { "pass" } else { "fail" }.into(),
                },
            ))
        })
        .collect();
    let di_pass = impact_groups.values().all(|g| g.verdict == "pass");
    let pass = out.values().all(|g| g.pass);
    Ok(AttributeReport {
        reference_group: reference.clone(),
        aggregates: Aggregates::of(metrics.values()),
        groups: out,
        disparate_impact: DisparateImpact {
            reference_group: reference,
            metric: first,
            groups: impact_groups,
            verdict: if di_pass { "pass" } else { "fail" }.into(),
        },
        pass,
    })
}

/// The reference group: the one named (it must have rows), else the largest by weight (the
/// first by name among equals).
fn reference_group(
    groups: &BTreeMap<String, Counts>,
    reference: Option<&String>,
    attr: &str,
) -> Result<String, Invalid> {
    match reference {
        Some(r) if groups.contains_key(r) => Ok(r.clone()),
        Some(r) => Err(format!("reference group '{r}' of attribute '{attr}' has no rows").into()),
        None => Ok(groups
            .iter()
            .max_by(|a, b| a.1.n().total_cmp(&b.1.n()).then(b.0.cmp(a.0)))
            .map(|(g, _)| g.clone())
            .ok_or_else(|| format!("attribute '{attr}' has no groups"))?),
    }
}

/// Per metric, the sorted bootstrap ratios and differences of a group against the reference.
type Draws = BTreeMap<&'static str, (Vec<f64>, Vec<f64>)>;

/// Both groups redrawn `s.resamples` times, every metric's disparity recomputed from the same
/// draws (ROC AUC has no bootstrap).
fn bootstrap(rng: &mut Rng, group: &Counts, reference: &Counts, s: &Settings) -> Draws {
    let mut draws = Draws::new();
    for _ in 0..s.resamples {
        let a = GroupMetrics::of(&rng.resample(group), s.favorable_is_one);
        let b = GroupMetrics::of(&rng.resample(reference), s.favorable_is_one);
        for k in METRICS.iter().filter(|k| **k != "roc_auc") {
            let (av, bv) = (a.get(k).unwrap_or(0.0), b.get(k).unwrap_or(0.0));
            let e = draws.entry(k).or_default();
            e.0.push(div(av, bv));
            e.1.push(av - bv);
        }
    }
    for (ratios, diffs) in draws.values_mut() {
        ratios.sort_by(f64::total_cmp);
        diffs.sort_by(f64::total_cmp);
    }
    draws
}

/// The 95% intervals of `metric`'s ratio and difference; the point itself without draws.
fn interval(draws: &Draws, metric: &str, point: [f64; 2]) -> ([f64; 2], [f64; 2]) {
    match draws.get(metric) {
        Some((r, d)) if !r.is_empty() => (
            [quantile(r, 0.025), quantile(r, 0.975)],
            [quantile(d, 0.025), quantile(d, 0.975)],
        ),
        _ => ([point[0], point[0]], [point[1], point[1]]),
    }
}

/// One group against the reference: every metric's ratio and difference, each policy rule's
/// disparity and pass, and a warning for a small group.
fn group_report(
    m: &GroupMetrics,
    ref_m: &GroupMetrics,
    draws: &Draws,
    s: &Settings,
) -> GroupReport {
    let vs_reference = METRICS
        .iter()
        .filter_map(|k| {
            let (v, r) = (m.get(k)?, ref_m.get(k)?);
            let point = [div(v, r), v - r];
            let (ratio_ci, difference_ci) = interval(draws, k, point);
            Some((
                (*k).to_owned(),
                Versus {
                    ratio: point[0],
                    difference: point[1],
                    ratio_ci,
                    difference_ci,
                },
            ))
        })
        .collect();
    let mut disparities = Vec::new();
    for rule in &s.policy.rules {
        let (Some(v), Some(r)) = (m.get(&rule.metric), ref_m.get(&rule.metric)) else {
            continue;
        };
        let ratio = div(v, r);
        let (ratio_ci, difference_ci) = interval(draws, &rule.metric, [ratio, v - r]);
        disparities.push(Disparity {
            metric: rule.metric.clone(),
            value: v,
            reference_value: r,
            ratio_vs_reference: ratio,
            difference_vs_reference: v - r,
            ratio_ci,
            difference_ci,
            threshold: [rule.min_ratio, rule.max_ratio],
            pass: ratio >= rule.min_ratio && ratio <= rule.max_ratio,
        });
    }
    let warning = (m.rows < s.policy.min_group_rows).then(|| {
        format!(
            "only {} rows (fewer than {}): its rates, and the verdict, can move a lot with a few rows",
            m.rows, s.policy.min_group_rows
        )
    });
    let pass = disparities.iter().all(|d| d.pass);
    GroupReport {
        metrics: m.clone(),
        vs_reference,
        disparities,
        warning,
        pass,
    }
}

/// The report of a tally.
pub fn report(t: &Tally, s: &Settings) -> Result<Report, Invalid> {
    if t.overall.rows == 0 {
        return Err("the file has no data rows".into());
    }
    let mut rng = Rng::seeded(s.seed);
    let mut by_attribute = BTreeMap::new();
    for (a, groups) in &t.groups {
        by_attribute.insert(
            a.clone(),
            attribute_report(groups, s.reference.get(a), s, &mut rng, a)?,
        );
    }
    let intersectional = match &t.intersectional {
        Some(g) if !g.is_empty() => Some(attribute_report(g, None, s, &mut rng, "intersectional")?),
        _ => None,
    };
    let inter_name = "intersectional".to_owned();
    let all: Vec<(&String, &AttributeReport)> = by_attribute
        .iter()
        .chain(intersectional.as_ref().map(|r| (&inter_name, r)))
        .collect();
    let failing: Vec<String> = all
        .iter()
        .flat_map(|(a, r)| {
            r.groups
                .iter()
                .filter(|(_, g)| !g.pass)
                .flat_map(move |(g, gr)| {
                    gr.disparities.iter().filter(|d| !d.pass).map(move |d| {
                        format!(
                            "{a} = {g}: {} ratio {:.2} vs '{}' (allowed {:.2}–{:.2})",
                            d.metric,
                            d.ratio_vs_reference,
                            r.reference_group,
                            d.threshold[0],
                            d.threshold[1]
                        )
                    })
                })
        })
        .collect();
    let pass = failing.is_empty();
    let sentence = if pass {
        format!(
            "Pass: every group is within the policy ({}) across {} attribute{}.",
            s.policy
                .rules
                .iter()
                .map(|r| format!("{} ratio {:.2}–{:.2}", r.metric, r.min_ratio, r.max_ratio))
                .collect::<Vec<_>>()
                .join("; "),
            by_attribute.len(),
            if by_attribute.len() == 1 { "" } else { "s" }
        )
    } else {
        format!("Fail: {}.", failing.join("; "))
    };
    Ok(Report {
        overall: GroupMetrics::of(&t.overall, s.favorable_is_one),
        by_attribute,
        intersectional,
        favorable: if s.favorable_is_one { 1 } else { 0 },
        policy: s.policy.clone(),
        verdict: if pass { "pass" } else { "fail" }.into(),
        sentence,
        bootstrap: (s.resamples, s.seed),
    })
}
