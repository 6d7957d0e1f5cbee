//! Promotion policies (versioned per scope), promotion requests, reviews and waivers.

use crate::domain::promotion::Waiver;
pub use crate::dto::registry::{PolicyVersion, PromotionRequest as Request, Review};
use crate::error::AppError;
use crate::store::{Conn, Pool};

mod evidence;
mod policies;

pub use evidence::*;
pub use policies::*;

const REQUEST_COLUMNS: &str = "request_id, name, version, alias, kind, justification, requested_by, requested_at, expires_at, status, \
     closed_at, closed_by, previous_version, evidence, evidence_sha256";

/// Stores a new pending request; returns its id.
pub async fn insert_request(conn: &mut Conn, r: &Request) -> Result<i64, AppError> {
    let id = sqlx::query_scalar(
        "INSERT INTO promotion_requests (name, version, alias, kind, justification, requested_by, requested_at, expires_at, status, \
         previous_version, evidence, evidence_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11) \
         ON CONFLICT DO NOTHING RETURNING request_id",
    )
    .bind(&r.name)
    .bind(r.version)
    .bind(&r.alias)
    .bind(&r.kind)
    .bind(&r.justification)
    .bind(&r.requested_by)
    .bind(&r.requested_at)
    .bind(&r.expires_at)
    .bind(r.previous_version)
    .bind(&r.evidence)
    .bind(&r.evidence_sha256)
    .fetch_optional(&mut *conn)
    .await?;
    id.ok_or_else(|| {
        AppError::conflict(format!(
            "{}@{} already has a pending request for '{}'",
            r.name, r.version, r.alias
        ))
    })
}

/// One request.
pub async fn get_request(conn: &mut Conn, id: i64) -> Result<Option<Request>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE request_id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
}

/// Requests in a status (all when `None`), newest first.
pub async fn list_requests(
    pool: &Pool,
    status: Option<&str>,
    model: Option<&str>,
) -> Result<Vec<Request>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR name = $2) \
         ORDER BY requested_at DESC, request_id DESC LIMIT 1000"
    ))
    .bind(status)
    .bind(model)
    .fetch_all(pool)
    .await
}

/// Reviews of a request, oldest first.
pub async fn reviews(conn: &mut Conn, id: i64) -> Result<Vec<Review>, sqlx::Error> {
    sqlx::query_as(
        "SELECT reviewer, decision, comment, evidence_sha256, reviewed_at FROM promotion_reviews \
         WHERE request_id = $1 ORDER BY reviewed_at, review_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
}

/// Records a review (one per reviewer and request). An approval given on evidence that has
/// since changed has lapsed: the reviewer's new review replaces it (the lapsed one stays in
/// the audit trail); a review on the current evidence cannot be given twice.
pub async fn insert_review(conn: &mut Conn, id: i64, r: &Review) -> Result<(), AppError> {
    let done = sqlx::query(
        "INSERT INTO promotion_reviews (request_id, reviewer, decision, comment, evidence_sha256, reviewed_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id, reviewer) DO UPDATE SET \
           decision = excluded.decision, comment = excluded.comment, \
           evidence_sha256 = excluded.evidence_sha256, reviewed_at = excluded.reviewed_at \
         WHERE promotion_reviews.evidence_sha256 <> excluded.evidence_sha256",
    )
    .bind(id)
    .bind(&r.reviewer)
    .bind(&r.decision)
    .bind(&r.comment)
    .bind(&r.evidence_sha256)
    .bind(&r.reviewed_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::conflict(
            "You have already reviewed this request.",
        ));
    }
    Ok(())
}

/// Waivers of a request.
pub async fn waivers(conn: &mut Conn, id: i64) -> Result<Vec<Waiver>, sqlx::Error> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT check_id, waived_by, reason, waived_at FROM promotion_waivers WHERE request_id = $1 ORDER BY waived_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(check, by, reason, at)| Waiver {
            check,
            by,
            reason,
            at,
        })
        .collect())
}

/// Records a waiver (one per check and request).
pub async fn insert_waiver(conn: &mut Conn, id: i64, w: &Waiver) -> Result<(), AppError> {
    let done = sqlx::query(
        "INSERT INTO promotion_waivers (request_id, check_id, reason, waived_by, waived_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(&w.check)
    .bind(&w.reason)
    .bind(&w.by)
    .bind(&w.at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::conflict(format!(
            "'{}' is already waived",
            w.check
        )));
    }
    Ok(())
}

/// Closes a pending request; false when it was no longer pending.
pub async fn close_request(
    conn: &mut Conn,
    id: i64,
    status: &str,
    by: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE promotion_requests SET status = $1, closed_at = $2, closed_by = $3 WHERE request_id = $4 AND status = 'pending'",
    )
    .bind(status)
    .bind(now)
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pending requests past their expiry.
pub async fn expired_ids(conn: &mut Conn, now: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT request_id FROM promotion_requests WHERE status = 'pending' AND expires_at <= $1 ORDER BY request_id",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await
}

/// The model name and version a promotion request is for.
pub async fn target_of(pool: &Pool, request_id: i64) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT name, version FROM promotion_requests WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(pool)
        .await
}
