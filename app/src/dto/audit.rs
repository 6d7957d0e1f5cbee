//! The audit trail as pages show it: entries, the verification report and checkpoints.

use crate::domain::audit_chain::ChainBreak;
use serde::{Deserialize, Serialize};

/// A stored audit entry as shown to readers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
    /// RFC 6962 Merkle root of the entries verified (hex).
    #[serde(default)]
    pub merkle_root: String,
    /// Signed checkpoints whose root and signature were checked against the entries.
    #[serde(default)]
    pub checkpoints_verified: i64,
    /// The newest signed checkpoint.
    #[serde(default)]
    pub checkpoint: Option<CheckpointView>,
}

/// A signed checkpoint (tree head) of the audit trail, with the key that signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CheckpointView {
    /// Entries covered.
    pub tree_size: i64,
    /// RFC 6962 root (hex).
    pub root_hash: String,
    /// When it was signed.
    pub issued_at: String,
    /// Key id (first 16 hex digits of the SHA-256 of the public key).
    pub key_id: String,
    /// Ed25519 signature (hex) over `gatehouse.audit.checkpoint.v1\n<size>\n<root>\n<issued_at>\n`.
    pub signature: String,
    /// The Ed25519 public key (hex).
    pub public_key: String,
}
