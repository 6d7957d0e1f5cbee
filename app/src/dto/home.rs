//! The home page: what each role came for, read from the workspace as it stands.

use crate::dto::registry::QueueItem;
use crate::dto::{AbTestSummary, AuditRow};
use serde::{Deserialize, Serialize};

/// Everything the home page shows to one user; a section is `None` when none of the user's
/// roles asks for it, and an empty list when it really is empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Home {
    /// The server's time of the answer (RFC 3339): ages are measured against it, so the page
    /// never reads the clock.
    pub now: String,
    /// The signed-in user.
    pub username: String,
    /// What each alias serves, protected ones first.
    pub serving: Vec<Serving>,
    /// For compliance reviewers.
    pub reviewer: Option<ReviewerHome>,
    /// For product managers.
    pub product: Option<ProductHome>,
    /// For data scientists.
    pub scientist: Option<ScientistHome>,
    /// For auditors and administrators.
    pub auditor: Option<AuditorHome>,
    /// For administrators.
    pub admin: Option<AdminHome>,
    /// Latest audit entries the user may see: everyone's for auditors, else their own.
    pub recent: Vec<AuditRow>,
    /// Whether `recent` is everyone's entries.
    pub recent_is_everyone: bool,
}

/// An alias and the version it serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Serving {
    /// Registered model.
    pub model: String,
    /// Alias, such as `production`.
    pub alias: String,
    /// Version it points at.
    pub version: i64,
    /// When it was moved there (ms since the epoch), when the move is on record.
    pub since_ms: Option<i64>,
    /// Who moved it.
    pub moved_by: Option<String>,
    /// Whether the model's policy protects the alias (moves need an approved request).
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::store::Flag"))]
    pub protected: bool,
    /// Pending requests to move this alias.
    pub pending: i64,
}

/// A reviewer's part: requests waiting for them, and the latest decisions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ReviewerHome {
    /// Pending requests someone else made that this reviewer has not yet reviewed, oldest first.
    pub waiting: Vec<QueueItem>,
    /// Latest approvals and rejections by anyone, newest first.
    pub decided: Vec<RecentReview>,
}

/// An approval or rejection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RecentReview {
    /// Request.
    pub request_id: i64,
    /// Model.
    pub name: String,
    /// The model version the request promotes.
    pub version: i64,
    /// The alias it would move, such as `production`.
    pub alias: String,
    /// Who reviewed it.
    pub reviewer: String,
    /// approve or reject.
    pub decision: String,
    /// When (RFC 3339).
    pub reviewed_at: String,
    /// The request's status now.
    pub status: String,
}

/// A product manager's part: tests collecting data and tests whose verdict is in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ProductHome {
    /// Running tests with their current verdict.
    pub running: Vec<AbTestSummary>,
    /// Running or stopped tests whose verdict says ship or roll back and no decision is recorded.
    pub ready: Vec<AbTestSummary>,
}

/// A data scientist's part: their runs and their requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ScientistHome {
    /// Their latest runs, newest first.
    pub runs: Vec<RecentRun>,
    /// Their pending promotion requests, with what still blocks each.
    pub requests: Vec<QueueItem>,
}

/// A run as listed on the home page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RecentRun {
    /// The MLflow run's 32-hex-digit id.
    pub run_id: String,
    /// Its display name (`run_name`).
    pub run_name: String,
    /// The MLflow experiment it belongs to.
    pub experiment_id: i64,
    /// That experiment's name.
    pub experiment_name: String,
    /// RUNNING, FINISHED, FAILED, …
    pub status: String,
    /// Start (ms since the epoch).
    pub start_time: Option<i64>,
}

/// An auditor's part: the trail's state and the changes that need a second look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AuditorHome {
    /// The latest verification of the chain.
    pub last_verification: Option<VerificationRecord>,
    /// The latest signed checkpoint: entries covered, when.
    pub checkpoint: Option<(i64, String)>,
    /// Entries in the trail.
    pub entries: i64,
    /// Latest waivers, policy changes, user and role changes, newest first.
    pub sensitive: Vec<AuditRow>,
}

/// One verification of the audit chain, from the Audit page or `server verify-audit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct VerificationRecord {
    /// When (RFC 3339).
    pub verified_at: String,
    /// Who (a user, or `operator` for the command line).
    pub verified_by: String,
    /// Whether every entry matched.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::store::Flag"))]
    pub ok: bool,
    /// Entries verified.
    pub entries: i64,
    /// Signed checkpoints checked.
    pub checkpoints: i64,
    /// The outcome in words.
    pub message: String,
}

/// An administrator's part: accounts and credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdminHome {
    /// User accounts.
    pub users: i64,
    /// Live API tokens.
    pub live_tokens: i64,
}
