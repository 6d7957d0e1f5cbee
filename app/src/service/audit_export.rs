//! Audit exports that verify offline: exactly the filtered entries, each with its RFC 6962
//! inclusion proof against one signed checkpoint that covers them all, as JSON or CSV.
//!
//! `server verify-audit --export FILE [--public-key HEX]` checks, without the database: the
//! checkpoint's Ed25519 signature; each entry's chain hash recomputed from its fields; each
//! inclusion proof against the checkpoint's root; and the chain link between consecutive
//! entries. The CSV carries the values exactly as hashed (no spreadsheet escaping), one entry
//! per row, with the checkpoint repeated in its last six columns.

use crate::domain::audit_query::AuditFilter;
use crate::domain::csv;
use crate::domain::merkle::{self};
use crate::dto::{AuditRow, CheckpointView};
use crate::error::AppError;
use crate::store::Pool;
use crate::store::{audit, audit_tree};
use serde::{Deserialize, Serialize};

mod verify;

pub use verify::*;

/// Format tag of an export.
pub const FORMAT: &str = "gatehouse.audit.export.v1";

/// Most entries one export holds.
pub const MAX_ENTRIES: usize = 1_000_000;

/// One exported entry with its proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportEntry {
    /// Sequence number (leaf index + 1).
    pub seq: i64,
    /// Timestamp as hashed.
    pub ts: String,
    /// Who made the change (a username, or `system`).
    pub actor: String,
    /// What was done, for example `promotion.approve`.
    pub action: String,
    /// The kind of object changed, for example `model_version`.
    pub object_type: String,
    /// Which object, in its kind's own id form.
    pub object_id: String,
    /// Canonical JSON details.
    pub details: String,
    /// Previous entry's hash.
    pub prev_hash: String,
    /// This entry's chain hash.
    pub hash: String,
    /// Inclusion proof in the checkpoint's tree, nearest sibling first (hex).
    pub audit_path: Vec<String>,
}

/// A verifiable export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// The export format's name and version, [`FORMAT`].
    pub format: String,
    /// When it was made.
    pub exported_at: String,
    /// The filter, as query pairs.
    pub filter: Vec<(String, String)>,
    /// The signed checkpoint every proof is against.
    pub checkpoint: CheckpointView,
    /// The entries, oldest first.
    pub entries: Vec<ExportEntry>,
}

/// Every entry matching `f`, oldest first (at most [`MAX_ENTRIES`]).
async fn matching(pool: &Pool, f: &AuditFilter) -> Result<Vec<AuditRow>, AppError> {
    audit::all_matching(pool, f, MAX_ENTRIES)
        .await?
        .map_err(|max| {
            AppError::validation(
                "filter",
                format!("more than {max} entries match: narrow the filter"),
            )
        })
}

/// Builds the export of the entries matching `f`, signing a checkpoint of the trail first.
pub async fn build(pool: &Pool, f: &AuditFilter) -> Result<Export, AppError> {
    build_many(pool, std::slice::from_ref(f)).await
}

/// Builds one export of the entries matching any of `filters` (each entry once, in order).
pub async fn build_many(pool: &Pool, filters: &[AuditFilter]) -> Result<Export, AppError> {
    let cp = crate::service::signing::checkpoint_now(pool)
        .await?
        .ok_or_else(|| AppError::not_found("the audit trail is empty"))?;
    let key = crate::service::signing::key_for(pool).map_err(|e| {
        tracing::error!(error = %e, "audit signing key unavailable");
        AppError::internal()
    })?;
    let size = cp.tree_size.max(0) as u64;
    let started = std::time::Instant::now();
    let mut rows: Vec<AuditRow> = Vec::new();
    for f in filters {
        rows.extend(matching(pool, f).await?);
    }
    rows.sort_unstable_by_key(|r| r.seq);
    rows.dedup_by_key(|r| r.seq);
    rows.retain(|r| r.seq as u64 <= size);
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq as u64).collect();
    let read = started.elapsed();
    let snap = audit_tree::snapshot(pool, size, &seqs).await?;
    let loaded = started.elapsed();
    // Proofs are pure hashing over the snapshot: off the async workers, on both cores.
    let entries = tokio::task::spawn_blocking(move || prove_all(&snap, rows, size))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "export proof task failed");
            AppError::internal()
        })??;
    tracing::info!(
        entries = entries.len(),
        read_ms = read.as_millis() as u64,
        snapshot_ms = (loaded - read).as_millis() as u64,
        proofs_ms = (started.elapsed() - loaded).as_millis() as u64,
        "audit export built"
    );
    Ok(Export {
        format: FORMAT.into(),
        exported_at: crate::service::now_ts(),
        filter: filters
            .iter()
            .flat_map(|f| f.to_query_pairs())
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        checkpoint: CheckpointView {
            tree_size: cp.tree_size,
            root_hash: cp.root_hash,
            issued_at: cp.issued_at,
            key_id: cp.key_id,
            signature: cp.signature,
            public_key: crate::service::signing::public_key_hex(&key),
        },
        entries,
    })
}

