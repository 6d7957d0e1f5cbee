//! The CSV mapping: which columns mean what, checked against a file's header, how each row
//! is read, and the preview and column guesses of the upload form.

use super::Tally;
use crate::domain::FieldError;
use serde::{Deserialize, Serialize};

/// Which columns mean what.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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

pub(super) fn err(field: &str, row: Option<u64>, message: String) -> FieldError {
    FieldError::on_row(field, row, message)
}

/// The prediction column and the score column with its threshold, each as its place and name.
type Outputs = (Option<(usize, String)>, Option<(usize, String, f64)>);

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
    pub fn resolve(&self, header: &[&str]) -> Result<Columns, FieldError> {
        let find = |setting: &str, name: &str| find_column(header, setting, name);
        if self.label.trim().is_empty() {
            return Err(err("label", None, "name the label column".into()));
        }
        let label = find("label", &self.label)?;
        let (prediction, score) = self.outputs(header)?;
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

    /// The prediction column, or the score column with its threshold (`NaN` when the score
    /// stands beside a prediction, for ROC AUC only).
    fn outputs(&self, header: &[&str]) -> Result<Outputs, FieldError> {
        let find = |setting: &str, name: &str| find_column(header, setting, name);
        Ok(match (&self.prediction, &self.score, self.threshold) {
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
            (Some(_), Some(_), Some(_)) => {
                return Err(err(
                    "threshold",
                    None,
                    "a threshold applies to a score column; with a prediction column leave it out"
                        .into(),
                ))
            }
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
        })
    }
}

/// Where column `name` (the `setting` naming it) is in the header; an error on the header's
/// line listing the columns there are when it is missing.
fn find_column(header: &[&str], setting: &str, name: &str) -> Result<(usize, String), FieldError> {
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
    let mut records = crate::domain::csv::records(text, true)
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
