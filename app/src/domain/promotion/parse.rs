//! Reading a policy's TOML text: every mistake named with its line.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::policy::known_check;
use super::{
    valid_alias, FairnessRule, MetricRule, Policy, PolicyError, DEFAULT_PROTECTED, RISK_TIERS,
};
use crate::domain::roles::Role;

/// The policy text as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    protected_aliases: Option<toml::Spanned<Vec<String>>>,
    max_evidence_age_days: Option<toml::Spanned<i64>>,
    request_expiry_days: Option<toml::Spanned<i64>>,
    approvals: Option<BTreeMap<String, toml::Spanned<i64>>>,
    separation_of_duties: Option<RawSeparation>,
    #[serde(default)]
    metrics: Vec<toml::Spanned<RawMetric>>,
    fairness: Option<RawFairness>,
    ab_test: Option<RawAb>,
    lineage: Option<RawLineage>,
    artifact: Option<RawArtifact>,
    waivers: Option<RawWaivers>,
    rollback: Option<RawRollback>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeparation {
    run_author_may_approve: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: String,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFairness {
    required: Option<bool>,
    #[serde(default)]
    attributes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArtifact {
    required: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAb {
    required_for_challengers: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLineage {
    require_training_datasets: Option<bool>,
    require_digests: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaivers {
    #[serde(default)]
    checks: Vec<toml::Spanned<String>>,
    #[serde(default)]
    roles: Vec<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRollback {
    approvals: Option<toml::Spanned<i64>>,
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Finds where in the policy text a mistake is.
struct Spans<'a>(&'a str);

impl Spans<'_> {
    /// The error for what starts at `span`.
    fn at(&self, span: std::ops::Range<usize>, message: String) -> PolicyError {
        PolicyError {
            line: line_of(self.0, span.start),
            message,
        }
    }

    /// A count between `min` and 1000.
    fn count(&self, v: &toml::Spanned<i64>, what: &str, min: i64) -> Result<u32, PolicyError> {
        let n = *v.get_ref();
        if n < min || n > 1000 {
            return Err(self.at(
                v.span(),
                format!("{what} must be between {min} and 1000, not {n}"),
            ));
        }
        Ok(n as u32)
    }
}

/// Parses and validates a policy text.
pub fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError {
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        message: e.message().trim().to_string(),
    })?;
    let at = Spans(text);
    let protected_aliases = match raw.protected_aliases {
        None => DEFAULT_PROTECTED.iter().map(|s| s.to_string()).collect(),
        Some(p) => {
            if let Some(bad) = p.get_ref().iter().find(|a| !valid_alias(a)) {
                return Err(at.at(p.span(), format!("'{bad}' is not a valid alias name")));
            }
            p.into_inner()
        }
    };
    let max_evidence_age_days = raw
        .max_evidence_age_days
        .map(|v| at.count(&v, "max_evidence_age_days", 1))
        .transpose()?;
    let request_expiry_days = raw
        .request_expiry_days
        .map(|v| at.count(&v, "request_expiry_days", 1))
        .transpose()?
        .unwrap_or(14);
    let approvals = approvals(&at, raw.approvals)?;
    let metrics = metric_rules(&at, raw.metrics)?;
    let (waivable, waiver_roles) = waivers(&at, raw.waivers)?;
    let fairness = raw
        .fairness
        .map(|f| FairnessRule {
            required: f.required.unwrap_or(true),
            attributes: f.attributes,
        })
        .unwrap_or_default();
    let lineage = raw.lineage;
    Ok(Policy {
        protected_aliases,
        max_evidence_age_days,
        request_expiry_days,
        approvals,
        run_author_may_approve: raw
            .separation_of_duties
            .and_then(|s| s.run_author_may_approve)
            .unwrap_or(false),
        metrics,
        fairness,
        ab_required_for_challengers: raw
            .ab_test
            .and_then(|a| a.required_for_challengers)
            .unwrap_or(false),
        require_training_datasets: lineage
            .as_ref()
            .and_then(|l| l.require_training_datasets)
            .unwrap_or(false),
        require_digests: lineage.and_then(|l| l.require_digests).unwrap_or(false),
        require_artifact: raw.artifact.and_then(|a| a.required).unwrap_or(false),
        waivable,
        waiver_roles,
        rollback_approvals: raw
            .rollback
            .and_then(|r| r.approvals)
            .map(|v| at.count(&v, "rollback.approvals", 1))
            .transpose()?
            .unwrap_or(1),
    })
}

/// Approvals per risk tier: one each unless the policy says more.
fn approvals(
    at: &Spans,
    raw: Option<BTreeMap<String, toml::Spanned<i64>>>,
) -> Result<BTreeMap<String, u32>, PolicyError> {
    let mut approvals: BTreeMap<String, u32> =
        RISK_TIERS.iter().map(|t| (t.to_string(), 1)).collect();
    for (tier, n) in raw.unwrap_or_default() {
        if !RISK_TIERS.contains(&tier.as_str()) {
            return Err(at.at(
                n.span(),
                format!("unknown risk tier '{tier}' (low, medium or high)"),
            ));
        }
        approvals.insert(tier.clone(), at.count(&n, &format!("approvals.{tier}"), 1)?);
    }
    Ok(approvals)
}

/// The metric rules: named, bounded, finite, each metric once.
fn metric_rules(
    at: &Spans,
    raw: Vec<toml::Spanned<RawMetric>>,
) -> Result<Vec<MetricRule>, PolicyError> {
    let mut metrics = Vec::new();
    for m in raw {
        let span = m.span();
        let m = m.into_inner();
        if m.name.trim().is_empty() {
            return Err(at.at(span, "a metric rule needs a name".into()));
        }
        if m.min.is_none() && m.max.is_none() {
            return Err(at.at(
                span,
                format!("metric '{}' needs a min, a max or both", m.name),
            ));
        }
        if let (Some(lo), Some(hi)) = (m.min, m.max) {
            if lo > hi {
                return Err(at.at(
                    span,
                    format!("metric '{}': min {lo} is above max {hi}", m.name),
                ));
            }
        }
        if m.min.is_some_and(|v| !v.is_finite()) || m.max.is_some_and(|v| !v.is_finite()) {
            return Err(at.at(span, format!("metric '{}': bounds must be finite", m.name)));
        }
        if metrics.iter().any(|x: &MetricRule| x.name == m.name) {
            return Err(at.at(span, format!("metric '{}' appears twice", m.name)));
        }
        metrics.push(MetricRule {
            name: m.name,
            min: m.min,
            max: m.max,
        });
    }
    Ok(metrics)
}

/// Which checks may be waived, and by whom (reviewers, unless the policy says otherwise).
fn waivers(at: &Spans, raw: Option<RawWaivers>) -> Result<(Vec<String>, Vec<Role>), PolicyError> {
    let Some(w) = raw else {
        return Ok((Vec::new(), vec![Role::Reviewer]));
    };
    let mut checks = Vec::new();
    for c in w.checks {
        if !known_check(c.get_ref()) {
            return Err(at.at(
                c.span(),
                format!(
                    "unknown check '{}' (fairness, ab_test, lineage, metric:<name> or metric:*)",
                    c.get_ref()
                ),
            ));
        }
        checks.push(c.into_inner());
    }
    let mut roles = Vec::new();
    for r in w.roles {
        let role = Role::ALL
            .into_iter()
            .find(|x| x.as_str() == r.get_ref())
            .ok_or_else(|| at.at(r.span(), format!("unknown role '{}'", r.get_ref())))?;
        roles.push(role);
    }
    Ok((checks, roles))
}
