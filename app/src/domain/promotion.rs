//! Promotion policy as code, and its evaluation against the evidence of one model version.
//!
//! A policy is TOML text, versioned per scope (`*`, `tier:<risk tier>` or `model:<name>`); the
//! most specific scope with a policy is in force. [`parse_policy`] validates the text and says
//! on which line a mistake is. [`evaluate`] turns a policy and an [`Evidence`] bundle into the
//! checklist a reviewer sees; [`Evidence::digest`] is the SHA-256 of the bundle's canonical
//! JSON, which approvals record so that later changes to the evidence stand out.

use crate::domain::audit_chain::canonical_json;
use crate::domain::roles::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The aliases nobody may set outside an approved promotion when no policy says otherwise.
pub const DEFAULT_PROTECTED: &[&str] = &["production"];

/// The policy in force when an admin has written none.
pub const DEFAULT_POLICY: &str = r#"# Gatehouse promotion policy (TOML). Scopes: "*", "tier:<risk tier>", "model:<name>".
# Aliases that only an approved promotion request may move.
protected_aliases = ["production"]
# Evidence older than this many days fails its check.
max_evidence_age_days = 90
# Pending requests expire after this many days.
request_expiry_days = 14

# Approvals needed, by the model's risk tier.
[approvals]
low = 1
medium = 2
high = 2

[separation_of_duties]
# The requester may never approve; may the author of the linked training run?
run_author_may_approve = false

# Evaluation metrics of the linked run.
[[metrics]]
name = "auc"
min = 0.7

[fairness]
required = true

[ab_test]
# When the alias already serves another version, a shipped A/B decision is required.
required_for_challengers = true

[lineage]
require_training_datasets = true
require_digests = true

[artifact]
# The version's files are stored in Gatehouse, sealed (a finalized model, or the run folder
# the version was registered from), and re-hashing them gives the recorded digest.
required = true

[waivers]
# Checks that may be waived with a written reason ("metric:*" for every metric check),
# and the roles allowed to waive them.
checks = ["fairness", "ab_test", "lineage", "metric:*"]
roles = ["reviewer"]

[rollback]
# Moving an alias back to the version it served before needs this many approvals.
approvals = 1
"#;

/// Risk tiers of a registered model.
pub const RISK_TIERS: [&str; 3] = ["low", "medium", "high"];

/// A parsed, validated promotion policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Aliases that only an approved promotion may move.
    pub protected_aliases: Vec<String>,
    /// Evidence older than this fails its check (`None`: no limit).
    pub max_evidence_age_days: Option<u32>,
    /// Pending requests expire after this many days.
    pub request_expiry_days: u32,
    /// Approvals needed per risk tier.
    pub approvals: BTreeMap<String, u32>,
    /// Whether the author of the linked run may approve.
    pub run_author_may_approve: bool,
    /// Metric thresholds on the linked run.
    pub metrics: Vec<MetricRule>,
    /// Fairness requirement.
    pub fairness: FairnessRule,
    /// A/B requirement for champion–challenger promotions.
    pub ab_required_for_challengers: bool,
    /// Training datasets must be known.
    pub require_training_datasets: bool,
    /// ... and carry a digest.
    pub require_digests: bool,
    /// The version's files must be sealed in the artifact store and still match their digest.
    #[serde(default)]
    pub require_artifact: bool,
    /// Check ids (or `metric:*`) that may be waived.
    pub waivable: Vec<String>,
    /// Roles that may waive.
    pub waiver_roles: Vec<Role>,
    /// Approvals needed for a rollback.
    pub rollback_approvals: u32,
}

/// A threshold on one metric of the linked run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricRule {
    /// Metric key as logged to MLflow.
    pub name: String,
    /// Lowest acceptable value.
    pub min: Option<f64>,
    /// Highest acceptable value.
    pub max: Option<f64>,
}

/// What a fairness report must show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FairnessRule {
    /// A passing fairness report is required.
    pub required: bool,
    /// Sensitive attributes the report must cover.
    pub attributes: Vec<String>,
}

