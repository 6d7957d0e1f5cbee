//! What a parsed policy holds, its defaults, and the names it may use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::parse_policy;
use crate::domain::roles::Role;

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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FairnessRule {
    /// A passing fairness report is required.
    pub required: bool,
    /// Sensitive attributes the report must cover.
    pub attributes: Vec<String>,
}

/// A policy text that is not valid, with where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
pub(super) fn known_check(id: &str) -> bool {
    matches!(
        id,
        "fairness" | "ab_test" | "lineage" | "artifact" | "metric:*"
    ) || id.strip_prefix("metric:").is_some_and(|m| !m.is_empty())
}
