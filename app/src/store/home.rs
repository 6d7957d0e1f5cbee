//! Reads for the home page that no other page needs: a user's latest runs, the latest reviews,
//! what each alias serves, the sensitive audit entries, and the record of chain verifications.

use crate::dto::home::{RecentReview, RecentRun, Serving, VerificationRecord};
use crate::dto::{AuditRow, VerifyReport};
use crate::store::Pool;

/// `user`'s latest `limit` runs (not deleted), newest first.
pub async fn runs_by(pool: &Pool, user: &str, limit: i64) -> Result<Vec<RecentRun>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.run_uuid AS run_id, r.run_name, r.experiment_id, e.name AS experiment_name, \
                r.status, r.start_time \
         FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id \
         WHERE r.user_id = $1 AND r.lifecycle_stage = 'active' \
         ORDER BY r.start_time DESC LIMIT $2",
    )
    .bind(user)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The latest `limit` approvals and rejections, newest first.
pub async fn latest_reviews(pool: &Pool, limit: i64) -> Result<Vec<RecentReview>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.request_id, q.name, q.version, q.alias, v.reviewer, v.decision, v.reviewed_at, q.status \
         FROM promotion_reviews v JOIN promotion_requests q ON q.request_id = v.request_id \
         ORDER BY v.review_id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Pending requests `reviewer` has already approved or rejected.
pub async fn reviewed_pending(pool: &Pool, reviewer: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT v.request_id FROM promotion_reviews v \
         JOIN promotion_requests q ON q.request_id = v.request_id \
         WHERE v.reviewer = $1 AND q.status = 'pending'",
    )
    .bind(reviewer)
    .fetch_all(pool)
    .await
}

/// Every alias set now, with its last recorded move and the pending requests to move it.
pub async fn serving(pool: &Pool) -> Result<Vec<Serving>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.name AS model, a.alias, a.version, h.moved_at AS since_ms, h.moved_by, \
                (SELECT count(*) FROM promotion_requests q \
                  WHERE q.name = a.name AND q.alias = a.alias AND q.status = 'pending') AS pending \
         FROM model_aliases a \
         LEFT JOIN alias_history h ON h.move_id = ( \
             SELECT move_id FROM alias_history x WHERE x.name = a.name AND x.alias = a.alias \
             ORDER BY x.moved_at DESC, x.move_id DESC LIMIT 1) \
         ORDER BY a.name, a.alias",
    )
    .fetch_all(pool)
    .await
}

/// Actions an auditor looks at twice: waivers, policy changes, accounts and roles.
pub const SENSITIVE_ACTIONS: [&str; 5] = [
    "promotion.waive",
    "policy.promotion.save",
    "fairness.policy",
    "user.create",
    "user.set_roles",
];

/// The latest `limit` entries with a [`SENSITIVE_ACTIONS`] action, newest first (each action is
/// its own walk down the action index).
pub async fn sensitive(pool: &Pool, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    let mut rows: Vec<AuditRow> = Vec::new();
    for action in SENSITIVE_ACTIONS {
        rows.extend(
            sqlx::query_as::<_, AuditRow>(
                "SELECT seq, ts, actor, action, object_type, object_id, details, prev_hash, hash \
                 FROM audit_log WHERE action = $1 ORDER BY seq DESC LIMIT $2",
            )
            .bind(action)
            .bind(limit)
            .fetch_all(pool)
            .await?,
        );
    }
    rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.seq));
    rows.truncate(limit.max(0) as usize);
    Ok(rows)
}

/// Records a verification of the chain.
pub async fn record_verification(
    conn: &mut crate::store::Conn,
    by: &str,
    report: &VerifyReport,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_verifications (verified_at, verified_by, ok, entries, checkpoints, message) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::service::now_ts())
    .bind(by)
    .bind(report.ok)
    .bind(report.verified)
    .bind(report.checkpoints_verified)
    .bind(&report.message)
    .execute(conn)
    .await?;
    Ok(())
}

/// The latest verification of the chain.
pub async fn last_verification(pool: &Pool) -> Result<Option<VerificationRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT verified_at, verified_by, ok, entries, checkpoints, message \
         FROM audit_verifications ORDER BY verification_id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}