/// A policy text that is not valid, with where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

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

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Whether `s` is a valid alias name (MLflow's rule: letters, digits, `_` and `-`, not `v<n>`
/// or `latest`, which MLflow reserves).
pub fn valid_alias(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !s.eq_ignore_ascii_case("latest")
        && !(s.len() > 1
            && (s.starts_with('v') || s.starts_with('V'))
            && s[1..].chars().all(|c| c.is_ascii_digit()))
}

/// The check ids a policy may name in `waivers.checks`.
fn known_check(id: &str) -> bool {
    matches!(
        id,
        "fairness" | "ab_test" | "lineage" | "artifact" | "metric:*"
    ) || id.strip_prefix("metric:").is_some_and(|m| !m.is_empty())
}

/// Parses and validates a policy text.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError {
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        message: e.message().trim().to_string(),
    })?;
    let at = |span: std::ops::Range<usize>, message: String| PolicyError {
        line: line_of(text, span.start),
        message,
    };
    let count = |v: &toml::Spanned<i64>, what: &str, min: i64| -> Result<u32, PolicyError> {
        let n = *v.get_ref();
        if n < min || n > 1000 {
            return Err(at(
                v.span(),
                format!("{what} must be between {min} and 1000, not {n}"),
            ));
        }
        Ok(n as u32)
    };

    let protected_aliases = match raw.protected_aliases {
        None => DEFAULT_PROTECTED.iter().map(|s| s.to_string()).collect(),
        Some(p) => {
            if let Some(bad) = p.get_ref().iter().find(|a| !valid_alias(a)) {
                return Err(at(p.span(), format!("'{bad}' is not a valid alias name")));
            }
            p.into_inner()
        }
    };
    let max_evidence_age_days = raw
        .max_evidence_age_days
        .map(|v| count(&v, "max_evidence_age_days", 1))
        .transpose()?;
    let request_expiry_days = raw
        .request_expiry_days
        .map(|v| count(&v, "request_expiry_days", 1))
        .transpose()?
        .unwrap_or(14);

    let mut approvals: BTreeMap<String, u32> =
        RISK_TIERS.iter().map(|t| (t.to_string(), 1)).collect();
    if let Some(a) = raw.approvals {
        for (tier, n) in a {
            if !RISK_TIERS.contains(&tier.as_str()) {
                return Err(at(
                    n.span(),
                    format!("unknown risk tier '{tier}' (low, medium or high)"),
                ));
            }
            approvals.insert(tier.clone(), count(&n, &format!("approvals.{tier}"), 1)?);
        }
    }

    let mut metrics = Vec::new();
    for m in raw.metrics {
        let span = m.span();
        let m = m.into_inner();
        if m.name.trim().is_empty() {
            return Err(at(span, "a metric rule needs a name".into()));
        }
        if m.min.is_none() && m.max.is_none() {
            return Err(at(
                span,
                format!("metric '{}' needs a min, a max or both", m.name),
            ));
        }
        if let (Some(lo), Some(hi)) = (m.min, m.max) {
            if lo > hi {
                return Err(at(
                    span,
                    format!("metric '{}': min {lo} is above max {hi}", m.name),
                ));
            }
        }
        if m.min.is_some_and(|v| !v.is_finite()) || m.max.is_some_and(|v| !v.is_finite()) {
            return Err(at(
                span,
                format!("metric '{}': bounds must be finite", m.name),
            ));
        }
        if metrics.iter().any(|x: &MetricRule| x.name == m.name) {
            return Err(at(span, format!("metric '{}' appears twice", m.name)));
        }
        metrics.push(MetricRule {
            name: m.name,
            min: m.min,
            max: m.max,
        });
    }

    let (waivable, waiver_roles) = match raw.waivers {
        None => (Vec::new(), vec![Role::Reviewer]),
        Some(w) => {
            let mut checks = Vec::new();
            for c in w.checks {
                if !known_check(c.get_ref()) {
                    return Err(at(
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
                    .ok_or_else(|| at(r.span(), format!("unknown role '{}'", r.get_ref())))?;
                roles.push(role);
            }
            (checks, roles)
        }
    };

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
            .map(|v| count(&v, "rollback.approvals", 1))
            .transpose()?
            .unwrap_or(1),
    })
}

