//! The `audit_log` table: append inside the caller's transaction, filtered keyset pages, and
//! a streaming chain verification.

use crate::domain::audit_chain::{
    canonical_json, entry_hash_hex, ChainBreak, ChainVerifier, EntryFields, GENESIS_HASH,
};
use crate::domain::audit_query::{AuditFilter, PAGE_SIZE};
pub use crate::dto::{AuditRow, VerifyReport};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

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

async fn head(conn: &mut SqliteConnection) -> Result<(i64, String, String), sqlx::Error> {
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
    conn: &mut SqliteConnection,
    now_ts: &str,
    entries: &[NewEntry],
) -> Result<i64, sqlx::Error> {
    let head = head(conn).await?;
    let mut last = head.0;
    let (ts, rows) = chain(head, now_ts, entries);
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
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
        q.build().execute(&mut *conn).await?;
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
pub async fn append(conn: &mut SqliteConnection, entry: NewEntry) -> Result<i64, sqlx::Error> {
    append_all(
        conn,
        &crate::service::now_ts(),
        std::slice::from_ref(&entry),
    )
    .await
}

/// Narrows a time range to a sequence range: timestamps are non-decreasing along the chain, so
/// one seek in the `ts` index finds each bound and every filter can then walk a seq index.
async fn seq_bounds(
    pool: &SqlitePool,
    f: &AuditFilter,
) -> Result<(Option<i64>, Option<i64>), sqlx::Error> {
    let lo = match &f.from_ts {
        Some(from) => Some(
            sqlx::query_scalar::<_, i64>(
                "SELECT seq FROM audit_log WHERE ts >= ? ORDER BY ts, seq LIMIT 1",
            )
            .bind(from)
            .fetch_optional(pool)
            .await?
            .unwrap_or(i64::MAX),
        ),
        None => None,
    };
    let hi = match &f.to_ts {
        Some(to) => Some(
            sqlx::query_scalar::<_, i64>(
                "SELECT seq FROM audit_log WHERE ts < ? ORDER BY ts DESC, seq DESC LIMIT 1",
            )
            .bind(to)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0),
        ),
        None => None,
    };
    Ok((lo, hi))
}

/// The distinct actions starting with `prefix`, found by hopping through the action index
/// (one seek per distinct action, however many entries each has).
async fn actions_with_prefix(pool: &SqlitePool, prefix: &str) -> Result<Vec<String>, sqlx::Error> {
    let upper = format!("{prefix}\u{10FFFF}");
    sqlx::query_scalar(
        "WITH RECURSIVE hop(a) AS ( \
           SELECT (SELECT min(action) FROM audit_log WHERE action >= ?1 AND action < ?2) \
           UNION ALL \
           SELECT (SELECT min(action) FROM audit_log WHERE action > hop.a AND action < ?2) FROM hop WHERE hop.a IS NOT NULL \
         ) SELECT a FROM hop WHERE a IS NOT NULL LIMIT 1000",
    )
    .bind(prefix)
    .bind(upper)
    .fetch_all(pool)
    .await
}

/// Up to `limit` entries matching `filter`, newest first, below the filter's cursor.
pub async fn page(
    pool: &SqlitePool,
    f: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let (lo, hi) = seq_bounds(pool, f).await?;
    let limit = limit.clamp(1, 10 * PAGE_SIZE);
    let Some(prefix) = &f.action_prefix else {
        return page_exact(pool, f, f.action.as_deref(), lo, hi, limit).await;
    };
    // A prefix would make SQLite sort every matching row by seq; instead take the newest
    // `limit` of each matching action from its own index range and merge them.
    let mut rows = Vec::new();
    for action in actions_with_prefix(pool, prefix).await? {
        rows.extend(page_exact(pool, f, Some(&action), lo, hi, limit).await?);
    }
    rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.seq));
    rows.truncate(limit as usize);
    Ok(rows)
}

/// Which actions a query keeps: one exactly, or every one with a prefix (as a range).
enum ActionMatch<'a> {
    Any,
    Exact(&'a str),
    Prefix(&'a str),
}

/// `SELECT … WHERE` the filter's conditions, within the sequence range `lo..=hi` (the cursor
/// is the caller's to add): the one place that says what a filter matches.
fn filtered<'a>(
    f: &AuditFilter,
    action: ActionMatch<'_>,
    lo: Option<i64>,
    hi: Option<i64>,
) -> QueryBuilder<'a, Sqlite> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash, hash FROM audit_log WHERE 1=1",
    );
    if let Some(a) = &f.actor {
        q.push(" AND actor = ").push_bind(a.clone());
    }
    match action {
        ActionMatch::Any => {}
        ActionMatch::Exact(a) => {
            q.push(" AND action = ").push_bind(a.to_owned());
        }
        ActionMatch::Prefix(p) => {
            q.push(" AND action >= ")
                .push_bind(p.to_owned())
                .push(" AND action < ")
                .push_bind(format!("{p}\u{10FFFF}"));
        }
    }
    if let Some(t) = &f.object_type {
        q.push(" AND object_type = ").push_bind(t.clone());
    }
    if let Some(i) = &f.object_id {
        q.push(" AND object_id = ").push_bind(i.clone());
    }
    if let Some(lo) = lo {
        q.push(" AND seq >= ").push_bind(lo);
    }
    if let Some(hi) = hi {
        q.push(" AND seq <= ").push_bind(hi);
    }
    if let Some(t) = &f.text {
        // A scan in sequence order, stopping at the limit: cheap for common words, a full
        // pass (about a second at a million entries) for rare ones.
        q.push(" AND instr(lower(actor || ' ' || action || ' ' || object_type || ' ' || object_id || ' ' || details), ")
            .push_bind(t.to_lowercase())
            .push(") > 0");
    }
    q
}

