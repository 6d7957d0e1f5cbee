//! Verifying the chain: every entry recomputed in sequence order on a read-only snapshot.

use super::VerifyReport;
use crate::domain::audit_chain::{ChainBreak, ChainVerifier, EntryFields};
use crate::domain::merkle::{self, Accumulator};
use crate::dto::CheckpointView;
use crate::store::audit_tree::{leaf_of, Checkpoint};
use crate::store::Pool;
use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OpenFlags};
use std::iter::Peekable;
use std::path::Path;

/// Recomputes the whole chain in sequence order, stopping at the first break.
///
/// Runs on a blocking thread over its own read-only connection to the database file, inside one
/// read transaction: a consistent snapshot even while others append.
///
/// On PostgreSQL the rows stream through the pool inside one `REPEATABLE READ` transaction,
/// the same snapshot guarantee.
pub async fn verify(pool: &Pool) -> Result<VerifyReport, sqlx::Error> {
    let key = crate::service::signing::key_for(pool)
        .map_err(|e| sqlx::Error::Protocol(format!("audit signing key: {e}")))?
        .verifying_key();
    if crate::store::backend(pool) == crate::store::Backend::Postgres {
        return verify_through_pool(pool, &key).await;
    }
    let path = crate::store::sqlite_file(pool)?;
    tokio::task::spawn_blocking(move || verify_file(&path, &key))
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("verification task failed: {e}")))?
        .map_err(|e| sqlx::Error::Protocol(format!("verification failed: {e}")))
}

/// The verification over the database file at `path`, in one read transaction.
fn verify_file(path: &Path, key: &VerifyingKey) -> Result<VerifyReport, rusqlite::Error> {
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
    let checkpoints = read_checkpoints(&tx)?;
    let mut walk = Walk::new(key, &checkpoints);
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
            let fields = EntryFields {
                seq: row.get(0)?,
                ts: text(1)?,
                actor: text(2)?,
                action: text(3)?,
                object_type: text(4)?,
                object_id: text(5)?,
                details: text(6)?,
                prev_hash: text(7)?,
            };
            if !walk.entry(&fields, text(8)?) {
                break;
            }
        }
    }
    tx.finish()?;
    Ok(report(walk, &checkpoints, key, last_assigned))
}

/// The walk's report, once every entry has been read.
fn report(
    mut walk: Walk<'_>,
    checkpoints: &[Checkpoint],
    key: &VerifyingKey,
    last_assigned: i64,
) -> VerifyReport {
    walk.finish(last_assigned);
    let checkpoint = checkpoints.last().map(|c| CheckpointView {
        tree_size: c.tree_size,
        root_hash: c.root_hash.clone(),
        issued_at: c.issued_at.clone(),
        key_id: c.key_id.clone(),
        signature: c.signature.clone(),
        public_key: hex::encode(key.as_bytes()),
    });
    walk.report(checkpoint)
}