impl Policy {
    /// The policy in force when none is stored.
    pub fn default_policy() -> Policy {
        match parse_policy(DEFAULT_POLICY) {
            Ok(p) => p,
            // The default text is a constant covered by a unit test.
            Err(e) => unreachable!("the default policy is invalid: {e}"),
        }
    }

    /// Whether `alias` may only move through an approved promotion.
    pub fn is_protected(&self, alias: &str) -> bool {
        self.protected_aliases
            .iter()
            .any(|a| a.eq_ignore_ascii_case(alias))
    }

    /// Approvals a request needs.
    pub fn approvals_needed(&self, risk_tier: &str, rollback: bool) -> u32 {
        if rollback {
            return self.rollback_approvals;
        }
        self.approvals.get(risk_tier).copied().unwrap_or(1)
    }

    /// Whether the check `id` may be waived under this policy.
    pub fn waivable(&self, id: &str) -> bool {
        self.waivable
            .iter()
            .any(|w| w == id || (w == "metric:*" && id.starts_with("metric:")))
    }
}

/// The linked training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunEvidence {
    /// MLflow run id.
    pub run_id: String,
    /// Who ran it (MLflow `user_id`).
    pub author: String,
    /// End (or start) of the run, Unix ms.
    pub at_ms: i64,
    /// Latest value of each metric.
    pub metrics: BTreeMap<String, f64>,
}

/// A training dataset of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetEvidence {
    /// Dataset name.
    pub name: String,
    /// Content digest, if the client logged one.
    pub digest: Option<String>,
    /// Where it came from.
    pub source: String,
}

/// A version's files: what they are bound to and whether they still are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactEvidence {
    /// Where they are: `logged model m-…` or `run <id>, folder <path>`.
    pub source: String,
    /// The logged model, when the version is one.
    pub model_id: Option<String>,
    /// `sha256:…` over the manifest.
    pub digest: String,
    /// Number of files.
    pub files: usize,
    /// Their total size.
    pub bytes: u64,
    /// Frozen: a finalized model, or a registered run folder, that no upload can change.
    pub sealed: bool,
    /// The latest re-hash of the stored bytes against the manifest, if any.
    pub verified: Option<ArtifactVerification>,
}

/// The latest re-hash of a version's stored files. Its time is kept beside it, not in the
/// evidence: re-checking intact bytes must not make earlier approvals lapse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactVerification {
    /// Whether every file was there with its recorded size and hash, and nothing else.
    pub ok: bool,
    /// What differed, when not ok.
    pub detail: String,
}

/// The latest fairness report on the version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairnessEvidence {
    /// Report id.
    pub report_id: i64,
    /// `pass` or `fail`.
    pub verdict: String,
    /// Its one-sentence summary.
    pub sentence: String,
    /// Sensitive attributes it covers.
    pub attributes: Vec<String>,
    /// When it was made, Unix ms.
    pub at_ms: i64,
}

/// The latest decision of an A/B test in which the version is a variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbEvidence {
    /// Test id.
    pub test_id: i64,
    /// Test name.
    pub name: String,
    /// `ship`, `roll_back` or `extend`.
    pub decision: String,
    /// The verdict sentence at decision time.
    pub sentence: String,
    /// When it was decided, Unix ms.
    pub at_ms: i64,
}

