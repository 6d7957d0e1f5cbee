//! Fairness reports: per-group confusion counts streamed from prediction rows, the metrics and
//! disparities Fairlearn computes, a policy verdict, bootstrap intervals and small-group
//! warnings.
//!
//! Per group g (weighted when sample weights are given) the counts are TP, FP, TN, FN and
//! n = TP + FP + TN + FN. With "positive" meaning label 1 and "selected" prediction 1:
//!
//! - base rate = (TP + FN)/n; selection rate = (TP + FP)/n; accuracy = (TP + TN)/n;
//! - TPR = TP/(TP + FN), FNR = FN/(TP + FN), FPR = FP/(FP + TN), TNR = TN/(FP + TN);
//! - precision (PPV) = TP/(TP + FP), FDR = FP/(TP + FP), NPV = TN/(TN + FN),
//!   FOR = FN/(TN + FN).
//!
//! A ratio with a zero denominator is 0 (Fairlearn's and scikit-learn's `zero_division=0`).
//! ROC AUC per group comes from score histograms at a resolution of 1e-4 (scores rounded to
//! four decimals; constant memory whatever the file size), computed as the probability that a
//! positive outscores a negative, ties counting half (the Mann–Whitney form of
//! `sklearn.metrics.roc_auc_score`).
//!
//! Aggregates over the groups of one attribute, as `fairlearn.metrics`:
//! demographic parity difference = max − min of selection rates, ratio = min/max; equal
//! opportunity difference and ratio the same over TPR; equalized odds difference = the larger
//! of the TPR and FPR differences, ratio = the smaller of their ratios (`agg="worst_case"`).
//!
//! Disparity of a group = its metric against the reference group's, as a ratio and a
//! difference. The policy's default is the four-fifths rule on the favourable-outcome rate
//! (pass when 0.8 ≤ ratio ≤ 1.25, as Aequitas); when prediction 1 is the adverse outcome the
//! favourable rate is 1 − selection rate.
//!
//! Intervals: a seeded bootstrap that redraws each group's confusion counts from a
//! multinomial with the observed proportions (as successive exact binomial splits),
//! recomputes the disparity, and takes the 2.5 % and 97.5 % quantiles.

use crate::domain::{FieldError, Invalid};
use rand_distr::{Binomial, Distribution};
use rand_pcg::rand_core::SeedableRng;
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(test)]
mod tests;

/// Score histogram resolution (bins per unit score).
const SCORE_BINS: f64 = 10_000.0;

/// Weighted confusion counts of one group, with score histograms when scores are given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Rows seen (unweighted).
    pub rows: u64,
    /// True positives.
    pub tp: f64,
    /// False positives.
    pub fp: f64,
    /// True negatives.
    pub tn: f64,
    /// False negatives.
    pub fn_: f64,
    /// Weighted positives and negatives per score bin.
    pub scores: BTreeMap<i64, (f64, f64)>,
}

impl Counts {
    /// Adds one row.
    pub fn add(&mut self, label: bool, predicted: bool, weight: f64, score: Option<f64>) {
        self.rows += 1;
        match (label, predicted) {
            (true, true) => self.tp += weight,
            (false, true) => self.fp += weight,
            (false, false) => self.tn += weight,
            (true, false) => self.fn_ += weight,
        }
        if let Some(s) = score {
            let e = self
                .scores
                .entry((s * SCORE_BINS).round() as i64)
                .or_default();
            if label {
                e.0 += weight;
            } else {
                e.1 += weight;
            }
        }
    }

    fn n(&self) -> f64 {
        self.tp + self.fp + self.tn + self.fn_
    }
}

fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// The metrics of one group (or of everyone).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// Weighted count.
    pub count: f64,
    /// Rows.
    pub rows: u64,
    /// Share with label 1.
    pub base_rate: f64,
    /// Share predicted 1.
    pub selection_rate: f64,
    /// Share given the favourable outcome.
    pub favorable_rate: f64,
    /// TPR (recall).
    pub true_positive_rate: f64,
    /// FPR.
    pub false_positive_rate: f64,
    /// FNR.
    pub false_negative_rate: f64,
    /// TNR.
    pub true_negative_rate: f64,
    /// PPV.
    pub precision: f64,
    /// NPV.
    pub negative_predictive_value: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// FDR.
    pub false_discovery_rate: f64,
    /// FOR.
    pub false_omission_rate: f64,
    /// ROC AUC, when scores were given and both classes occur.
    pub roc_auc: Option<f64>,
}