/// The verification through the pool (PostgreSQL), rows streamed from one snapshot; the
/// highest number ever appended is `audit_high_water`'s (SQLite's is in `sqlite_sequence`).
async fn verify_through_pool(pool: &Pool, key: &VerifyingKey) -> Result<VerifyReport, sqlx::Error> {
    use futures_util::TryStreamExt;
    type Entry = (
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let checkpoints: Vec<Checkpoint> = sqlx::query_as::<_, (i64, String, String, String, String)>(
        "SELECT tree_size, root_hash, issued_at, key_id, signature FROM audit_checkpoints ORDER BY tree_size",
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(tree_size, root_hash, issued_at, key_id, signature)| Checkpoint {
        tree_size,
        root_hash,
        issued_at,
        key_id,
        signature,
    })
    .collect();
    let last_assigned: i64 =
        sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM audit_high_water")
            .fetch_one(&mut *tx)
            .await?;
    let mut walk = Walk::new(key, &checkpoints);
    {
        let mut rows = sqlx::query_as::<_, Entry>(
            "SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch(&mut *tx);
        while let Some((seq, ts, actor, action, object_type, object_id, details, prev_hash, hash)) =
            rows.try_next().await?
        {
            let fields = EntryFields {
                seq,
                ts: &ts,
                actor: &actor,
                action: &action,
                object_type: &object_type,
                object_id: &object_id,
                details: &details,
                prev_hash: &prev_hash,
            };
            if !walk.entry(&fields, &hash) {
                break;
            }
        }
    }
    tx.rollback().await?;
    Ok(report(walk, &checkpoints, key, last_assigned))
}

/// Every signed checkpoint, smallest tree first.
fn read_checkpoints(tx: &rusqlite::Transaction<'_>) -> Result<Vec<Checkpoint>, rusqlite::Error> {
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
    rows.collect()
}

/// One pass over the log in sequence order: the chain so far, the Merkle tree of the entries
/// so far, and the signed checkpoints, each checked when the tree reaches its size.
struct Walk<'a> {
    key: &'a VerifyingKey,
    chain: ChainVerifier,
    tree: Accumulator,
    pending: Peekable<std::slice::Iter<'a, Checkpoint>>,
    checked: i64,
    bad_checkpoint: Option<String>,
    broken: Option<(i64, ChainBreak)>,
}

impl<'a> Walk<'a> {
    fn new(key: &'a VerifyingKey, checkpoints: &'a [Checkpoint]) -> Self {
        Walk {
            key,
            chain: ChainVerifier::default(),
            tree: Accumulator::default(),
            pending: checkpoints.iter().peekable(),
            checked: 0,
            bad_checkpoint: None,
            broken: None,
        }
    }

    /// Takes the next entry; false once the chain is broken (the walk stops there).
    fn entry(&mut self, fields: &EntryFields<'_>, hash: &str) -> bool {
        if let Err(b) = self.chain.push(fields, hash) {
            self.broken = Some((fields.seq, b));
            return false;
        }
        self.tree.push(leaf_of(hash));
        while let Some(c) = self
            .pending
            .next_if(|c| c.tree_size as u64 <= self.tree.size())
        {
            if self.bad_checkpoint.is_none() {
                self.bad_checkpoint = self.check(c);
            }
        }
        true
    }

    /// What is wrong with checkpoint `c` now that the tree has reached its size, if anything.
    fn check(&mut self, c: &Checkpoint) -> Option<String> {
        let root = merkle::to_hex(&self.tree.root());
        if c.tree_size as u64 != self.tree.size() || root != c.root_hash {
            Some(format!(
                "the signed checkpoint of {} entries has root {}, but those entries now hash to {root}: they were changed after it was signed",
                c.tree_size, c.root_hash
            ))
        } else if !crate::service::signing::verify_checkpoint(self.key, c) {
            Some(format!(
                "the checkpoint of {} entries does not carry a valid signature of this server's key",
                c.tree_size
            ))
        } else {
            self.checked += 1;
            None
        }
    }

    /// After the last entry: entries missing at the end, and checkpoints beyond the log.
    fn finish(&mut self, last_assigned: i64) {
        if self.broken.is_none() {
            if let Err(b) = self.chain.finish(last_assigned) {
                self.broken = Some(b);
            }
        }
        if self.broken.is_none() && self.bad_checkpoint.is_none() {
            if let Some(c) = self.pending.next() {
                self.bad_checkpoint = Some(format!(
                    "a signed checkpoint covers {} entries but the log holds {}: entries were removed",
                    c.tree_size,
                    self.tree.size()
                ));
            }
        }
    }

    /// The report: the first broken entry, else the first bad checkpoint, else intact.
    fn report(self, checkpoint: Option<CheckpointView>) -> VerifyReport {
        let checked = self.checked;
        let count = self.chain.count();
        let (ok, first_bad_seq, reason, message) = match (self.broken, self.bad_checkpoint) {
            (Some((seq, why)), _) => (
                false,
                Some(seq),
                Some(why.clone()),
                format!("entry {seq}: {}", why.describe()),
            ),
            (None, Some(why)) => (false, None, None, why),
            (None, None) if checked > 0 => (
                true,
                None,
                None,
                format!(
                    "{count} entries verified, and {checked} signed checkpoint{} match",
                    if checked == 1 { "" } else { "s" }
                ),
            ),
            (None, None) => (true, None, None, format!("{count} entries verified")),
        };
        VerifyReport {
            ok,
            verified: count,
            head_hash: self.chain.head_hash().to_owned(),
            first_bad_seq,
            reason,
            message,
            merkle_root: merkle::to_hex(&self.tree.root()),
            checkpoints_verified: checked,
            checkpoint,
        }
    }
}