/// Everything a promotion is judged on. Its canonical JSON is what approvals digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Registered model.
    pub model: String,
    /// Version asked for.
    pub version: i64,
    /// Target alias.
    pub alias: String,
    /// The model's risk tier.
    pub risk_tier: String,
    /// The version the alias serves now, if any.
    pub champion: Option<i64>,
    /// The linked run.
    pub run: Option<RunEvidence>,
    /// Its training datasets.
    pub datasets: Vec<DatasetEvidence>,
    /// The latest fairness report on the version.
    pub fairness: Option<FairnessEvidence>,
    /// The latest A/B decision on the version.
    pub ab_test: Option<AbEvidence>,
    /// The version's files as Gatehouse stores them (absent when they live elsewhere).
    #[serde(default)]
    pub artifact: Option<ArtifactEvidence>,
    /// Scope and version of the policy evaluated.
    pub policy: PolicyRef,
}

/// Which policy text a request was judged by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// `*`, `tier:…` or `model:…`.
    pub scope: String,
    /// Version within the scope (0: the built-in default).
    pub version: i64,
    /// SHA-256 of the text.
    pub sha256: String,
}

impl Evidence {
    /// The canonical JSON of the bundle.
    pub fn canonical(&self) -> String {
        canonical_json(&serde_json::to_value(self).unwrap_or(serde_json::Value::Null))
    }

    /// SHA-256 (hex) of the canonical JSON.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }
}

/// A check's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The evidence meets the policy.
    Pass,
    /// It does not.
    Fail,
    /// There is no evidence.
    Missing,
    /// It failed or is missing, and someone allowed to waived it with a reason.
    Waived,
}

impl CheckStatus {
    /// Lower-case label.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Missing => "missing",
            CheckStatus::Waived => "waived",
        }
    }
}

/// A written waiver of one check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Waiver {
    /// Check id.
    pub check: String,
    /// Who waived.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

/// One line of the checklist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Stable id: `metric:<name>`, `fairness`, `ab_test`, `lineage`.
    pub id: String,
    /// What is checked, for people.
    pub label: String,
    /// Outcome (after waivers).
    pub status: CheckStatus,
    /// What the evidence shows.
    pub detail: String,
    /// Where the evidence is, inside the app.
    pub link: Option<String>,
    /// Whether the policy lets this check be waived.
    pub waivable: bool,
    /// The waiver, when there is one.
    pub waiver: Option<Waiver>,
}

const DAY_MS: i64 = 86_400_000;