fn prove_all(
    snap: &audit_tree::Snapshot,
    rows: Vec<AuditRow>,
    size: u64,
) -> Result<Vec<ExportEntry>, AppError> {
    let prove = |rows: Vec<AuditRow>| -> Result<Vec<ExportEntry>, AppError> {
        let mut out = Vec::with_capacity(rows.len());
        let mut memo = merkle::Memo::new(snap);
        for r in rows {
            let path = merkle::inclusion_proof(&mut memo, r.seq as u64 - 1, size)?
                .map_err(|_| AppError::internal())?;
            out.push(ExportEntry {
                seq: r.seq,
                ts: r.ts,
                actor: r.actor,
                action: r.action,
                object_type: r.object_type,
                object_id: r.object_id,
                details: r.details,
                prev_hash: r.prev_hash,
                hash: r.hash,
                audit_path: path.iter().map(merkle::to_hex).collect(),
            });
        }
        Ok(out)
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if rows.len() < 2_000 || threads == 1 {
        return prove(rows);
    }
    let per = rows.len().div_ceil(threads);
    let mut chunks: Vec<Vec<AuditRow>> = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        chunks.push(rows.by_ref().take(per).collect());
    }
    let results: Vec<Result<Vec<ExportEntry>, AppError>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || prove(c)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(AppError::internal())))
            .collect()
    });
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

const CSV_HEADER: [&str; 16] = [
    "seq",
    "ts",
    "actor",
    "action",
    "object_type",
    "object_id",
    "details",
    "prev_hash",
    "hash",
    "audit_path",
    "tree_size",
    "root_hash",
    "checkpoint_issued_at",
    "key_id",
    "signature",
    "public_key",
];

/// The export as CSV; the checkpoint's six columns are filled on the first row only.
pub fn to_csv(e: &Export) -> String {
    let per_row: usize = e
        .entries
        .first()
        .map(|x| 200 + x.details.len() + x.audit_path.len() * 65)
        .unwrap_or(0);
    let mut out = String::with_capacity(per_row * e.entries.len() + 1024);
    out.push_str(&CSV_HEADER.join(","));
    out.push('\n');
    let c = &e.checkpoint;
    let tail = [
        c.tree_size.to_string(),
        c.root_hash.clone(),
        c.issued_at.clone(),
        c.key_id.clone(),
        c.signature.clone(),
        c.public_key.clone(),
    ]
    .map(|s| csv::cell(&s).into_owned())
    .join(",");
    for (i, x) in e.entries.iter().enumerate() {
        out.push_str(&x.seq.to_string());
        for cell in [
            &x.ts,
            &x.actor,
            &x.action,
            &x.object_type,
            &x.object_id,
            &x.details,
            &x.prev_hash,
            &x.hash,
        ] {
            out.push(',');
            out.push_str(&csv::cell(cell));
        }
        out.push(',');
        for (k, h) in x.audit_path.iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            out.push_str(h);
        }
        out.push(',');
        if i == 0 {
            out.push_str(&tail);
        } else {
            out.push_str(",,,,,");
        }
        out.push('\n');
    }
    out
}
