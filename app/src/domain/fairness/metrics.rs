//! Per-group counts and the metrics computed from them (rates, AUC), and their aggregates
//! across groups.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

    pub(super) fn n(&self) -> f64 {
        self.tp + self.fp + self.tn + self.fn_
    }
}

pub(super) fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// The metrics of one group (or of everyone).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct GroupMetrics {
    /// Weighted count.
    pub count: f64,
    /// Rows of the scored dataset in the group.
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
    /// Share of rows whose prediction equals the label.
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
