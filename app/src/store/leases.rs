//! Leases on periodic jobs, so that each runs on one server of a database at a time.

use super::begin_write;
use crate::store::Pool;

/// Takes or renews the lease on `job` for `holder` until `now_ms + ttl_ms`. True when `holder`
/// holds it now: it was free, had lapsed, or was already `holder`'s.
pub async fn acquire(
    pool: &Pool,
    job: &str,
    holder: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    let taken = sqlx::query(
        "INSERT INTO job_leases (job, holder, until_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
         WHERE job_leases.holder = excluded.holder OR job_leases.until_ms <= $4",
    )
    .bind(job)
    .bind(holder)
    .bind(now_ms.saturating_add(ttl_ms))
    .bind(now_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    Ok(taken)
}

/// Gives the lease on `job` up if `holder` holds it (a server shutting down), so another
/// takes the job at its next tick instead of after the lease lapses.
pub async fn release(pool: &Pool, job: &str, holder: &str) -> Result<(), sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
        .bind(job)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
