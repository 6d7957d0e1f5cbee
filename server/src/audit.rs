//! The audit trail's REST routes: a page of entries, verification, the latest signed
//! checkpoint, inclusion and consistency proofs, and the export with its proofs.

use crate::api::{needs, Api, Param};
use app::domain::audit_query::AuditFilterInput;
use app::domain::authz::Action;
use app::domain::merkle;
use app::error::AppError;
use app::service::signing;
use app::service::state::AppState;
use app::store;
use app::store::audit_tree::{self, Checkpoint};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

/// The audit trail's filters, as `GET /api/v1/audit` and the export take them.
const AUDIT_FILTER: &[Param] = &[
    ("actor", "Exact actor"),
    (
        "action",
        "Exact action, or a prefix ending in '.' such as user.",
    ),
    ("object_type", "Object type"),
    ("object_id", "Object identifier (needs object_type)"),
    (
        "from",
        "Earliest time, inclusive: RFC 3339, YYYY-MM-DDTHH:MM[:SS] (UTC) or YYYY-MM-DD",
    ),
    ("to", "Latest time, exclusive; same forms"),
    (
        "before",
        "Entries below this sequence number (the next page's cursor)",
    ),
    ("q", "Free text in the actor, action, object or details"),
];
/// What `GET /api/v1/audit/export` takes.
const AUDIT_EXPORT: &[Param] = &[
    ("format", "json (default) or csv"),
    ("actor", "Exact actor"),
    ("action", "Exact action, or a prefix ending in '.'"),
    ("object_type", "Object type"),
    ("object_id", "Object identifier (needs object_type)"),
    ("from", "Earliest time, inclusive"),
    ("to", "Latest time, exclusive"),
    ("q", "Free text"),
];

/// The routes under `/api/v1/audit`.
pub fn router(state: AppState) -> Api {
    use Action::*;
    Api::gated(state.clone())
        .get(
            "/api/v1/audit",
            list_audit,
            needs(
                ReadAudit,
                "A page of the audit trail, newest first, filtered",
            )
            .query(AUDIT_FILTER),
        )
        .get(
            "/api/v1/audit/verify",
            verify_audit,
            needs(
                VerifyAudit,
                "Recompute the hash chain, the Merkle root and every signed checkpoint",
            ),
        )
        .get(
            "/api/v1/audit/checkpoint",
            audit_checkpoint,
            needs(
                ReadAudit,
                "The latest signed checkpoint (tree size, root, signature, public key)",
            ),
        )
        .get(
            "/api/v1/audit/export",
            export_audit,
            needs(
                ExportAudit,
                "The filtered entries with their inclusion proofs and a signed checkpoint",
            )
            .query(AUDIT_EXPORT),
        )
        .get(
            "/api/v1/audit/consistency",
            audit_consistency,
            needs(ReadAudit, "A consistency proof between two tree sizes").query(&[
                ("first", "The older tree size"),
                ("second", "The newer tree size (default: the log's)"),
            ]),
        )
        .get(
            "/api/v1/audit/entries/{seq}/proof",
            audit_proof,
            needs(ReadAudit, "An entry's inclusion proof").query(&[(
                "tree_size",
                "The tree to prove against (default: the newest checkpoint covering it)",
            )]),
        )
        .with_state(state)
}

/// `GET /api/v1/audit/verify`: recompute the chain (auditor or admin).
pub async fn verify_audit(
    State(state): State<AppState>,
    crate::extract::Caller(p): crate::extract::Caller,
) -> Result<Json<app::dto::VerifyReport>, AppError> {
    // Sign a checkpoint of the log as it stands, so the answer covers every entry.
    signing::checkpoint_now(&state.pool).await?;
    let report = store::audit::verify(&state.pool).await?;
    app::service::record_verification(&state.pool, &p.username, &report).await?;
    Ok(Json(report))
}

