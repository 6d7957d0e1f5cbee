//! The `audit_log` table: append inside the caller's transaction, filtered keyset pages, and
//! a streaming chain verification.

use crate::domain::audit_chain::{canonical_json, entry_hash_hex, EntryFields, GENESIS_HASH};
pub use crate::dto::{AuditRow, VerifyReport};
use crate::store::{Conn, Db};
use sqlx::QueryBuilder;

mod query;
mod verify;

pub use query::*;
pub use verify::*;

/// An entry to append; the sequence number, time and hashes are assigned by [`append`].
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// Who acted.
    pub actor: String,
    /// What happened, `noun.verb`.
    pub action: String,
    /// Kind of object.
    pub object_type: String,
    /// Object identifier.
    pub object_id: String,
    /// Structured details (stored as canonical JSON).
    pub details: serde_json::Value,
}

impl NewEntry {
    /// Shorthand constructor.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        object_type: impl Into<String>,
        object_id: impl Into<String>,
        details: serde_json::Value,
    ) -> Self {
        NewEntry {
            actor: actor.into(),
            action: action.into(),
            object_type: object_type.into(),
            object_id: object_id.into(),
            details,
        }
    }
}

/// The chain's last row.
const HEAD: &str = "SELECT seq, ts, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

/// The chain's last row, read under the chain's lock. On SQLite the write transaction holds the
/// database's one write lock already; on PostgreSQL, where writers run side by side (on this
/// server and on others), the chain's own transaction-scoped advisory lock is taken first, so
/// each entry's `seq` and `prev_hash` follow the entry committed before it: concurrent writers
/// queue here, at the end of their transactions, and the lock goes with the commit.
async fn head(conn: &mut Conn) -> Result<(i64, String, String), sqlx::Error> {
    crate::store::xact_lock(conn, crate::store::XactLock::AuditChain).await?;
    let row: Option<(i64, String, String)> =
        sqlx::query_as(HEAD).fetch_optional(&mut *conn).await?;
    Ok(row.unwrap_or((0, String::new(), GENESIS_HASH.to_owned())))
}

/// Rows per INSERT statement: 9 parameters each, well under SQLite's limit of 32,766.
const INSERT_CHUNK: usize = 200;

/// An audit row ready to insert: its place in the chain and both hashes assigned.
struct Chained<'a> {
    seq: i64,
    entry: &'a NewEntry,
    details: String,
    prev_hash: String,
    hash: String,
}

/// Links entries onto the chain whose last row is (`seq`, `last_ts`, `prev`); returns the
/// time they all carry and the rows.
fn chain<'a>(
    (mut seq, last_ts, mut prev): (i64, String, String),
    now_ts: &str,
    entries: &'a [NewEntry],
) -> (String, Vec<Chained<'a>>) {
    // Timestamps never go backwards along the chain, even if the clock does.
    let ts = if last_ts.as_str() > now_ts {
        last_ts
    } else {
        now_ts.to_owned()
    };
    let rows = entries
        .iter()
        .map(|entry| {
            seq += 1;
            let details = canonical_json(&entry.details);
            let hash = entry_hash_hex(&EntryFields {
                seq,
                ts: &ts,
                actor: &entry.actor,
                action: &entry.action,
                object_type: &entry.object_type,
                object_id: &entry.object_id,
                details: &details,
                prev_hash: &prev,
            });
            let prev_hash = std::mem::replace(&mut prev, hash.clone());
            Chained {
                seq,
                entry,
                details,
                prev_hash,
                hash,
            }
        })
        .collect();
    (ts, rows)
}

/// Appends entries in order within the caller's transaction (which should hold the write lock,
/// see [`super::begin_write`]); returns the sequence number of the last one.
pub async fn append_all(
    conn: &mut Conn,
    now_ts: &str,
    entries: &[NewEntry],
) -> Result<i64, sqlx::Error> {
    let head = head(conn).await?;
    let mut last = head.0;
    let (ts, rows) = chain(head, now_ts, entries);
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id, details, prev_hash, hash) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.seq)
                .push_bind(ts.as_str())
                .push_bind(r.entry.actor.as_str())
                .push_bind(r.entry.action.as_str())
                .push_bind(r.entry.object_type.as_str())
                .push_bind(r.entry.object_id.as_str())
                .push_bind(r.details.as_str())
                .push_bind(r.prev_hash.as_str())
                .push_bind(r.hash.as_str());
        });
        crate::store::sql::execute(&mut q, &mut *conn).await?;
        last = chunk.last().map_or(last, |r| r.seq);
    }
    Ok(last)
}

/// [`append_all`] for a writer holding its own rusqlite connection (the lineage ingest
/// thread), inside that connection's write transaction.
pub fn append_all_sync(
    db: &rusqlite::Connection,
    now_ts: &str,
    entries: &[NewEntry],
) -> Result<i64, rusqlite::Error> {
    use rusqlite::OptionalExtension;
    let head = db
        .prepare_cached(HEAD)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .unwrap_or((0, String::new(), GENESIS_HASH.to_owned()));
    let mut last = head.0;
    let (ts, rows) = chain(head, now_ts, entries);
    let mut insert = db.prepare_cached(
        "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id, details, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for r in rows {
        insert.execute(rusqlite::params![
            r.seq,
            ts,
            r.entry.actor,
            r.entry.action,
            r.entry.object_type,
            r.entry.object_id,
            r.details,
            r.prev_hash,
            r.hash
        ])?;
        last = r.seq;
    }
    Ok(last)
}

/// Appends one entry within the caller's transaction.
pub async fn append(conn: &mut Conn, entry: NewEntry) -> Result<i64, sqlx::Error> {
    append_all(
        conn,
        &crate::service::now_ts(),
        std::slice::from_ref(&entry),
    )
    .await
}
