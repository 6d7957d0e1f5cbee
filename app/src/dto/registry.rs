//! The model registry and promotion workflow as the browser sees them.

use crate::domain::promotion::{Check, Evidence, PolicyRef};
use crate::dto::AuditRow;
use serde::{Deserialize, Serialize};

/// A registered model with its tags and aliases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RegisteredModel {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// `low`, `medium` or `high`: how many approvals a promotion needs.
    pub risk_tier: String,
    /// Who registered it.
    pub created_by: String,
    /// Unix ms.
    pub creation_time: i64,
    /// Unix ms.
    pub last_updated_time: i64,
    /// Tags, by key.
    pub tags: Vec<(String, String)>,
    /// Aliases and the version each serves, by alias.
    pub aliases: Vec<(String, i64)>,
    /// Number of versions.
    pub version_count: i64,
    /// Highest version number, if any.
    pub latest_version: Option<i64>,
}

/// One model version with its tags and aliases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ModelVersion {
    /// Registered model.
    pub name: String,
    /// 1, 2, …
    pub version: i64,
    /// Where the model's files are.
    pub source: String,
    /// Training run (MLflow run id), if linked.
    pub run_id: Option<String>,
    /// The logged model it is (`m-…`), when registered from one.
    #[serde(default)]
    pub model_id: Option<String>,
    /// Link to the run elsewhere.
    pub run_link: String,
    /// Free text.
    pub description: String,
    /// Who registered it.
    pub user_id: String,
    /// Unix ms.
    pub creation_time: i64,
    /// Unix ms.
    pub last_updated_time: i64,
    /// Tags, by key.
    pub tags: Vec<(String, String)>,
    /// Aliases pointing at this version.
    pub aliases: Vec<String>,
}

/// One move of an alias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AliasMove {
    /// Id, in order.
    pub move_id: i64,
    /// Model.
    pub name: String,
    /// The alias that moved, such as `production`.
    pub alias: String,
    /// Version it now serves (`None`: removed).
    pub version: Option<i64>,
    /// Version it served before.
    pub previous_version: Option<i64>,
    /// Who moved it.
    pub moved_by: String,
    /// Unix ms.
    pub moved_at: i64,
    /// The promotion request that moved it, if one did.
    pub promotion_id: Option<i64>,
    /// Why (rollback, promotion, direct).
    pub note: String,
}

/// A promotion request as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PromotionRequest {
    /// Id.
    pub request_id: i64,
    /// Model.
    pub name: String,
    /// Version to serve.
    pub version: i64,
    /// Alias to move.
    pub alias: String,
    /// `promotion` or `rollback`.
    pub kind: String,
    /// Why.
    pub justification: String,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: String,
    /// When it lapses if still pending.
    pub expires_at: String,
    /// `pending`, `approved`, `rejected`, `withdrawn` or `expired`.
    pub status: String,
    /// When it was closed.
    pub closed_at: Option<String>,
    /// By whom (or `system` for expiry).
    pub closed_by: Option<String>,
    /// What the alias served when asked.
    pub previous_version: Option<i64>,
    /// The evidence bundle at request time (canonical JSON).
    pub evidence: String,
    /// Its SHA-256.
    pub evidence_sha256: String,
}

/// One reviewer's approval or rejection of a promotion request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Review {
    /// Who reviewed (never the requester).
    pub reviewer: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Their comment.
    pub comment: String,
    /// Digest of the evidence they saw.
    pub evidence_sha256: String,
    /// When.
    pub reviewed_at: String,
}

/// A review as shown, with whether the evidence changed since it was given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ReviewView {
    /// The stored review.
    pub review: Review,
    /// The evidence's digest now differs from the one the reviewer saw.
    pub evidence_changed: bool,
}

/// Everything the request page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RequestView {
    /// The stored request.
    pub request: PromotionRequest,
    /// The checklist, evaluated on the evidence as it is now (or as it was when the request
    /// closed).
    pub checks: Vec<Check>,
    /// The evidence now.
    pub evidence: Evidence,
    /// Its digest.
    pub evidence_sha256: String,
    /// The evidence changed since the request was made.
    pub changed_since_request: bool,
    /// Its reviews, oldest first.
    pub reviews: Vec<ReviewView>,
    /// Approvals so far.
    pub approvals: u32,
    /// Approvals the policy in force requires.
    pub approvals_needed: u32,
    /// Policy evaluated.
    pub policy: PolicyRef,
    /// Why the viewer may not approve (None: they may).
    pub approve_refusal: Option<String>,
    /// The viewer may waive failing checks (per the policy's roles).
    pub can_waive: bool,
    /// The viewer may withdraw it (the requester, while pending).
    pub can_withdraw: bool,
    /// Its audit entries, oldest first.
    pub history: Vec<AuditRow>,
}

/// A line of the reviewer queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct QueueItem {
    /// The stored request.
    pub request: PromotionRequest,
    /// Seconds since it was made, as of the server's answer.
    pub age_secs: i64,
    /// The model's risk tier.
    pub risk_tier: String,
    /// Checks passing or waived / all checks.
    pub checks_clear: usize,
    /// All checks.
    pub checks_total: usize,
    /// Checks failing or missing, by label.
    pub open_checks: Vec<String>,
    /// Checks waived, by label.
    pub waived_checks: Vec<String>,
    /// Approvals so far.
    pub approvals: u32,
    /// Approvals the policy in force requires.
    pub approvals_needed: u32,
}

/// What a review did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Outcome {
    /// The request's status afterwards.
    pub status: String,
    /// Whether the review completed the approvals and moved the alias.
    pub alias_moved: bool,
}

/// A registered model's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ModelDetail {
    /// The registry's record of the model.
    pub model: RegisteredModel,
    /// Its versions, newest first.
    pub versions: Vec<ModelVersion>,
    /// Every alias move, oldest first.
    pub history: Vec<AliasMove>,
    /// Its promotion requests, newest first.
    pub requests: Vec<PromotionRequest>,
    /// The viewer may request promotions.
    pub can_request: bool,
}

/// One stored version of a policy text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PolicyVersion {
    /// Row id.
    pub policy_id: i64,
    /// `*`, `tier:<tier>` or `model:<name>`.
    pub scope: String,
    /// 1, 2, … within the scope.
    pub version: i64,
    /// The TOML text.
    pub text: String,
    /// SHA-256 of the text.
    pub sha256: String,
    /// Who saved it.
    pub created_by: String,
    /// When.
    pub created_at: String,
}

/// The policies page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PoliciesView {
    /// Every stored version, newest first within a scope.
    pub versions: Vec<PolicyVersion>,
    /// The built-in default text, in force where no scope has one.
    pub default_text: String,
    /// The viewer may save policies.
    pub can_edit: bool,
}