/// Metric names, in display order, as they appear in reports and policies.
pub const METRICS: [&str; 13] = [
    "base_rate",
    "selection_rate",
    "favorable_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "precision",
    "negative_predictive_value",
    "accuracy",
    "false_discovery_rate",
    "false_omission_rate",
    "roc_auc",
];

impl GroupMetrics {
    /// From counts; `favorable_is_one` says whether prediction 1 is the favourable outcome.
    pub fn of(c: &Counts, favorable_is_one: bool) -> GroupMetrics {
        let n = c.n();
        let selection = div(c.tp + c.fp, n);
        GroupMetrics {
            count: n,
            rows: c.rows,
            base_rate: div(c.tp + c.fn_, n),
            selection_rate: selection,
            favorable_rate: if favorable_is_one {
                selection
            } else if n > 0.0 {
                1.0 - selection
            } else {
                0.0
            },
            true_positive_rate: div(c.tp, c.tp + c.fn_),
            false_positive_rate: div(c.fp, c.fp + c.tn),
            false_negative_rate: div(c.fn_, c.tp + c.fn_),
            true_negative_rate: div(c.tn, c.fp + c.tn),
            precision: div(c.tp, c.tp + c.fp),
            negative_predictive_value: div(c.tn, c.tn + c.fn_),
            accuracy: div(c.tp + c.tn, n),
            false_discovery_rate: div(c.fp, c.tp + c.fp),
            false_omission_rate: div(c.fn_, c.tn + c.fn_),
            roc_auc: auc(&c.scores),
        }
    }

    /// A metric by name.
    pub fn get(&self, metric: &str) -> Option<f64> {
        Some(match metric {
            "base_rate" => self.base_rate,
            "selection_rate" => self.selection_rate,
            "favorable_rate" => self.favorable_rate,
            "true_positive_rate" => self.true_positive_rate,
            "false_positive_rate" => self.false_positive_rate,
            "false_negative_rate" => self.false_negative_rate,
            "true_negative_rate" => self.true_negative_rate,
            "precision" => self.precision,
            "negative_predictive_value" => self.negative_predictive_value,
            "accuracy" => self.accuracy,
            "false_discovery_rate" => self.false_discovery_rate,
            "false_omission_rate" => self.false_omission_rate,
            "roc_auc" => return self.roc_auc,
            _ => return None,
        })
    }
}

/// ROC AUC from per-bin (positive, negative) weights: P(score₊ > score₋) + ½ P(equal).
fn auc(bins: &BTreeMap<i64, (f64, f64)>) -> Option<f64> {
    let (pos, neg) = bins
        .values()
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let mut below = 0.0; // negatives with a lower score so far
    let mut sum = 0.0;
    for (p, n) in bins.values() {
        sum += p * (below + 0.5 * n);
        below += n;
    }
    Some(sum / (pos * neg))
}

/// Fairlearn's aggregates over an attribute's groups.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Aggregates {
    /// max − min selection rate.
    pub demographic_parity_difference: f64,
    /// min / max selection rate.
    pub demographic_parity_ratio: f64,
    /// Worst of the TPR and FPR differences.
    pub equalized_odds_difference: f64,
    /// Worst of the TPR and FPR ratios.
    pub equalized_odds_ratio: f64,
    /// max − min TPR.
    pub equal_opportunity_difference: f64,
    /// min / max TPR.
    pub equal_opportunity_ratio: f64,
}

fn spread(values: &[f64]) -> (f64, f64) {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    if values.is_empty() {
        return (0.0, 1.0);
    }
    (max - min, if max == 0.0 { 1.0 } else { min / max })
}

