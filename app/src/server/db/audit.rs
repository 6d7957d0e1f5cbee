//! The `audit_log` table: append inside the caller's transaction, filtered keyset pages, and
//! a streaming chain verification.

use crate::domain::audit_chain::{
    canonical_json, entry_hash_hex, ChainBreak, ChainVerifier, EntryFields, GENESIS_HASH,
};
use crate::domain::audit_query::{AuditFilter, PAGE_SIZE};
pub use crate::model::{AuditRow, VerifyReport};
use futures_util::TryStreamExt;
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

async fn head(conn: &mut SqliteConnection) -> Result<(i64, String, String), sqlx::Error> {
    let row: Option<(i64, String, String)> =
        sqlx::query_as("SELECT seq, ts, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.unwrap_or((0, String::new(), GENESIS_HASH.to_owned())))
}

/// Appends entries in order within the caller's transaction (which should hold the write lock,
/// see [`super::begin_write`]); returns the sequence number of the last one.
pub async fn append_all(
    conn: &mut SqliteConnection,
    now_ts: &str,
    entries: &[NewEntry],
) -> Result<i64, sqlx::Error> {
    let (mut seq, last_ts, mut prev) = head(conn).await?;
    // Timestamps never go backwards along the chain, even if the clock does.
    let ts = if last_ts.as_str() > now_ts {
        last_ts
    } else {
        now_ts.to_owned()
    };
    for e in entries {
        seq += 1;
        let details = canonical_json(&e.details);
        let hash = entry_hash_hex(&EntryFields {
            seq,
            ts: &ts,
            actor: &e.actor,
            action: &e.action,
            object_type: &e.object_type,
            object_id: &e.object_id,
            details: &details,
            prev_hash: &prev,
        });
        sqlx::query(
            "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id, details, prev_hash, hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(seq)
        .bind(&ts)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.object_type)
        .bind(&e.object_id)
        .bind(&details)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
        prev = hash;
    }
    Ok(seq)
}

/// Appends one entry within the caller's transaction.
pub async fn append(conn: &mut SqliteConnection, entry: NewEntry) -> Result<i64, sqlx::Error> {
    append_all(conn, &crate::server::now_ts(), std::slice::from_ref(&entry)).await
}

/// Narrows a time range to a sequence range: timestamps are non-decreasing along the chain, so
/// the `ts` index turns a time bound into a seq bound and every filter can walk a seq index.
async fn seq_bounds(
    pool: &SqlitePool,
    f: &AuditFilter,
) -> Result<(Option<i64>, Option<i64>), sqlx::Error> {
    let lo = match &f.from_ts {
        Some(from) => Some(
            sqlx::query_scalar::<_, Option<i64>>("SELECT min(seq) FROM audit_log WHERE ts >= ?")
                .bind(from)
                .fetch_one(pool)
                .await?
                .unwrap_or(i64::MAX),
        ),
        None => None,
    };
    let hi = match &f.to_ts {
        Some(to) => Some(
            sqlx::query_scalar::<_, Option<i64>>("SELECT max(seq) FROM audit_log WHERE ts < ?")
                .bind(to)
                .fetch_one(pool)
                .await?
                .unwrap_or(0),
        ),
        None => None,
    };
    Ok((lo, hi))
}

/// Up to `limit` entries matching `filter`, newest first, below the filter's cursor.
pub async fn page(
    pool: &SqlitePool,
    f: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let (lo, hi) = seq_bounds(pool, f).await?;
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash, hash FROM audit_log WHERE 1=1",
    );
    if let Some(a) = &f.actor {
        q.push(" AND actor = ").push_bind(a.clone());
    }
    if let Some(a) = &f.action {
        q.push(" AND action = ").push_bind(a.clone());
    }
    if let Some(p) = &f.action_prefix {
        // Range on the index instead of LIKE, which would not use it.
        q.push(" AND action >= ").push_bind(p.clone());
        q.push(" AND action < ").push_bind(format!("{p}\u{10FFFF}"));
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
    if let Some(b) = f.before_seq {
        q.push(" AND seq < ").push_bind(b);
    }
    q.push(" ORDER BY seq DESC LIMIT ")
        .push_bind(limit.clamp(1, 10 * PAGE_SIZE));
    q.build_query_as::<AuditRow>().fetch_all(pool).await
}

/// Number of entries in the log.
pub async fn count(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(pool)
        .await
}

/// Recomputes the whole chain in sequence order, stopping at the first break.
pub async fn verify(pool: &SqlitePool) -> Result<VerifyReport, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    // One read transaction: a consistent snapshot even while others append.
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    let result = verify_in(&mut conn).await;
    let _ = sqlx::query("COMMIT").execute(&mut *conn).await;
    result
}

async fn verify_in(conn: &mut SqliteConnection) -> Result<VerifyReport, sqlx::Error> {
    let last_assigned: i64 = sqlx::query_scalar(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)",
    )
    .fetch_one(&mut *conn)
    .await?;
    let mut v = ChainVerifier::default();
    let mut broken: Option<(i64, ChainBreak)> = None;
    {
        let mut rows = sqlx::query_as::<_, (i64, String, String, String, String, String, String, String, String)>(
            "SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch(&mut *conn);
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
            if let Err(b) = v.push(&fields, &hash) {
                broken = Some((seq, b));
                break;
            }
        }
    }
    if broken.is_none() {
        if let Err(b) = v.finish(last_assigned) {
            broken = Some(b);
        }
    }
    Ok(match broken {
        None => VerifyReport {
            ok: true,
            verified: v.count(),
            head_hash: v.head_hash().to_owned(),
            first_bad_seq: None,
            reason: None,
            message: format!("{} entries verified", v.count()),
        },
        Some((seq, why)) => VerifyReport {
            ok: false,
            verified: v.count(),
            head_hash: v.head_hash().to_owned(),
            first_bad_seq: Some(seq),
            message: format!("entry {seq}: {}", why.describe()),
            reason: Some(why),
        },
    })
}