fn fmt_num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Evaluates every check of `policy` on `ev` at `now_ms`, applying `waivers`.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub fn evaluate(policy: &Policy, ev: &Evidence, now_ms: i64, waivers: &[Waiver]) -> Vec<Check> {
    let stale = |at_ms: i64| -> Option<String> {
        let max = policy.max_evidence_age_days?;
        let age = (now_ms - at_ms) / DAY_MS;
        (age > i64::from(max)).then(|| format!("{age} days old (the policy allows {max})"))
    };
    let mut out = Vec::new();
    let mut push = |id: String, label: String, status, detail: String, link: Option<String>| {
        out.push(Check {
            waivable: policy.waivable(&id),
            id,
            label,
            status,
            detail,
            link,
            waiver: None,
        })
    };

    for rule in &policy.metrics {
        let bounds = match (rule.min, rule.max) {
            (Some(lo), Some(hi)) => format!("between {} and {}", fmt_num(lo), fmt_num(hi)),
            (Some(lo), None) => format!("≥ {}", fmt_num(lo)),
            (None, Some(hi)) => format!("≤ {}", fmt_num(hi)),
            (None, None) => "logged".into(),
        };
        let label = format!("Metric {} {bounds}", rule.name);
        let id = format!("metric:{}", rule.name);
        let Some(run) = &ev.run else {
            push(
                id,
                label,
                CheckStatus::Missing,
                "No training run is linked to this version.".into(),
                None,
            );
            continue;
        };
        let link = Some(format!("/runs/run/{}", run.run_id));
        let Some(&v) = run.metrics.get(&rule.name) else {
            push(
                id,
                label,
                CheckStatus::Missing,
                format!("The run logged no metric '{}'.", rule.name),
                link,
            );
            continue;
        };
        let ok =
            v.is_finite() && rule.min.is_none_or(|lo| v >= lo) && rule.max.is_none_or(|hi| v <= hi);
        let (status, detail) = match (ok, stale(run.at_ms)) {
            (false, _) => (
                CheckStatus::Fail,
                format!("{} = {}, outside {bounds}.", rule.name, fmt_num(v)),
            ),
            (true, Some(age)) => (
                CheckStatus::Fail,
                format!("{} = {}, but the run is {age}.", rule.name, fmt_num(v)),
            ),
            (true, None) => (
                CheckStatus::Pass,
                format!("{} = {}.", rule.name, fmt_num(v)),
            ),
        };
        push(id, label, status, detail, link);
    }

    if policy.fairness.required {
        let label = if policy.fairness.attributes.is_empty() {
            "Fairness report passes".to_string()
        } else {
            format!(
                "Fairness report passes, covering {}",
                policy.fairness.attributes.join(", ")
            )
        };
        match &ev.fairness {
            None => push(
                "fairness".into(),
                label,
                CheckStatus::Missing,
                format!("No fairness report on {}@{}.", ev.model, ev.version),
                None,
            ),
            Some(f) => {
                let link = Some(format!("/fairness/{}", f.report_id));
                let uncovered: Vec<&str> = policy
                    .fairness
                    .attributes
                    .iter()
                    .filter(|a| !f.attributes.contains(a))
                    .map(String::as_str)
                    .collect();
                let (status, detail) = if f.verdict != "pass" {
                    (
                        CheckStatus::Fail,
                        format!("Report #{} fails: {}", f.report_id, f.sentence),
                    )
                } else if !uncovered.is_empty() {
                    (
                        CheckStatus::Fail,
                        format!(
                            "Report #{} does not cover {}.",
                            f.report_id,
                            uncovered.join(", ")
                        ),
                    )
                } else if let Some(age) = stale(f.at_ms) {
                    (
                        CheckStatus::Fail,
                        format!("Report #{} passes but is {age}.", f.report_id),
                    )
                } else {
                    (
                        CheckStatus::Pass,
                        format!("Report #{} passes: {}", f.report_id, f.sentence),
                    )
                };
                push("fairness".into(), label, status, detail, link);
            }
        }
    }

    let challenger = ev.champion.is_some_and(|c| c != ev.version);
    if policy.ab_required_for_challengers && challenger {
        let champion = ev.champion.unwrap_or_default();
        let label = format!("A/B test against v{champion} decided to ship");
        match &ev.ab_test {
            None => push(
                "ab_test".into(),
                label,
                CheckStatus::Missing,
                format!(
                    "'{}' serves v{champion}; no decided A/B test has {}@{} as a variant.",
                    ev.alias, ev.model, ev.version
                ),
                None,
            ),
            Some(t) => {
                let link = Some(format!("/experiments/{}", t.test_id));
                let (status, detail) = match (t.decision.as_str(), stale(t.at_ms)) {
                    ("ship", None) => (
                        CheckStatus::Pass,
                        format!("'{}': ship. {}", t.name, t.sentence),
                    ),
                    ("ship", Some(age)) => (
                        CheckStatus::Fail,
                        format!("'{}': ship, but the decision is {age}.", t.name),
                    ),
                    (other, _) => (
                        CheckStatus::Fail,
                        format!(
                            "'{}': the decision was {}.",
                            t.name,
                            other.replace('_', " ")
                        ),
                    ),
                };
                push("ab_test".into(), label, status, detail, link);
            }
        }
    }

    if policy.require_training_datasets || policy.require_digests {
        let label = if policy.require_digests {
            "Training datasets known, with digests".to_string()
        } else {
            "Training datasets known".to_string()
        };
        let link = ev
            .run
            .as_ref()
            .map(|_| super::url::model_lineage_href(&ev.model, ev.version));
        let (status, detail) = if ev.datasets.is_empty() {
            (
                CheckStatus::Missing,
                if ev.run.is_some() {
                    "The linked run logged no training dataset.".to_string()
                } else {
                    "No training run is linked, so no dataset is known.".to_string()
                },
            )
        } else {
            let undigested: Vec<&str> = ev
                .datasets
                .iter()
                .filter(|d| d.digest.as_deref().is_none_or(str::is_empty))
                .map(|d| d.name.as_str())
                .collect();
            if policy.require_digests && !undigested.is_empty() {
                (
                    CheckStatus::Fail,
                    format!("No digest for {}.", undigested.join(", ")),
                )
            } else {
                let names: Vec<&str> = ev.datasets.iter().map(|d| d.name.as_str()).collect();
                (
                    CheckStatus::Pass,
                    format!("Trained on {}.", names.join(", ")),
                )
            }
        };
        push("lineage".into(), label, status, detail, link);
    }

    if policy.require_artifact {
        let label = "Model files sealed, digest matches the store".to_string();
        let link = Some(super::url::model_version_href(&ev.model, ev.version));
        let (status, detail) = match &ev.artifact {
            None => (
                CheckStatus::Missing,
                "The version's files are not stored in Gatehouse: log the model with the MLflow client so its bytes can be bound to the approval.".to_string(),
            ),
            Some(a) if !a.sealed => (
                CheckStatus::Fail,
                format!("{} is not finalized: its files can still change.", a.source),
            ),
            Some(a) => match &a.verified {
                None => (
                    CheckStatus::Missing,
                    format!("{}: {}, never re-hashed.", a.source, a.digest),
                ),
                Some(v) if !v.ok => (
                    CheckStatus::Fail,
                    format!("{}: the stored bytes no longer match {} ({}).", a.source, a.digest, v.detail),
                ),
                Some(_) => (
                    CheckStatus::Pass,
                    format!(
                        "{}: {} file{}, {} bytes, {}.",
                        a.source,
                        a.files,
                        if a.files == 1 { "" } else { "s" },
                        a.bytes,
                        a.digest
                    ),
                ),
            },
        };
        push("artifact".into(), label, status, detail, link);
    }

    for c in &mut out {
        if c.status == CheckStatus::Pass {
            continue;
        }
        if let Some(w) = waivers.iter().rev().find(|w| w.check == c.id) {
            c.status = CheckStatus::Waived;
            c.waiver = Some(w.clone());
        }
    }
    out
}

