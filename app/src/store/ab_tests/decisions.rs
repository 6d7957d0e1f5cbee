//! Decisions on a test, with the analysis each was taken on, and its status.

use super::DecisionRow;
use crate::domain::ab_tests::Analysis;
use crate::domain::ab_tests::Status;
use crate::store::{Conn, Pool};

/// Records a decision (with the analysis it was taken on) and moves the test's status:
/// ship and roll back decide it, extend keeps it running.
#[allow(clippy::too_many_arguments)]
pub async fn record_decision(
    conn: &mut Conn,
    id: i64,
    decision: &str,
    comment: &str,
    analysis: Option<&Analysis>,
    actor: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    let (verdict, sentence) = analysis.map_or(("none".to_owned(), "No analysis".to_owned()), |a| {
        (
            serde_json::to_value(a.verdict.decision)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            a.verdict.sentence.clone(),
        )
    });
    let snapshot = analysis
        .and_then(|a| serde_json::to_string(a).ok())
        .unwrap_or_else(|| "null".into());
    let did: i64 = sqlx::query_scalar(
        "INSERT INTO ab_decisions (test_id, decision, comment, verdict, sentence, analysis, decided_by, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING decision_id",
    )
    .bind(id)
    .bind(decision)
    .bind(comment)
    .bind(&verdict)
    .bind(&sentence)
    .bind(&snapshot)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let status = if decision == "extend" {
        "running"
    } else {
        "decided"
    };
    sqlx::query("UPDATE ab_tests SET status = $1, updated_at = $2 WHERE test_id = $3")
        .bind(status)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(did)
}

/// Decisions on a test, newest first.
pub async fn decisions(pool: &Pool, id: i64) -> Result<Vec<DecisionRow>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT decision_id, decision, comment, verdict, sentence, decided_by, decided_at FROM ab_decisions \
         WHERE test_id = $1 ORDER BY decided_at DESC, decision_id DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, decision, comment, verdict, sentence, decided_by, decided_at)| DecisionRow {
                id,
                decision,
                comment,
                verdict,
                sentence,
                decided_by,
                decided_at,
            },
        )
        .collect())
}

/// Sets a test's status.
pub async fn set_status(
    conn: &mut Conn,
    id: i64,
    status: Status,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ab_tests SET status = $1, updated_at = $2 WHERE test_id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
