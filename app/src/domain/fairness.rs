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

mod bootstrap;
mod export;
mod mapping;
mod metrics;
mod policy;
mod report;

use bootstrap::{quantile, Rng};
pub use export::*;
pub use mapping::*;
pub use metrics::*;
pub use policy::*;
pub use report::*;

#[cfg(test)]
mod tests;
