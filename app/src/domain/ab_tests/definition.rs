//! An A/B test's definition as clients send it, validated before anything is stored, and the
//! step from a definition and its totals to an analysis request.

use super::validate::bad;
use super::{
    AnalysisRequest, Correction, DataRow, Direction, MetricKind, MetricRole, MetricSpec,
    VariantSpec,
};
use crate::domain::FieldError;
use serde::{Deserialize, Serialize};

/// Lifecycle of an experiment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being set up.
    #[default]
    Draft,
    /// Collecting data.
    Running,
    /// No longer collecting, not yet decided.
    Stopped,
    /// A decision is recorded.
    Decided,
}

impl Status {
    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Decided => "decided",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "draft" => Status::Draft,
            "running" => Status::Running,
            "stopped" => Status::Stopped,
            "decided" => Status::Decided,
            _ => return None,
        })
    }
}

/// A variant of a definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct VariantDef {
    /// Name; the first variant is the control.
    pub name: String,
    /// Intended traffic weight.
    pub weight: f64,
    /// The model version it serves (`model@version`), if a champion–challenger test.
    #[serde(default)]
    pub model_version: Option<String>,
    /// A tracking run behind it.
    #[serde(default)]
    pub run_id: Option<String>,
}

/// A metric of a definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MetricDef {
    /// The metric's name, as the results CSV's `metric` column spells it.
    pub name: String,
    /// Binomial or continuous.
    #[serde(rename = "type")]
    pub kind: MetricKind,
    /// Which way is good.
    #[serde(default)]
    pub direction: Direction,
    /// Goal or guardrail.
    #[serde(default)]
    pub role: MetricRole,
    /// Guardrail tolerance, relative.
    #[serde(default)]
    pub tolerance: Option<f64>,
}

/// An experiment definition (`POST /api/v1/experiments`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ExperimentDef {
    /// Unique name.
    pub name: String,
    /// What is expected and why.
    #[serde(default)]
    pub hypothesis: String,
    /// Owner's user name (the creator when absent).
    #[serde(default)]
    pub owner: Option<String>,
    /// Draft or running at creation.
    #[serde(default)]
    pub status: Status,
    /// First day, `YYYY-MM-DD`.
    #[serde(default)]
    pub start_date: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    #[serde(default)]
    pub end_date: Option<String>,
    /// Variants, control first.
    pub variants: Vec<VariantDef>,
    /// Goal and guardrail metrics.
    pub metrics: Vec<MetricDef>,
    /// Significance level.
    #[serde(default = "super::default_alpha")]
    pub alpha: f64,
    /// Multiple-comparison correction.
    #[serde(default)]
    pub correction: Correction,
    /// Sequential testing.
    #[serde(default)]
    pub sequential: bool,
    /// Minimum detectable effect (relative).
    #[serde(default = "super::default_mde")]
    pub mde: f64,
    /// Units per variant before any verdict.
    #[serde(default = "super::default_min_units")]
    pub min_units: f64,
}

/// Whether `s` is a calendar date `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) && d >= 1 => {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let days = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            d <= days[(m - 1) as usize]
        }
        _ => false,
    }
}

impl ExperimentDef {
    /// Checks the definition; the error names the field.
    pub fn validate(&self) -> Result<(), FieldError> {
        use crate::domain::names::check_name;
        check_name(&self.name, 200).map_err(|m| bad("name", format!("name {m}")))?;
        for (i, v) in self.variants.iter().enumerate() {
            check_name(&v.name, 100)
                .map_err(|m| bad(format!("variants[{i}].name"), format!("variant name {m}")))?;
        }
        for (i, m) in self.metrics.iter().enumerate() {
            check_name(&m.name, 200)
                .map_err(|e| bad(format!("metrics[{i}].name"), format!("metric name {e}")))?;
        }
        if self.hypothesis.chars().count() > 5000 {
            return Err(bad(
                "hypothesis",
                "hypothesis must be at most 5,000 characters",
            ));
        }
        for (f, d) in [
            ("start_date", &self.start_date),
            ("end_date", &self.end_date),
        ] {
            if let Some(d) = d {
                if !is_date(d) {
                    return Err(bad(f, format!("{f} '{d}' is not a date YYYY-MM-DD")));
                }
            }
        }
        if let (Some(s), Some(e)) = (&self.start_date, &self.end_date) {
            if e < s {
                return Err(bad("end_date", "end_date is before start_date"));
            }
        }
        if matches!(self.status, Status::Decided | Status::Stopped) {
            return Err(bad("status", "a new experiment is draft or running"));
        }
        // The analysis checks the rest of the shape: variants, weights, metrics, α.
        let req = self.request(
            self.metrics
                .iter()
                .map(|_| {
                    self.variants
                        .iter()
                        .map(|v| DataRow {
                            variant: v.name.clone(),
                            units: Some(1.0),
                            conversions: Some(1.0),
                            n: Some(2.0),
                            sum: Some(2.0),
                            sum_squares: Some(2.0),
                            ..Default::default()
                        })
                        .collect()
                })
                .collect(),
            vec![None; self.variants.len()],
        );
        super::analyze(&req, super::Context::default()).map(|_| ())
    }

    /// The analysis request for per-metric rows (in metric order) and assigned units per
    /// variant (in variant order).
    pub fn request(&self, data: Vec<Vec<DataRow>>, assigned: Vec<Option<f64>>) -> AnalysisRequest {
        AnalysisRequest {
            alpha: self.alpha,
            control: self
                .variants
                .first()
                .map(|v| v.name.clone())
                .unwrap_or_default(),
            variants: self
                .variants
                .iter()
                .zip(assigned.into_iter().chain(std::iter::repeat(None)))
                .map(|(v, units)| VariantSpec {
                    name: v.name.clone(),
                    weight: v.weight,
                    units,
                })
                .collect(),
            metrics: self
                .metrics
                .iter()
                .zip(data)
                .map(|(m, data)| MetricSpec {
                    name: m.name.clone(),
                    kind: m.kind,
                    direction: m.direction,
                    role: m.role,
                    tolerance: m.tolerance,
                    data,
                })
                .collect(),
            correction: self.correction,
            sequential: self.sequential,
            sequential_tuning: 5000.0,
            mde: self.mde,
            min_units: self.min_units,
            max_plausible_lift: 0.5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-1-01"));
    }

    #[test]
    fn definitions_are_validated() {
        let def: ExperimentDef = serde_json::from_value(serde_json::json!({
            "name": "t", "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}],
            "metrics": [{"name": "m", "type": "binomial"}], "start_date": "2026-11-02", "end_date": "2026-11-01"
        }))
        .unwrap();
        assert_eq!(def.validate().unwrap_err().field, "end_date");
        let mut ok = def.clone();
        ok.end_date = None;
        assert!(ok.validate().is_ok());
        let mut dup = ok.clone();
        dup.variants[1].name = "a".into();
        assert_eq!(dup.validate().unwrap_err().field, "variants[1].name");
    }
}