async fn page_exact(
    pool: &SqlitePool,
    f: &AuditFilter,
    action: Option<&str>,
    lo: Option<i64>,
    hi: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let action = action.map_or(ActionMatch::Any, ActionMatch::Exact);
    let mut q = filtered(f, action, lo, hi);
    if let Some(b) = f.before_seq {
        q.push(" AND seq < ").push_bind(b);
    }
    q.push(" ORDER BY seq DESC LIMIT ").push_bind(limit);
    q.build_query_as::<AuditRow>().fetch_all(pool).await
}

/// Every entry matching `f` (the cursor ignored), oldest first, in one pass; at most `max`
/// (an error names the limit when more match). For exports.
pub async fn all_matching(
    pool: &SqlitePool,
    f: &AuditFilter,
    max: usize,
) -> Result<Result<Vec<AuditRow>, usize>, sqlx::Error> {
    let (lo, hi) = seq_bounds(pool, f).await?;
    let action = match (&f.action, &f.action_prefix) {
        (Some(a), _) => ActionMatch::Exact(a),
        (None, Some(p)) => ActionMatch::Prefix(p),
        (None, None) => ActionMatch::Any,
    };
    let mut q = filtered(f, action, lo, hi);
    q.push(" ORDER BY seq LIMIT ").push_bind(max as i64 + 1);
    let rows = q.build_query_as::<AuditRow>().fetch_all(pool).await?;
    if rows.len() > max {
        return Ok(Err(max));
    }
    Ok(Ok(rows))
}

/// One page (`PAGE_SIZE` entries) for `filter`, and the cursor of the next, older page.
pub async fn page_with_cursor(
    pool: &SqlitePool,
    f: &AuditFilter,
) -> Result<(Vec<AuditRow>, Option<i64>), sqlx::Error> {
    // One extra row tells whether an older page exists without a count query.
    let mut entries = page(pool, f, PAGE_SIZE + 1).await?;
    let next_before = if entries.len() as i64 > PAGE_SIZE {
        entries.truncate(PAGE_SIZE as usize);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok((entries, next_before))
}

/// The overview's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    /// User accounts.
    pub users: i64,
    /// API tokens not revoked.
    pub live_tokens: i64,
    /// Entries in the audit trail.
    pub audit_entries: i64,
}

/// What the overview shows, read on the calling thread (see [`super::read_inline`]): users,
/// live API tokens and audit entries, and the newest `limit` entries (only `actor`'s, when
/// given). The chain numbers entries from 1 without gaps, so the last number is the entry
/// count: one index seek, where count(*) reads the whole table (tens of ms at a million
/// entries). The newest entries are one walk down the `seq` (or `actor, seq`) index.
pub fn overview(
    pool: &SqlitePool,
    actor: Option<&str>,
    limit: i64,
) -> Result<(Totals, Vec<AuditRow>), rusqlite::Error> {
    super::read_inline(pool, |db| {
        let totals = db
            .prepare_cached(
                "SELECT (SELECT count(*) FROM users), \
                        (SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL \
                           AND (expires_at IS NULL OR expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))), \
                        coalesce((SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1), 0)",
            )?
            .query_row([], |r| {
                Ok(Totals {
                    users: r.get(0)?,
                    live_tokens: r.get(1)?,
                    audit_entries: r.get(2)?,
                })
            })?;
        const COLUMNS: &str =
            "seq, ts, actor, action, object_type, object_id, details, prev_hash, hash";
        let row = |r: &rusqlite::Row<'_>| {
            Ok(AuditRow {
                seq: r.get(0)?,
                ts: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                object_type: r.get(4)?,
                object_id: r.get(5)?,
                details: r.get(6)?,
                prev_hash: r.get(7)?,
                hash: r.get(8)?,
            })
        };
        let recent = match actor {
            Some(a) => db
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE actor = ? ORDER BY seq DESC LIMIT ?"
                ))?
                .query_map(rusqlite::params![a, limit], row)?
                .collect::<Result<Vec<_>, _>>()?,
            None => db
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT ?"
                ))?
                .query_map([limit], row)?
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok((totals, recent))
    })
}

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
