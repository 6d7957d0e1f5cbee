//! The analysis settings a request asks for: the column mapping, the reference groups and the
//! policy rules, read from query parameters and checked.

use crate::domain::fairness::{Mapping, Policy, Rule, Settings};
use crate::domain::FieldError;
use std::collections::BTreeMap;

/// The analysis settings a request asks for (query parameters), checked.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Query {
    /// Label column.
    #[serde(default)]
    pub label: String,
    /// Prediction column.
    #[serde(default)]
    pub prediction: Option<String>,
    /// Score column.
    #[serde(default)]
    pub score: Option<String>,
    /// Threshold for the score.
    #[serde(default)]
    pub threshold: Option<String>,
    /// Attributes, comma-separated.
    #[serde(default)]
    pub attributes: String,
    /// Reference groups, `attr:group,attr:group`.
    #[serde(default)]
    pub reference: Option<String>,
    /// 1 (default) when prediction 1 is favourable, 0 when it is adverse.
    #[serde(default)]
    pub favorable: Option<String>,
    /// Cross the first two attributes.
    #[serde(default)]
    pub intersectional: Option<String>,
    /// Sample-weight column.
    #[serde(default)]
    pub weight: Option<String>,
    /// Smallest group without a warning.
    #[serde(default)]
    pub min_group_rows: Option<String>,
    /// Policy rules, `metric:min:max,…` (default the four-fifths rule on the favourable rate).
    #[serde(default)]
    pub rules: Option<String>,
    /// Model version the report is about (stored reports).
    #[serde(default)]
    pub model_version: Option<String>,
    /// Or the tracking run.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Evaluation dataset name (stored reports).
    #[serde(default)]
    pub dataset: Option<String>,
}

/// An input error on `field` that no row is at fault for.
pub(super) fn bad(field: &str, message: String) -> FieldError {
    FieldError::on_row(field, None, message)
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl Query {
    /// The column mapping and report settings.
    pub fn settings(&self) -> Result<(Mapping, Settings), FieldError> {
        let threshold = match blank(&self.threshold) {
            None => None,
            Some(t) => Some(
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad("threshold", format!("threshold '{t}' is not a number")))?,
            ),
        };
        let attributes: Vec<String> = self
            .attributes
            .split(',')
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        let mapping = Mapping {
            label: self.label.trim().to_owned(),
            prediction: blank(&self.prediction),
            score: blank(&self.score),
            threshold,
            attributes: attributes.clone(),
            weight: blank(&self.weight),
            intersectional: matches!(
                blank(&self.intersectional).as_deref(),
                Some("true" | "1" | "on")
            ),
        };
        let reference = self.references(&attributes)?;
        let favorable_is_one = match blank(&self.favorable).as_deref() {
            None | Some("1") => true,
            Some("0") => false,
            Some(other) => {
                return Err(bad(
                    "favorable",
                    format!("favorable must be 1 or 0, not '{other}'"),
                ))
            }
        };
        let policy = self.policy()?;
        Ok((
            mapping,
            Settings {
                favorable_is_one,
                reference,
                policy,
                resamples: 1000,
                seed: 20261127,
            },
        ))
    }
    /// The reference group per attribute (`attribute:group,…`), each attribute one of
    /// `attributes`.
    fn references(&self, attributes: &[String]) -> Result<BTreeMap<String, String>, FieldError> {
        let mut reference = BTreeMap::new();
        if let Some(r) = blank(&self.reference) {
            for pair in r.split(',').filter(|p| !p.trim().is_empty()) {
                let (a, g) = pair
                    .split_once(':')
                    .ok_or_else(|| bad("reference", format!("'{pair}' is not attribute:group")))?;
                if !attributes.iter().any(|x| x == a.trim()) {
                    return Err(bad(
                        "reference",
                        format!("'{}' is not one of the attributes", a.trim()),
                    ));
                }
                reference.insert(a.trim().to_owned(), g.trim().to_owned());
            }
        }
        Ok(reference)
    }

    /// The pass/fail policy: the smallest group counted and the ratio bounds per metric
    /// (`metric:min_ratio:max_ratio,…`), the defaults where not given.
    fn policy(&self) -> Result<Policy, FieldError> {
        let mut policy = Policy::default();
        if let Some(m) = blank(&self.min_group_rows) {
            policy.min_group_rows = m
                .parse()
                .map_err(|_| bad("min_group_rows", format!("'{m}' is not a whole number")))?;
        }
        if let Some(rules) = blank(&self.rules) {
            policy.rules = rules
                .split(',')
                .filter(|r| !r.trim().is_empty())
                .map(|r| {
                    let parts: Vec<&str> = r.split(':').map(str::trim).collect();
                    match parts.as_slice() {
                        [m, lo, hi] if crate::domain::fairness::METRICS.contains(m) => {
                            let lo: f64 = lo
                                .parse()
                                .map_err(|_| bad("rules", format!("'{lo}' is not a number")))?;
                            let hi: f64 = hi
                                .parse()
                                .map_err(|_| bad("rules", format!("'{hi}' is not a number")))?;
                            Ok(Rule {
                                metric: (*m).to_owned(),
                                min_ratio: lo,
                                max_ratio: hi,
                            })
                        }
                        _ => Err(bad(
                            "rules",
                            format!("'{r}' is not metric:min_ratio:max_ratio with a known metric"),
                        )),
                    }
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(policy)
    }
}

impl Query {
    /// Refuses a stored report's query without its subject: a model version (`model@version`)
    /// or a run, and the evaluation dataset's name.
    pub fn check_subject(&self) -> Result<(), FieldError> {
        let has = |v: &Option<String>| v.as_deref().is_some_and(|x| !x.trim().is_empty());
        if !has(&self.model_version) && !has(&self.run_id) {
            return Err(bad(
                "model_version",
                "name the model version (model@version) or the run the report is about".into(),
            ));
        }
        if let Some(m) = self
            .model_version
            .as_deref()
            .filter(|m| !m.trim().is_empty())
        {
            if !m.contains('@') || m.starts_with('@') || m.ends_with('@') {
                return Err(bad("model_version", "is not model@version".into()));
            }
        }
        if !has(&self.dataset) {
            return Err(bad("dataset", "name the evaluation dataset".into()));
        }
        if let Some(d) = &self.dataset {
            crate::domain::names::check_name(d, crate::domain::names::MAX_NAME_CHARS)
                .map_err(|m| bad("dataset", format!("the dataset name {m}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_settings() {
        let q = Query {
            label: "label".into(),
            score: Some("score".into()),
            threshold: Some("0.5".into()),
            attributes: "sex, region".into(),
            reference: Some("sex:male".into()),
            favorable: Some("0".into()),
            rules: Some("favorable_rate:0.8:1.25,true_positive_rate:0.9:1.1".into()),
            ..Default::default()
        };
        let (m, s) = q.settings().unwrap();
        assert_eq!(m.attributes, vec!["sex", "region"]);
        assert!(!s.favorable_is_one);
        assert_eq!(s.policy.rules.len(), 2);
        assert_eq!(s.reference["sex"], "male");
        let mut bad = q.clone();
        bad.reference = Some("age:young".into());
        assert_eq!(bad.settings().unwrap_err().field, "reference");
        let mut bad = q.clone();
        bad.rules = Some("vibes:0:1".into());
        assert_eq!(bad.settings().unwrap_err().field, "rules");
    }
}
