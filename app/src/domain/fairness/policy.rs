//! The fairness policy: rules over metric ratios to the reference group, and their checks.

use super::err;
use super::METRICS;
use crate::domain::FieldError;
use serde::{Deserialize, Serialize};

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
    /// The thresholds to check, each on one metric.
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
