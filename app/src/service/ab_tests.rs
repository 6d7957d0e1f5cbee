//! A/B test operations shared by the REST API and the pages: each checks its input, writes
//! in one transaction with its audit entry, and returns what the caller shows.

use crate::domain::ab_tests::daily::{analysis_of, days_of, DailyRow, Unavailable};
use crate::domain::ab_tests::{check_batch, ExperimentDef, ResultBatch, Status};
use crate::domain::ab_tests::{Analysis, Correction, MetricRole};
use crate::dto::{AbTestSummary, AbTestView};
use crate::error::AppError;
use crate::service::auth::{random_secret, sha256_hex};
use crate::service::charts::{cumulative_lift, forest_plot, ForestRow};
use crate::service::state::AppState;
use crate::store::ab_tests as db;
use crate::store::audit::{self, NewEntry};
use crate::store::begin_write;
use serde_json::json;

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

/// Everything the test's page shows, analysed with `correction` when given (the page's
/// selector) instead of the definition's.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub async fn view(
    s: &AppState,
    id: i64,
    correction: Option<Correction>,
    can_manage: bool,
    can_decide: bool,
) -> Result<AbTestView, AppError> {
    let Snapshot {
        row,
        def,
        rows,
        days,
        analysis,
    } = snapshot(s, id, correction).await?;
    let (analysis, unavailable) = match analysis {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let forest_svg = analysis.as_ref().and_then(|a| {
        let rows: Vec<ForestRow> = a
            .metrics
            .iter()
            .flat_map(|m| {
                m.comparisons.iter().map(move |c| ForestRow {
                    label: if a.metrics.iter().map(|m| m.comparisons.len()).max() == Some(1) {
                        m.name.clone()
                    } else {
                        format!("{} · {}", m.name, c.variant)
                    },
                    value: c.rel_lift,
                    low: c.decision_rel_lift_ci[0],
                    high: c.decision_rel_lift_ci[1],
                    outcome: c.outcome,
                    tolerance: (m.role == MetricRole::Guardrail && m.tolerance > 0.0)
                        .then(|| -m.direction_sign() * m.tolerance),
                })
            })
            .collect();
        forest_plot(&rows, 760)
    });
    // Cumulative lift of the first goal metric's first treatment, day by day.
    let goal = def
        .metrics
        .iter()
        .position(|m| m.role == MetricRole::Goal)
        .unwrap_or(0);
    let treatment = def
        .variants
        .get(1)
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let mut cumulative = Vec::new();
    for d in &days {
        if let Ok(a) = analysis_of(&def, &rows, Some(d)) {
            if let Some(c) = a.metrics.get(goal).and_then(|m| m.comparisons.first()) {
                cumulative.push((
                    d.clone(),
                    c.rel_lift,
                    c.decision_rel_lift_ci[0],
                    c.decision_rel_lift_ci[1],
                ));
            }
        }
    }
    let points: Vec<(f64, f64, f64, f64)> = cumulative
        .iter()
        .map(|(d, l, lo, hi)| {
            (
                days.iter().position(|x| x == d).unwrap_or(0) as f64,
                *l,
                *lo,
                *hi,
            )
        })
        .collect();
    let cumulative_svg = cumulative_lift(&points, &days, 760, 260);
    let cumulative_of = def
        .metrics
        .get(goal)
        .map(|m| format!("{} · {treatment}", m.name))
        .unwrap_or_default();
    // Units per day per variant: assignments where sent, else the first metric's units.
    let first_metric = def
        .metrics
        .first()
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let has_assignments = rows.iter().any(|r| r.metric.is_empty());
    let daily_units = days
        .iter()
        .map(|d| {
            let units = def
                .variants
                .iter()
                .map(|v| {
                    rows.iter()
                        .filter(|r| &r.day == d && r.variant == v.name)
                        .filter(|r| {
                            if has_assignments {
                                r.metric.is_empty()
                            } else {
                                r.metric == first_metric
                            }
                        })
                        .map(|r| r.a)
                        .sum()
                })
                .collect();
            (d.clone(), units)
        })
        .collect();
    Ok(AbTestView {
        id,
        def,
        status: row.status,
        created_by: row.created_by,
        created_at: row.created_at,
        analysis,
        unavailable,
        days,
        forest_svg,
        cumulative_svg,
        cumulative_of,
        cumulative,
        daily_units,
        decisions: db::decisions(&s.pool, id).await?,
        shares: if can_manage {
            db::shares(&s.pool, id).await?
        } else {
            Vec::new()
        },
        can_manage,
        can_decide,
        new_share: None,
    })
}

/// The test a live share link opens, read-only.
pub async fn shared(s: &AppState, token: &str) -> Result<AbTestView, AppError> {
    let id = db::shared_test(&s.pool, &sha256_hex(token), &crate::service::now_ts())
        .await?
        .ok_or_else(|| AppError::not_found("this share link is unknown, expired or revoked"))?;
    view(s, id, None, false, false).await
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
    let analysis = snapshot(s, id, None).await?.analysis.ok();
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
    tx.commit().await?;
    Ok(did)
}

/// The analysis as CSV: one line per metric × treatment.
pub fn analysis_csv(def: &ExperimentDef, a: &Analysis) -> String {
    let mut out = String::from(
        "experiment,metric,role,variant,control_units,treatment_units,control_mean,treatment_mean,abs_diff,abs_diff_ci_low,abs_diff_ci_high,rel_lift,rel_lift_ci_low,rel_lift_ci_high,p_value,p_value_adjusted,chance_to_win,significant,basis\n",
    );
    let esc = crate::domain::csv::spreadsheet_cell;
    for m in &a.metrics {
        for c in &m.comparisons {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                esc(&def.name),
                esc(&m.name),
                if m.role == crate::domain::ab_tests::MetricRole::Goal {
                    "goal"
                } else {
                    "guardrail"
                },
                esc(&c.variant),
                c.control_units,
                c.treatment_units,
                c.control_mean,
                c.treatment_mean,
                c.abs_diff,
                c.abs_diff_ci[0],
                c.abs_diff_ci[1],
                c.rel_lift,
                c.decision_rel_lift_ci[0],
                c.decision_rel_lift_ci[1],
                c.p_value,
                c.p_value_adjusted,
                c.chance_to_win,
                c.significant,
                c.basis
            ));
        }
    }
    out
}

