//! Verifying the chain: every entry recomputed in sequence order on a read-only snapshot.

use super::VerifyReport;
use crate::domain::audit_chain::{ChainBreak, ChainVerifier, EntryFields};
use sqlx::SqlitePool;

/// Recomputes the whole chain in sequence order, stopping at the first break.
///
/// Runs on a blocking thread over its own read-only connection to the database file, inside one
/// read transaction: a consistent snapshot even while others append.
pub async fn verify(pool: &SqlitePool) -> Result<VerifyReport, sqlx::Error> {
    let path = pool.connect_options().get_filename().to_path_buf();
    let key = crate::service::signing::key_for(pool)
        .map_err(|e| sqlx::Error::Protocol(format!("audit signing key: {e}")))?
        .verifying_key();
    tokio::task::spawn_blocking(move || verify_file(&path, &key))
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("verification task failed: {e}")))?
        .map_err(|e| sqlx::Error::Protocol(format!("verification failed: {e}")))
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
fn verify_file(
    path: &std::path::Path,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<VerifyReport, rusqlite::Error> {
    use crate::domain::merkle::{self, Accumulator};
    use crate::store::audit_tree::{leaf_of, Checkpoint};
    use rusqlite::{Connection, OpenFlags};
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let tx = conn.transaction()?;
    let last_assigned: i64 = tx.query_row(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)",
        [],
        |r| r.get(0),
    )?;
    let checkpoints: Vec<Checkpoint> = {
        let mut stmt = tx.prepare(
            "SELECT tree_size, root_hash, issued_at, key_id, signature FROM audit_checkpoints ORDER BY tree_size",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Checkpoint {
                tree_size: r.get(0)?,
                root_hash: r.get(1)?,
                issued_at: r.get(2)?,
                key_id: r.get(3)?,
                signature: r.get(4)?,
            })
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let mut pending = checkpoints.iter().peekable();
    let mut acc = Accumulator::default();
    let mut checked = 0i64;
    let mut bad_checkpoint: Option<String> = None;
    let mut v = ChainVerifier::default();
    let mut broken: Option<(i64, ChainBreak)> = None;
    {
        let mut stmt = tx.prepare(
            "SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash, hash FROM audit_log ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let text = |i: usize| -> Result<&str, rusqlite::Error> {
                row.get_ref(i)?.as_str().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        i,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })
            };
            let seq: i64 = row.get(0)?;
            let fields = EntryFields {
                seq,
                ts: text(1)?,
                actor: text(2)?,
                action: text(3)?,
                object_type: text(4)?,
                object_id: text(5)?,
                details: text(6)?,
                prev_hash: text(7)?,
            };
            let hash = text(8)?;
            if let Err(b) = v.push(&fields, hash) {
                broken = Some((seq, b));
                break;
            }
            acc.push(leaf_of(hash));
            while let Some(c) = pending.next_if(|c| c.tree_size as u64 <= acc.size()) {
                if bad_checkpoint.is_some() {
                    continue;
                }
                let root = merkle::to_hex(&acc.root());
                if c.tree_size as u64 != acc.size() || root != c.root_hash {
                    bad_checkpoint = Some(format!(
                        "the signed checkpoint of {} entries has root {}, but those entries now hash to {root}: they were changed after it was signed",
                        c.tree_size, c.root_hash
                    ));
                } else if !crate::service::signing::verify_checkpoint(key, c) {
                    bad_checkpoint = Some(format!(
                        "the checkpoint of {} entries does not carry a valid signature of this server's key",
                        c.tree_size
                    ));
                } else {
                    checked += 1;
                }
            }
        }
    }
    tx.finish()?;
    if broken.is_none() {
        if let Err(b) = v.finish(last_assigned) {
            broken = Some(b);
        }
    }
    if broken.is_none() && bad_checkpoint.is_none() {
        if let Some(c) = pending.next() {
            bad_checkpoint = Some(format!(
                "a signed checkpoint covers {} entries but the log holds {}: entries were removed",
                c.tree_size,
                acc.size()
            ));
        }
    }
    let merkle_root = merkle::to_hex(&acc.root());
    let checkpoint = checkpoints.last().map(|c| crate::dto::CheckpointView {
        tree_size: c.tree_size,
        root_hash: c.root_hash.clone(),
        issued_at: c.issued_at.clone(),
        key_id: c.key_id.clone(),
        signature: c.signature.clone(),
        public_key: hex::encode(key.as_bytes()),
    });
    if let (None, Some(why)) = (&broken, bad_checkpoint) {
        return Ok(VerifyReport {
            ok: false,
            verified: v.count(),
            head_hash: v.head_hash().to_owned(),
            first_bad_seq: None,
            reason: None,
            message: why,
            merkle_root,
            checkpoints_verified: checked,
            checkpoint,
        });
    }
    Ok(match broken {
        None => VerifyReport {
            ok: true,
            verified: v.count(),
            head_hash: v.head_hash().to_owned(),
            first_bad_seq: None,
            reason: None,
            message: if checked > 0 {
                format!(
                    "{} entries verified, and {checked} signed checkpoint{} match",
                    v.count(),
                    if checked == 1 { "" } else { "s" }
                )
            } else {
                format!("{} entries verified", v.count())
            },
            merkle_root,
            checkpoints_verified: checked,
            checkpoint,
        },
        Some((seq, why)) => VerifyReport {
            ok: false,
            verified: v.count(),
            head_hash: v.head_hash().to_owned(),
            first_bad_seq: Some(seq),
            message: format!("entry {seq}: {}", why.describe()),
            reason: Some(why),
            merkle_root,
            checkpoints_verified: checked,
            checkpoint,
        },
    })
}
