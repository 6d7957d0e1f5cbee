//! The new-test form of the Experiments page as sent (every field text, rows as parallel
//! lists) and the definition it makes: blank rows left out, blank numbers at their defaults,
//! a number that does not read refused with its field named.

use super::request::{DEFAULT_ALPHA, DEFAULT_MDE, DEFAULT_MIN_UNITS};
use super::{Correction, Direction, ExperimentDef, MetricDef, MetricKind, MetricRole};
use super::{Status, VariantDef};
use crate::domain::FieldError;
use serde::{Deserialize, Serialize};

/// The new-test form: up to four variants and six metrics; blank rows are left out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewAbTest {
    /// The test's display name.
    #[serde(default)]
    pub name: String,
    /// What the change is expected to do, and why.
    #[serde(default)]
    pub hypothesis: String,
    /// draft or running.
    #[serde(default)]
    pub status: String,
    /// First day.
    #[serde(default)]
    pub start_date: String,
    /// Variant names (the first is the control).
    #[serde(default)]
    pub variant: Vec<String>,
    /// Their weights.
    #[serde(default)]
    pub weight: Vec<String>,
    /// Their model versions.
    #[serde(default)]
    pub model_version: Vec<String>,
    /// Metric names.
    #[serde(default)]
    pub metric: Vec<String>,
    /// binomial or continuous.
    #[serde(default)]
    pub kind: Vec<String>,
    /// increase or decrease.
    #[serde(default)]
    pub direction: Vec<String>,
    /// goal or guardrail.
    #[serde(default)]
    pub role: Vec<String>,
    /// Guardrail tolerance in percent.
    #[serde(default)]
    pub tolerance: Vec<String>,
    /// α.
    #[serde(default)]
    pub alpha: String,
    /// none, holm or bh.
    #[serde(default)]
    pub correction: String,
    /// "on" for sequential testing.
    #[serde(default)]
    pub sequential: Option<String>,
    /// Minimum detectable effect in percent.
    #[serde(default)]
    pub mde: String,
}

/// `v` as a finite number, `default` when blank.
fn number(field: &str, v: &str, default: f64) -> Result<f64, FieldError> {
    if v.trim().is_empty() {
        return Ok(default);
    }
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| FieldError::new(field, format!("'{v}' is not a number")))
}

/// Row `i` of a column, blank when the column is shorter.
fn cell(column: &[String], i: usize) -> &str {
    column.get(i).map_or("", String::as_str)
}

impl NewAbTest {
    /// The definition the form describes (checked further when it is stored).
    pub fn definition(&self) -> Result<ExperimentDef, FieldError> {
        Ok(ExperimentDef {
            name: self.name.trim().to_owned(),
            hypothesis: self.hypothesis.trim().to_owned(),
            owner: None,
            status: if self.status == "running" {
                Status::Running
            } else {
                Status::Draft
            },
            start_date: Some(self.start_date.trim().to_owned()).filter(|d| !d.is_empty()),
            end_date: None,
            variants: self.variants()?,
            metrics: self.metrics()?,
            alpha: number("alpha", &self.alpha, DEFAULT_ALPHA)?,
            correction: match self.correction.as_str() {
                "none" => Correction::None,
                "bh" => Correction::BenjaminiHochberg,
                _ => Correction::Holm,
            },
            sequential: self.sequential.is_some(),
            mde: number("mde", &self.mde, DEFAULT_MDE * 100.0)? / 100.0,
            min_units: DEFAULT_MIN_UNITS,
        })
    }

    /// The named variant rows, weight 1 when blank.
    fn variants(&self) -> Result<Vec<VariantDef>, FieldError> {
        let mut variants = Vec::new();
        for (i, name) in self.variant.iter().enumerate() {
            if name.trim().is_empty() {
                continue;
            }
            variants.push(VariantDef {
                name: name.trim().to_owned(),
                weight: number(&format!("variants[{i}].weight"), cell(&self.weight, i), 1.0)?,
                model_version: Some(cell(&self.model_version, i).trim().to_owned())
                    .filter(|m| !m.is_empty()),
                run_id: None,
            });
        }
        Ok(variants)
    }

    /// The named metric rows; a guardrail's tolerance is entered in percent.
    fn metrics(&self) -> Result<Vec<MetricDef>, FieldError> {
        let mut metrics = Vec::new();
        for (i, name) in self.metric.iter().enumerate() {
            if name.trim().is_empty() {
                continue;
            }
            let role = if cell(&self.role, i) == "guardrail" {
                MetricRole::Guardrail
            } else {
                MetricRole::Goal
            };
            let tolerance = match role {
                MetricRole::Guardrail => {
                    let field = format!("metrics[{i}].tolerance");
                    Some(number(&field, cell(&self.tolerance, i), 0.0)? / 100.0)
                }
                MetricRole::Goal => None,
            };
            metrics.push(MetricDef {
                name: name.trim().to_owned(),
                kind: if cell(&self.kind, i) == "continuous" {
                    MetricKind::Continuous
                } else {
                    MetricKind::Binomial
                },
                direction: if cell(&self.direction, i) == "decrease" {
                    Direction::Decrease
                } else {
                    Direction::Increase
                },
                role,
                tolerance,
            });
        }
        Ok(metrics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> NewAbTest {
        NewAbTest {
            name: " Checkout ".into(),
            variant: vec!["control".into(), "".into(), "b".into()],
            weight: vec!["".into(), "".into(), "2".into()],
            model_version: vec!["".into(), "".into(), "m@3".into()],
            metric: vec!["conv".into(), "latency".into()],
            kind: vec!["binomial".into(), "continuous".into()],
            direction: vec!["increase".into(), "decrease".into()],
            role: vec!["goal".into(), "guardrail".into()],
            tolerance: vec!["".into(), "2.5".into()],
            ..Default::default()
        }
    }

    #[test]
    fn blank_rows_are_left_out_and_blank_numbers_take_their_defaults() {
        let d = form().definition().expect("a readable form");
        assert_eq!(d.name, "Checkout");
        assert_eq!(d.status, Status::Draft);
        let names: Vec<_> = d.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["control", "b"]);
        assert_eq!(d.variants[0].weight, 1.0);
        assert_eq!(d.variants[1].weight, 2.0);
        assert_eq!(d.variants[1].model_version.as_deref(), Some("m@3"));
        assert_eq!(d.metrics[0].tolerance, None);
        assert_eq!(d.metrics[1].role, MetricRole::Guardrail);
        assert_eq!(d.metrics[1].direction, Direction::Decrease);
        assert!((d.metrics[1].tolerance.unwrap_or(0.0) - 0.025).abs() < 1e-12);
        assert_eq!(d.alpha, DEFAULT_ALPHA);
        assert!((d.mde - DEFAULT_MDE).abs() < 1e-12);
        assert_eq!(d.min_units, DEFAULT_MIN_UNITS);
        assert_eq!(d.correction, Correction::Holm);
    }

    #[test]
    fn a_number_that_does_not_read_names_its_field() {
        let mut f = form();
        f.weight[2] = "two".into();
        let e = f.definition().unwrap_err();
        assert_eq!(e.field, "variants[2].weight");
        assert_eq!(e.message, "'two' is not a number");
        let mut f = form();
        f.alpha = "NaN".into();
        assert_eq!(f.definition().unwrap_err().field, "alpha");
    }
}
