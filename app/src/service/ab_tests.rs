//! A/B test operations shared by the REST API and the pages: each checks its input, writes
//! in one transaction with its audit entry, and returns what the caller shows.

use crate::domain::ab_tests::daily::{analysis_of, days_of, DailyRow, Unavailable};
use crate::domain::ab_tests::{check_batch, ExperimentDef, ResultBatch, Status};
use crate::domain::ab_tests::{Analysis, Correction};
use crate::dto::AbTestSummary;
use crate::error::AppError;
use crate::service::state::AppState;
use crate::store::ab_tests as db;
use crate::store::audit::{self, NewEntry};
use crate::store::begin_write;
use serde_json::json;

mod shares;
mod view;

pub use shares::{create_share, revoke};
pub use view::{shared, view};

/// A stored test with what its results give: what the REST API returns for a test and what
/// its page, its summary and a decision start from.
pub struct Snapshot {
    /// The stored record (status, owner, who created it and when).
    pub row: db::TestRow,
    /// The definition, with the correction the caller asked for, if any.
    pub def: ExperimentDef,
    /// Every stored daily row, by day.
    pub rows: Vec<DailyRow>,
    /// The days with any result, in order.
    pub days: Vec<String>,
    /// The analysis of everything stored, or why there is none yet.
    pub analysis: Result<Analysis, Unavailable>,
}

/// Loads a test and analyses its results, with `correction` in place of the definition's
/// when given; 404 when there is no such test.
pub async fn snapshot(
    s: &AppState,
    id: i64,
    correction: Option<Correction>,
) -> Result<Snapshot, AppError> {
    let (row, mut def) = load(s, id).await?;
    if let Some(c) = correction {
        def.correction = c;
    }
    let rows = db::daily(&s.pool, id).await?;
    let days = days_of(&rows);
    let analysis = analysis_of(&def, &rows, None);
    Ok(Snapshot {
        row,
        def,
        rows,
        days,
        analysis,
    })
}

/// A stored test, or 404.
pub async fn load(s: &AppState, id: i64) -> Result<(db::TestRow, ExperimentDef), AppError> {
    db::load(&s.pool, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no A/B test {id}")))
}

/// Validates and stores a definition with its audit entry; returns the new id.
pub async fn create(
    s: &AppState,
    def: &ExperimentDef,
    actor: &str,
    username: &str,
) -> Result<i64, AppError> {
    def.validate()?;
    let owner = def
        .owner
        .clone()
        .filter(|o| !o.trim().is_empty())
        .unwrap_or_else(|| username.to_owned());
    let now = crate::service::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    let id = db::create(&mut tx, def, &owner, actor, &now).await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.create",
            "ab_test",
            id.to_string(),
            json!({ "name": def.name.trim(), "owner": owner, "status": def.status.as_str(),
                    "variants": def.variants.iter().map(|v| &v.name).collect::<Vec<_>>(),
                    "metrics": def.metrics.iter().map(|m| &m.name).collect::<Vec<_>>() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Moves a test between draft, running and stopped (deciding goes through a decision).
pub async fn set_status(
    s: &AppState,
    id: i64,
    status: Status,
    actor: &str,
) -> Result<(), AppError> {
    let (row, _) = load(s, id).await?;
    if status == Status::Decided {
        return Err(AppError::validation(
            "status",
            "record a decision to decide a test",
        ));
    }
    if row.status == Status::Decided {
        return Err(AppError::conflict(
            "the test is decided; record an 'extend' decision to run it again",
        ));
    }
    let now = crate::service::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    db::set_status(&mut tx, id, status, &now).await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.status",
            "ab_test",
            id.to_string(),
            json!({ "from": row.status.as_str(), "to": status.as_str() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A test as listed: status, verdict, days and users.
pub async fn summary(s: &AppState, id: i64) -> Result<AbTestSummary, AppError> {
    let Snapshot {
        row,
        def,
        days,
        analysis,
        ..
    } = snapshot(s, id, None).await?;
    let analysis = analysis.ok();
    Ok(AbTestSummary {
        id,
        name: def.name,
        owner: row.owner,
        status: row.status,
        verdict: analysis.as_ref().map(|a| a.verdict.decision),
        sentence: analysis.as_ref().map(|a| a.verdict.sentence.clone()),
        days: days.len(),
        users: analysis.as_ref().map(|a| a.total_units),
        start_date: def.start_date,
    })
}

/// Every test as listed, newest first.
pub async fn summaries(s: &AppState) -> Result<Vec<AbTestSummary>, AppError> {
    let mut out = Vec::new();
    for id in db::ids(&s.pool).await? {
        out.push(summary(s, id).await?);
    }
    Ok(out)
}

/// Checks and stores a batch with its audit entry, in one transaction.
pub async fn store_batch(
    s: &AppState,
    id: i64,
    def: &ExperimentDef,
    batch: &ResultBatch,
    actor: &str,
    source: &str,
) -> Result<usize, AppError> {
    check_batch(def, batch)?;
    let mut tx = begin_write(&s.pool).await?;
    let stored = db::store_results(&mut tx, id, def, batch).await?;
    let mut days: Vec<&str> = batch.rows.iter().map(|r| r.day.as_str()).collect();
    days.sort_unstable();
    days.dedup();
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.results",
            "ab_test",
            id.to_string(),
            json!({ "rows": stored, "days": days, "cumulative": batch.cumulative, "source": source }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(stored)
}

/// Records a decision with the analysis it rests on; audited, and the evidence step 6 links.
pub async fn record_decision(
    s: &AppState,
    id: i64,
    decision: &str,
    comment: &str,
    actor: &str,
) -> Result<i64, AppError> {
    if !matches!(decision, "ship" | "roll_back" | "extend") {
        return Err(AppError::validation(
            "decision",
            "decision must be ship, roll_back or extend",
        ));
    }
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(AppError::validation("comment", "say why in a comment"));
    }
    if comment.chars().count() > 5000 {
        return Err(AppError::validation(
            "comment",
            "the comment is longer than 5,000 characters",
        ));
    }
    let snap = snapshot(s, id, None).await?;
    let test_name = snap.def.name.clone();
    let analysis = snap.analysis.ok();
    let now = crate::service::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    let did = db::record_decision(
        &mut tx,
        id,
        decision,
        comment,
        analysis.as_ref(),
        actor,
        &now,
    )
    .await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.decide",
            "ab_test",
            id.to_string(),
            json!({
                "decision": decision,
                "comment": comment,
                "decision_id": did,
                "verdict": analysis.as_ref().map(|a| a.verdict.decision),
                "sentence": analysis.as_ref().map(|a| a.verdict.sentence.clone()),
            }),
        ),
    )
    .await?;
    let data = json!({
        "test_id": id, "test": test_name, "decision": decision, "comment": comment,
        "actor": actor, "verdict": analysis.as_ref().map(|a| a.verdict.sentence.clone()),
    });
    let link = format!("/experiments/{id}");
    let kind = crate::domain::webhooks::EventKind::AB_TEST_DECIDED;
    crate::service::webhooks::emit(&mut tx, kind, data, Some(&link)).await?;
    tx.commit().await?;
    Ok(did)
}
