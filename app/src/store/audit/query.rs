//! Reading the trail: filtered keyset pages (time bounds narrowed to sequence ranges,
//! action prefixes hopped through the index) and the overview's counts.

use super::AuditRow;
use crate::domain::audit_query::{AuditFilter, PAGE_SIZE};
use crate::store::{Db, Pool};
use sqlx::QueryBuilder;

/// Narrows a time range to a sequence range: timestamps are non-decreasing along the chain, so
/// one seek in the `ts` index finds each bound and every filter can then walk a seq index.
async fn seq_bounds(
    pool: &Pool,
    f: &AuditFilter,
) -> Result<(Option<i64>, Option<i64>), sqlx::Error> {
    let lo = match &f.from_ts {
        Some(from) => Some(
            sqlx::query_scalar::<_, i64>(
                "SELECT seq FROM audit_log WHERE ts >= $1 ORDER BY ts, seq LIMIT 1",
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
                "SELECT seq FROM audit_log WHERE ts < $1 ORDER BY ts DESC, seq DESC LIMIT 1",
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
async fn actions_with_prefix(pool: &Pool, prefix: &str) -> Result<Vec<String>, sqlx::Error> {
    let upper = format!("{prefix}\u{10FFFF}");
    sqlx::query_scalar(
        "WITH RECURSIVE hop(a) AS ( \
           SELECT (SELECT min(action) FROM audit_log WHERE action >= $1 AND action < $2) \
           UNION ALL \
           SELECT (SELECT min(action) FROM audit_log WHERE action > hop.a AND action < $2) FROM hop WHERE hop.a IS NOT NULL \
         ) SELECT a FROM hop WHERE a IS NOT NULL LIMIT 1000",
    )
    .bind(prefix)
    .bind(upper)
    .fetch_all(pool)
    .await
}

/// Up to `limit` entries matching `filter`, newest first, below the filter's cursor.
pub async fn page(pool: &Pool, f: &AuditFilter, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
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
pub(super) enum ActionMatch<'a> {
    Any,
    Exact(&'a str),
    Prefix(&'a str),
}

/// `SELECT … WHERE` the filter's conditions, within the sequence range `lo..=hi` (the cursor
/// is the caller's to add): the one place that says what a filter matches.
pub(super) fn filtered<'a>(
    f: &AuditFilter,
    action: ActionMatch<'_>,
    lo: Option<i64>,
    hi: Option<i64>,
) -> QueryBuilder<'a, Db> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(
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
    pool: &Pool,
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
    crate::store::sql::fetch_all_as::<AuditRow, _>(&mut q, pool).await
}

/// Every entry matching `f` (the cursor ignored), oldest first, in one pass; at most `max`
/// (an error names the limit when more match). For exports.
pub async fn all_matching(
    pool: &Pool,
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
    let rows = crate::store::sql::fetch_all_as::<AuditRow, _>(&mut q, pool).await?;
    if rows.len() > max {
        return Ok(Err(max));
    }
    Ok(Ok(rows))
}

/// One page (`PAGE_SIZE` entries) for `filter`, and the cursor of the next, older page.
pub async fn page_with_cursor(
    pool: &Pool,
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

/// What the overview shows: users, live API tokens and audit entries, and the newest `limit`
/// entries (only `actor`'s, when given); on SQLite read on the calling thread (see
/// [`crate::store::read_inline`]). The chain numbers entries from 1 without gaps, so the last
/// number is the entry count: one index seek, where count(*) reads the whole table (tens of ms
/// at a million entries). The newest entries are one walk down the `seq` (or `actor, seq`)
/// index.
pub async fn overview(
    pool: &Pool,
    actor: Option<&str>,
    limit: i64,
    now: &str,
) -> Result<(Totals, Vec<AuditRow>), crate::store::DriverError> {
    const TOTALS: &str = "SELECT (SELECT count(*) FROM users), \
            (SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL \
               AND (expires_at IS NULL OR expires_at > $1)), \
            coalesce((SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1), 0)";
    const COLUMNS: &str =
        "seq, ts, actor, action, object_type, object_id, details, prev_hash, hash";
    // rusqlite binds by position, so the numbers appear in order.
    let recent_sql = match actor {
        Some(_) => {
            format!("SELECT {COLUMNS} FROM audit_log WHERE actor = $1 ORDER BY seq DESC LIMIT $2")
        }
        None => format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT $1"),
    };
    if crate::store::backend(pool) == crate::store::Backend::Postgres {
        let (users, live_tokens, audit_entries): (i64, i64, i64) =
            sqlx::query_as(TOTALS).bind(now).fetch_one(pool).await?;
        let q = sqlx::query_as::<_, AuditRow>(&recent_sql);
        let q = match actor {
            Some(a) => q.bind(a),
            None => q,
        };
        let recent = q.bind(limit).fetch_all(pool).await?;
        let totals = Totals {
            users,
            live_tokens,
            audit_entries,
        };
        return Ok((totals, recent));
    }
    Ok(crate::store::read_inline(pool, |db| {
        let totals = db.prepare_cached(TOTALS)?.query_row([now], |r| {
            Ok(Totals {
                users: r.get(0)?,
                live_tokens: r.get(1)?,
                audit_entries: r.get(2)?,
            })
        })?;
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
        let mut stmt = db.prepare_cached(&recent_sql)?;
        let recent = match actor {
            Some(a) => stmt.query_map(rusqlite::params![a, limit], row)?,
            None => stmt.query_map(rusqlite::params![limit], row)?,
        }
        .collect::<Result<Vec<_>, _>>()?;
        Ok((totals, recent))
    })?)
}