impl Aggregates {
    /// Over these groups' metrics.
    pub fn of<'a>(groups: impl Iterator<Item = &'a GroupMetrics> + Clone) -> Aggregates {
        let sel: Vec<f64> = groups.clone().map(|g| g.selection_rate).collect();
        let tpr: Vec<f64> = groups.clone().map(|g| g.true_positive_rate).collect();
        let fpr: Vec<f64> = groups.map(|g| g.false_positive_rate).collect();
        let (dpd, dpr) = spread(&sel);
        let (tprd, tprr) = spread(&tpr);
        let (fprd, fprr) = spread(&fpr);
        Aggregates {
            demographic_parity_difference: dpd,
            demographic_parity_ratio: dpr,
            equalized_odds_difference: tprd.max(fprd),
            equalized_odds_ratio: tprr.min(fprr),
            equal_opportunity_difference: tprd,
            equal_opportunity_ratio: tprr,
        }
    }
}

/// One rule of a fairness policy: a metric's ratio to the reference group must lie in
/// `[min_ratio, max_ratio]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Rule {
    /// Metric name (see [`METRICS`]).
    pub metric: String,
    /// Lowest passing ratio.
    pub min_ratio: f64,
    /// Highest passing ratio.
    pub max_ratio: f64,
}

/// The rules in force and the smallest group a verdict means much for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Policy {
    /// Rules.
    pub rules: Vec<Rule>,
    /// Groups with fewer rows get a warning.
    pub min_group_rows: u64,
}

impl Default for Policy {
    /// The four-fifths rule on the favourable-outcome rate, as Aequitas applies it.
    fn default() -> Self {
        Policy {
            rules: vec![Rule {
                metric: "favorable_rate".into(),
                min_ratio: 0.8,
                max_ratio: 1.25,
            }],
            min_group_rows: 30,
        }
    }
}

/// A group's standing on one rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Disparity {
    /// Metric.
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
pub struct GroupReport {
    /// Metrics.
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
pub struct DisparateImpact {
    /// Reference group.
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
pub struct AttributeReport {
    /// Reference group.
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

/// Per-attribute (and intersectional) counts gathered from rows.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Everyone.
    pub overall: Counts,
    /// attribute → group → counts.
    pub groups: BTreeMap<String, BTreeMap<String, Counts>>,
    /// "a × b" groups, when asked.
    pub intersectional: Option<BTreeMap<String, Counts>>,
}

impl Tally {
    /// Adds a row with its groups (one per attribute, in attribute order).
    pub fn add(
        &mut self,
        attributes: &[String],
        groups: &[&str],
        label: bool,
        predicted: bool,
        weight: f64,
        score: Option<f64>,
    ) {
        self.overall.add(label, predicted, weight, score);
        for (a, g) in attributes.iter().zip(groups) {
            let by = self.groups.entry(a.clone()).or_default();
            match by.get_mut(*g) {
                Some(c) => c.add(label, predicted, weight, score),
                None => {
                    let mut c = Counts::default();
                    c.add(label, predicted, weight, score);
                    by.insert((*g).to_owned(), c);
                }
            }
        }
        if let (Some(map), [a, b, ..]) = (self.intersectional.as_mut(), groups) {
            map.entry(format!("{a} & {b}"))
                .or_default()
                .add(label, predicted, weight, score);
        }
    }
}

/// The bootstrap's random source: PCG (64-bit state MCG, `rand_pcg`), seeded from the report's
/// seed, so a report is reproducible from its settings; binomial draws are exact (`rand_distr`'s
/// BTPE sampler).
struct Rng(Pcg64Mcg);

impl Rng {
    fn seeded(seed: u64) -> Self {
        Rng(Pcg64Mcg::seed_from_u64(seed))
    }

    /// Binomial(n, p), with n the rounded count (weighted tallies may carry fractions).
    fn binomial(&mut self, n: f64, p: f64) -> f64 {
        if n < 0.5 || p.is_nan() || p <= 0.0 {
            return 0.0;
        }
        let trials = n.round() as u64;
        match Binomial::new(trials, p.min(1.0)) {
            Ok(d) => d.sample(&mut self.0) as f64,
            Err(_) => 0.0,
        }
    }