/// Creates a read-only share link: a random token (only its hash is stored) valid for `days`.
pub async fn create_share(
    s: &AppState,
    id: i64,
    days: i64,
    actor: &str,
) -> Result<(String, String), AppError> {
    if !(1..=90).contains(&days) {
        return Err(AppError::validation(
            "days",
            "a share link lasts 1 to 90 days",
        ));
    }
    load(s, id).await?;
    let token = random_secret();
    let now = crate::service::now_ts();
    let expires = crate::domain::audit_chain::format_ts(
        time::OffsetDateTime::now_utc() + time::Duration::days(days),
    );
    let mut tx = begin_write(&s.pool).await?;
    let link = db::create_share(&mut tx, id, &sha256_hex(&token), actor, &now, &expires).await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.share",
            "ab_test",
            id.to_string(),
            json!({ "link_id": link, "expires_at": expires }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((format!("/shared/ab/{token}"), expires))
}

/// Revokes a share link; audited.
pub async fn revoke(s: &AppState, id: i64, link: i64, actor: &str) -> Result<(), AppError> {
    let now = crate::service::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    if !db::revoke_share(&mut tx, id, link, &now).await? {
        return Err(AppError::not_found(format!(
            "no live share link {link} on A/B test {id}"
        )));
    }
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.share_revoke",
            "ab_test",
            id.to_string(),
            json!({ "link_id": link }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