/// Whether every check passes or is waived.
pub fn all_clear(checks: &[Check]) -> bool {
    checks
        .iter()
        .all(|c| matches!(c.status, CheckStatus::Pass | CheckStatus::Waived))
}

/// Why `approver` may not approve, if they may not.
pub fn approval_refusal(
    policy: &Policy,
    requester: &str,
    approver: &str,
    run_author: Option<&str>,
) -> Option<String> {
    if requester == approver {
        return Some("You requested this promotion: someone else has to approve it.".into());
    }
    if !policy.run_author_may_approve && run_author.is_some_and(|a| a == approver) {
        return Some(
            "You trained the linked run, and the policy does not let a run's author approve its promotion."
                .into(),
        );
    }
    None
}

/// Why a waiver of `check` by someone holding `roles` is refused, if it is.
pub fn waiver_refusal(
    policy: &Policy,
    check: &Check,
    roles: &[Role],
    reason: &str,
) -> Option<String> {
    if reason.trim().chars().count() < 10 {
        return Some("A waiver needs a written reason of at least 10 characters.".into());
    }
    if check.status == CheckStatus::Pass {
        return Some(format!(
            "'{}' passes; there is nothing to waive.",
            check.label
        ));
    }
    if !check.waivable {
        return Some(format!(
            "The policy does not allow '{}' to be waived.",
            check.label
        ));
    }
    if !roles.iter().any(|r| policy.waiver_roles.contains(r)) {
        let allowed: Vec<&str> = policy.waiver_roles.iter().map(|r| r.as_str()).collect();
        return Some(format!(
            "Only {} may waive checks under this policy.",
            if allowed.is_empty() {
                "nobody".to_string()
            } else {
                allowed.join(", ")
            }
        ));
    }
    None
}

#[cfg(test)]
mod tests;