    /// Redraws confusion counts of the same total from their observed proportions.
    fn resample(&mut self, c: &Counts) -> Counts {
        let n = c.n().round();
        let total = c.n();
        if total <= 0.0 {
            return c.clone();
        }
        let mut left = n;
        let mut mass = 1.0;
        let mut draw = |share: f64, rng: &mut Rng| {
            let p = if mass > 0.0 {
                (share / mass).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let k = rng.binomial(left, p);
            left -= k;
            mass -= share;
            k
        };
        let tp = draw(c.tp / total, self);
        let fp = draw(c.fp / total, self);
        let tn = draw(c.tn / total, self);
        Counts {
            rows: c.rows,
            tp,
            fp,
            tn,
            fn_: left,
            scores: BTreeMap::new(),
        }
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Settings of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Prediction 1 is favourable.
    pub favorable_is_one: bool,
    /// Reference group per attribute (the largest group when absent).
    pub reference: BTreeMap<String, String>,
    /// Policy.
    pub policy: Policy,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Bootstrap seed.
    pub seed: u64,
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
fn attribute_report(
    groups: &BTreeMap<String, Counts>,
    reference: Option<&String>,
    s: &Settings,
    rng: &mut Rng,
    attr: &str,
) -> Result<AttributeReport, Invalid> {
    let reference = match reference {
        Some(r) => {
            if !groups.contains_key(r) {
                return Err(
                    format!("reference group '{r}' of attribute '{attr}' has no rows").into(),
                );
            }
            r.clone()
        }
        None => groups
            .iter()
            .max_by(|a, b| a.1.n().total_cmp(&b.1.n()).then(b.0.cmp(a.0)))
            .map(|(g, _)| g.clone())
            .ok_or_else(|| format!("attribute '{attr}' has no groups"))?,
    };
    let metrics: BTreeMap<String, GroupMetrics> = groups
        .iter()
        .map(|(g, c)| (g.clone(), GroupMetrics::of(c, s.favorable_is_one)))
        .collect();
    let ref_m = &metrics[&reference];
    let ref_c = &groups[&reference];
    let mut out = BTreeMap::new();
    for (g, m) in &metrics {
        // Bootstrap: both groups redrawn, every metric's disparity recomputed from the same
        // draws (the reference against itself stays exactly 1 and 0).
        let mut draws: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        if g != &reference {
            for _ in 0..s.resamples {
                let a = GroupMetrics::of(&rng.resample(&groups[g]), s.favorable_is_one);
                let b = GroupMetrics::of(&rng.resample(ref_c), s.favorable_is_one);
                for k in METRICS.iter().filter(|k| **k != "roc_auc") {
                    let (av, bv) = (a.get(k).unwrap_or(0.0), b.get(k).unwrap_or(0.0));
                    let e = draws.entry(k).or_default();
                    e.0.push(div(av, bv));
                    e.1.push(av - bv);
                }
            }
        }
        for (ratios, diffs) in draws.values_mut() {
            ratios.sort_by(f64::total_cmp);
            diffs.sort_by(f64::total_cmp);
        }
        let ci = |metric: &str, point: [f64; 2]| match draws.get(metric) {
            Some((r, d)) if !r.is_empty() => (
                [quantile(r, 0.025), quantile(r, 0.975)],
                [quantile(d, 0.025), quantile(d, 0.975)],
            ),
            _ => ([point[0], point[0]], [point[1], point[1]]),
        };
        let vs_reference = METRICS
            .iter()
            .filter_map(|k| {
                let (v, r) = (m.get(k)?, ref_m.get(k)?);
                let point = [div(v, r), v - r];
                let (ratio_ci, difference_ci) = ci(k, point);
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
            let (ratio_ci, difference_ci) = ci(&rule.metric, [ratio, v - r]);
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
        out.insert(
            g.clone(),
            GroupReport {
                metrics: m.clone(),
                vs_reference,
                disparities,
                warning,
                pass,
            },
        );
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

/// Which columns mean what.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// Label column (0/1).
    pub label: String,
    /// Prediction column (0/1), or
    #[serde(default)]
    pub prediction: Option<String>,
    /// a score column with a threshold (selected when score ≥ threshold); a score beside a
    /// prediction column gives ROC AUC only.
    #[serde(default)]
    pub score: Option<String>,
    /// Decision threshold for the score.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Sensitive-attribute columns.
    pub attributes: Vec<String>,
    /// Sample-weight column.
    #[serde(default)]
    pub weight: Option<String>,
    /// Also report the cross product of the first two attributes.
    #[serde(default)]
    pub intersectional: bool,
}

fn err(field: &str, row: Option<u64>, message: String) -> FieldError {
    FieldError::on_row(field, row, message)
}

/// Column positions after checking a mapping against a header.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    label: (usize, String),
    prediction: Option<(usize, String)>,
    score: Option<(usize, String, f64)>,
    attributes: Vec<(usize, String)>,
    weight: Option<(usize, String)>,
    width: usize,
}

impl Mapping {
    /// Checks the mapping against the file's header.
    #[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
    pub fn resolve(&self, header: &[&str]) -> Result<Columns, FieldError> {
        let find = |setting: &str, name: &str| -> Result<(usize, String), FieldError> {
            header
                .iter()
                .position(|h| h.trim() == name)
                .map(|i| (i, name.to_owned()))
                .ok_or_else(|| {
                    err(
                        setting,
                        Some(1),
                        format!(
                            "column '{name}' ({setting}) is not in the header: {}",
                            header.join(", ")
                        ),
                    )
                })
        };
        if self.label.trim().is_empty() {
            return Err(err("label", None, "name the label column".into()));
        }
        let label = find("label", &self.label)?;
        let (prediction, score) =
            match (&self.prediction, &self.score, self.threshold) {
                (Some(p), None, None) => (Some(find("prediction", p)?), None),
                (None, Some(s), Some(t)) if t.is_finite() => (
                    None,
                    Some({
                        let (i, n) = find("score", s)?;
                        (i, n, t)
                    }),
                ),
                (None, Some(_), _) => {
                    return Err(err(
                        "threshold",
                        None,
                        "a score column needs a finite threshold".into(),
                    ))
                }
                (None, None, Some(_)) => {
                    return Err(err(
                        "threshold",
                        None,
                        "a threshold needs a score column".into(),
                    ))
                }
                // A score beside the prediction is used for ROC AUC only.
                (Some(p), Some(sc), None) => (
                    Some(find("prediction", p)?),
                    Some({
                        let (i, n) = find("score", sc)?;
                        (i, n, f64::NAN)
                    }),
                ),
                (Some(_), Some(_), Some(_)) => return Err(err(
                    "threshold",
                    None,
                    "a threshold applies to a score column; with a prediction column leave it out"
                        .into(),
                )),
                (Some(_), None, Some(_)) => {
                    return Err(err(
                        "threshold",
                        None,
                        "a threshold needs a score column, not a prediction column".into(),
                    ))
                }
                (None, None, None) => {
                    return Err(err(
                        "prediction",
                        None,
                        "name a prediction column, or a score column and a threshold".into(),
                    ))
                }
            };
        if self.attributes.is_empty() {
            return Err(err(
                "attributes",
                None,
                "name at least one sensitive-attribute column".into(),
            ));
        }
        let attributes = self
            .attributes
            .iter()
            .map(|a| find("attributes", a))
            .collect::<Result<Vec<_>, _>>()?;
        if self.intersectional && attributes.len() < 2 {
            return Err(err(
                "intersectional",
                None,
                "intersectional groups need two attributes".into(),
            ));
        }
        let weight = self
            .weight
            .as_ref()
            .map(|w| find("weight", w))
            .transpose()?;
        Ok(Columns {
            label,
            prediction,
            score,
            attributes,
            weight,
            width: header.len(),
        })
    }
}

fn binary(v: &str, column: &str, line: u64) -> Result<bool, FieldError> {
    match v.trim() {
        "1" | "1.0" | "true" | "True" | "TRUE" => Ok(true),
        "0" | "0.0" | "false" | "False" | "FALSE" => Ok(false),
        other => Err(err(
            column,
            Some(line),
            format!("line {line}, column '{column}': '{other}' is not 0 or 1"),
        )),
    }
}

impl Columns {
    /// The attribute names, in order.
    pub fn attribute_names(&self) -> Vec<String> {
        self.attributes.iter().map(|(_, n)| n.clone()).collect()
    }

    /// Adds one data row (`line` is its line number in the file) to the tally.
    pub fn add_row(
        &self,
        t: &mut Tally,
        names: &[String],
        line: u64,
        fields: &[&str],
    ) -> Result<(), FieldError> {
        if fields.len() != self.width {
            return Err(err(
                "row",
                Some(line),
                format!(
                    "line {line}: {} fields, the header has {}",
                    fields.len(),
                    self.width
                ),
            ));
        }
        let label = binary(fields[self.label.0], &self.label.1, line)?;
        let score = match &self.score {
            None => None,
            Some((i, name, _)) => Some(
                fields[*i]
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        err(
                            name,
                            Some(line),
                            format!(
                                "line {line}, column '{name}': '{}' is not a number",
                                fields[*i]
                            ),
                        )
                    })?,
            ),
        };
        let predicted = match (&self.prediction, &self.score, score) {
            (Some((i, name)), _, _) => binary(fields[*i], name, line)?,
            (None, Some((_, _, threshold)), Some(s)) => s >= *threshold,
            _ => return Err(err("prediction", None, "no prediction column".into())),
        };
        let weight = match &self.weight {
            None => 1.0,
            Some((i, name)) => fields[*i]
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|w| w.is_finite() && *w >= 0.0)
                .ok_or_else(|| {
                    err(
                        name,
                        Some(line),
                        format!(
                            "line {line}, column '{name}': '{}' is not a non-negative weight",
                            fields[*i]
                        ),
                    )
                })?,
        };
        let groups: Vec<&str> = self
            .attributes
            .iter()
            .map(|(i, _)| {
                let g = fields[*i].trim();
                if g.is_empty() {
                    "(blank)"
                } else {
                    g
                }
            })
            .collect();
        t.add(names, &groups, label, predicted, weight, score);
        Ok(())
    }
}

/// The header and first `rows` rows of the start of a CSV file (for the upload form's column
/// mapping), and a guess at the label, prediction, score and attribute columns by name.
pub fn preview(text: &str, rows: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let mut records = super::csv::records(text, true)
        .into_iter()
        .map(|r| r.fields);
    let header = records.next().unwrap_or_default();
    // The last line of a slice may be cut short: keep only whole-looking rows.
    let body: Vec<Vec<String>> = records
        .filter(|f| f.len() == header.len())
        .take(rows)
        .collect();
    (header, body)
}

/// The column a header most likely means for `role` (label, prediction, score).
pub fn guess_column(header: &[String], role: &str) -> Option<String> {
    let names: &[&str] = match role {
        "label" => &["label", "y", "target", "y_true", "actual", "outcome"],
        "prediction" => &["prediction", "pred", "y_pred", "predicted", "decision"],
        "score" => &["score", "probability", "proba", "y_score"],
        _ => &[],
    };
    names
        .iter()
        .find_map(|n| header.iter().find(|h| h.eq_ignore_ascii_case(n)).cloned())
}

impl Policy {
    /// Checks the rules: known metrics, 0 < min ≤ 1 ≤ max; at least one rule.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.rules.is_empty() {
            return Err(err(
                "rules",
                None,
                "a policy needs at least one rule".into(),
            ));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if !METRICS.contains(&r.metric.as_str()) {
                return Err(err(
                    &format!("rules[{i}].metric"),
                    None,
                    format!(
                        "unknown metric '{}' (one of {})",
                        r.metric,
                        METRICS.join(", ")
                    ),
                ));
            }
            if !(r.min_ratio > 0.0
                && r.min_ratio <= 1.0
                && r.max_ratio >= 1.0
                && r.max_ratio.is_finite())
            {
                return Err(err(
                    &format!("rules[{i}]"),
                    None,
                    format!("rule {i}: the band must hold 1, with 0 < min_ratio ≤ 1 ≤ max_ratio"),
                ));
            }
        }
        Ok(())
    }
}