fn checkpoint_json(state: &AppState, c: &Checkpoint) -> Result<app::dto::CheckpointView, AppError> {
    let key = signing::key_for(&state.pool).map_err(|e| {
        tracing::error!(error = %e, "audit signing key unavailable");
        AppError::internal()
    })?;
    Ok(app::dto::CheckpointView {
        tree_size: c.tree_size,
        root_hash: c.root_hash.clone(),
        issued_at: c.issued_at.clone(),
        key_id: c.key_id.clone(),
        signature: c.signature.clone(),
        public_key: signing::public_key_hex(&key),
    })
}

/// `GET /api/v1/audit/checkpoint`: the newest signed checkpoint (signing one of the log as it
/// stands when it has grown), with the public key to check it.
pub async fn audit_checkpoint(
    State(state): State<AppState>,
) -> Result<Json<app::dto::CheckpointView>, AppError> {
    let c = signing::checkpoint_now(&state.pool)
        .await?
        .ok_or_else(|| AppError::not_found("the audit trail is empty"))?;
    Ok(Json(checkpoint_json(&state, &c)?))
}

/// Tree size of a proof query.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct ProofQuery {
    /// Tree to prove against (default: the newest checkpoint covering the entry).
    pub tree_size: Option<String>,
}

fn parse_size(field: &str, s: &str) -> Result<u64, AppError> {
    s.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        AppError::validation(
            field,
            format!("'{s}' is not a tree size (a whole number from 1)"),
        )
    })
}

/// An RFC 6962 inclusion proof: the entry's leaf is in the tree of `tree_size` entries.
#[derive(Serialize, schemars::JsonSchema)]
pub struct InclusionProof {
    /// The entry's sequence number.
    pub seq: u64,
    /// Its leaf's index in the tree (`seq - 1`).
    pub leaf_index: u64,
    /// Entries in the tree proved against.
    pub tree_size: u64,
    /// The entry's leaf hash, hex.
    pub leaf_hash: String,
    /// The sibling hashes from the leaf up, hex.
    pub audit_path: Vec<String>,
    /// The tree's root, hex.
    pub root_hash: String,
    /// The signed checkpoint of that tree size, when one was signed.
    pub checkpoint: Option<app::dto::CheckpointView>,
}

/// `GET /api/v1/audit/entries/{seq}/proof?tree_size=N`: the RFC 6962 inclusion proof of an
/// entry.
pub async fn audit_proof(
    State(state): State<AppState>,
    Path(seq): Path<String>,
    Query(q): Query<ProofQuery>,
) -> Result<Json<InclusionProof>, AppError> {
    let seq = parse_size("seq", &seq)?;
    let log = audit_tree::log_size(&state.pool).await?;
    if seq > log {
        return Err(AppError::not_found(format!(
            "no audit entry {seq} (the trail holds {log})"
        )));
    }
    let size = match q.tree_size.as_deref() {
        Some(s) => parse_size("tree_size", s)?,
        None => match audit_tree::latest_checkpoint(&state.pool).await? {
            Some(c) if c.tree_size as u64 >= seq => c.tree_size as u64,
            _ => signing::checkpoint_now(&state.pool)
                .await?
                .map(|c| c.tree_size as u64)
                .unwrap_or(log),
        },
    };
    if size > log {
        return Err(AppError::validation(
            "tree_size",
            format!("the trail holds only {log} entries"),
        ));
    }
    let proof = audit_tree::inclusion_proof(&state.pool, seq, size)
        .await?
        .ok_or_else(|| {
            AppError::validation(
                "tree_size",
                format!("entry {seq} is not in a tree of {size} entries"),
            )
        })?;
    let leaf = audit_tree::leaf(&state.pool, seq)
        .await?
        .ok_or_else(AppError::internal)?;
    let root = audit_tree::root_at(&state.pool, size).await?;
    let checkpoint = match audit_tree::checkpoint(&state.pool, size).await? {
        Some(c) => Some(checkpoint_json(&state, &c)?),
        None => None,
    };
    Ok(Json(InclusionProof {
        seq,
        leaf_index: seq - 1,
        tree_size: size,
        leaf_hash: merkle::to_hex(&leaf),
        audit_path: proof.iter().map(merkle::to_hex).collect(),
        root_hash: merkle::to_hex(&root),
        checkpoint,
    }))
}

