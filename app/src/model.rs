//! Data carried between the server and the browser (server-function results).

use crate::domain::audit_chain::ChainBreak;
use crate::domain::roles::Role;
use serde::{Deserialize, Serialize};

/// A stored audit entry as shown to readers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditRow {
    /// Sequence number.
    pub seq: i64,
    /// UTC timestamp.
    pub ts: String,
    /// Who acted.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// Kind of object.
    pub object_type: String,
    /// Object identifier.
    pub object_id: String,
    /// Canonical JSON details.
    pub details: String,
    /// Previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Result of recomputing the audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// True when every entry matched.
    pub ok: bool,
    /// Entries verified before the first break (all of them when `ok`).
    pub verified: i64,
    /// Hash of the last verified entry.
    pub head_hash: String,
    /// Sequence number of the first entry that does not match.
    pub first_bad_seq: Option<i64>,
    /// Why it does not match.
    pub reason: Option<ChainBreak>,
    /// The outcome in words.
    pub message: String,
}

/// A user as listed for administrators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// Primary key.
    pub id: i64,
    /// Unique name.
    pub username: String,
    /// Roles held, sorted.
    pub roles: Vec<Role>,
    /// Creation time.
    pub created_at: String,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// An API token as listed for administrators (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TokenSummary {
    /// Primary key.
    pub id: i64,
    /// Owner's name.
    pub username: String,
    /// Label.
    pub name: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    /// Creation time.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// Last time it authenticated a request.
    pub last_used_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
}

/// A freshly created token: the secret is shown exactly once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// Token id.
    pub id: i64,
    /// The secret.
    pub token: String,
}

/// The signed-in user as the UI needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// Roles held.
    pub roles: Vec<Role>,
}

/// What every page needs to know about the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The signed-in user, if any.
    pub user: Option<UserInfo>,
    /// Whether the server runs with demo data.
    pub demo: bool,
}

/// The demo accounts, published on the sign-in page in demo mode only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccounts {
    /// Shared password of every demo account.
    pub password: String,
    /// User name and role of each account.
    pub accounts: Vec<(String, Role)>,
}