/// The two sizes of a consistency query.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct ConsistencyQuery {
    /// The older tree.
    pub first: Option<String>,
    /// The newer tree (default: the log's size).
    pub second: Option<String>,
}

/// An RFC 6962 consistency proof: the tree of `first` entries is a prefix of the tree of
/// `second`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ConsistencyProof {
    /// The older tree's size.
    pub first: u64,
    /// The newer tree's size.
    pub second: u64,
    /// The older tree's root, hex.
    pub first_root: String,
    /// The newer tree's root, hex.
    pub second_root: String,
    /// The proof's hashes, hex, in RFC 6962 order.
    pub proof: Vec<String>,
}

/// `GET /api/v1/audit/consistency?first=M&second=N`: the RFC 6962 consistency proof that the
/// tree of M entries is a prefix of the tree of N.
pub async fn audit_consistency(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, AppError> {
    let log = audit_tree::log_size(&state.pool).await?;
    let first = parse_size(
        "first",
        q.first.as_deref().ok_or_else(|| {
            AppError::validation("first", "first is required: the older tree size")
        })?,
    )?;
    let second = match q.second.as_deref() {
        Some(s) => parse_size("second", s)?,
        None => log,
    };
    if second > log {
        return Err(AppError::validation(
            "second",
            format!("the trail holds only {log} entries"),
        ));
    }
    if first > second {
        return Err(AppError::validation(
            "first",
            format!("first ({first}) is above second ({second})"),
        ));
    }
    let proof = audit_tree::consistency_proof(&state.pool, first, second)
        .await?
        .ok_or_else(|| AppError::validation("first", "first must be at least 1"))?;
    let first_root = audit_tree::root_at(&state.pool, first).await?;
    let second_root = audit_tree::root_at(&state.pool, second).await?;
    Ok(Json(ConsistencyProof {
        first,
        second,
        first_root: merkle::to_hex(&first_root),
        second_root: merkle::to_hex(&second_root),
        proof: proof.iter().map(merkle::to_hex).collect(),
    }))
}

/// One page of audit entries over REST.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditList {
    /// Entries, newest first.
    pub entries: Vec<app::dto::AuditRow>,
    /// Cursor for the next (older) page.
    pub next_before: Option<i64>,
}

/// `GET /api/v1/audit?actor=&action=&object_type=&object_id=&from=&to=&before=` (auditor or admin).
pub async fn list_audit(
    State(state): State<AppState>,
    query: Result<Query<AuditFilterInput>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditList>, AppError> {
    let Query(input) = query.map_err(|e| AppError::validation("query", e.body_text()))?;
    let f = input.validate()?;
    let (entries, next_before) = store::audit::page_with_cursor(&state.pool, &f).await?;
    Ok(Json(AuditList {
        entries,
        next_before,
    }))
}

/// `GET /api/v1/audit/export?format=json|csv&<the list's filters>`: exactly the matching
/// entries with their inclusion proofs and the signed checkpoint they are proven against
/// (auditors and admins); `server verify-audit --export FILE` checks it offline.
pub async fn export_audit(
    State(state): State<AppState>,
    query: Result<
        Query<std::collections::HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<axum::response::Response, AppError> {
    let Query(mut q) = query.map_err(|e| AppError::validation("query", e.body_text()))?;
    let format = q.remove("format").unwrap_or_else(|| "json".into());
    let input: AuditFilterInput =
        serde_json::from_value(serde_json::to_value(&q).unwrap_or_default())
            .map_err(|e| AppError::validation("query", e.to_string()))?;
    let f = input.validate()?;
    let export = app::service::audit_export::build(&state.pool, &f).await?;
    let stamp = export.exported_at.get(..10).unwrap_or("export").to_string();
    let (body, ctype, ext) = match format.as_str() {
        "json" => (
            serde_json::to_string_pretty(&export).map_err(|_| AppError::internal())?,
            "application/json",
            "json",
        ),
        "csv" => (
            app::service::audit_export::to_csv(&export),
            "text/csv; charset=utf-8",
            "csv",
        ),
        other => {
            return Err(AppError::validation(
                "format",
                format!("'{other}' is not an export format (json or csv)"),
            ))
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"gatehouse-audit-{stamp}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}
