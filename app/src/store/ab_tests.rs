//! The `ab_*` tables: A/B test definitions, daily results, decisions and share links.

pub use crate::domain::ab_tests::daily::DailyRow;
use crate::domain::ab_tests::{Analysis, Correction, Direction, MetricKind, MetricRole};
use crate::domain::ab_tests::{ExperimentDef, MetricDef, ResultBatch, Status, VariantDef};
pub use crate::dto::{DecisionRow, ShareLink};
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use sqlx::{SqliteConnection, SqlitePool};

/// A stored test's header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestRow {
    /// Id.
    pub id: i64,
    /// Status.
    pub status: Status,
    /// Created by.
    pub created_by: String,
    /// Created at.
    pub created_at: String,
    /// Owner.
    pub owner: String,
}

fn correction_name(c: Correction) -> &'static str {
    match c {
        Correction::None => "none",
        Correction::Holm => "holm",
        Correction::BenjaminiHochberg => "benjamini_hochberg",
    }
}

fn parse_correction(s: &str) -> Correction {
    match s {
        "none" => Correction::None,
        "benjamini_hochberg" => Correction::BenjaminiHochberg,
        _ => Correction::Holm,
    }
}

fn kind_name(k: MetricKind) -> &'static str {
    match k {
        MetricKind::Binomial => "binomial",
        MetricKind::Continuous => "continuous",
    }
}

/// Stores a validated definition; returns its id. A taken name is a conflict.
pub async fn create(
    conn: &mut SqliteConnection,
    def: &ExperimentDef,
    owner: &str,
    actor: &str,
    now: &str,
) -> Result<i64, AppError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO ab_tests (name, hypothesis, owner, status, start_date, end_date, alpha, correction, sequential, mde, min_units, \
           created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING test_id",
    )
    .bind(def.name.trim())
    .bind(&def.hypothesis)
    .bind(owner)
    .bind(def.status.as_str())
    .bind(&def.start_date)
    .bind(&def.end_date)
    .bind(def.alpha)
    .bind(correction_name(def.correction))
    .bind(def.sequential)
    .bind(def.mde)
    .bind(def.min_units)
    .bind(actor)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            AppError::conflict(format!("an A/B test named '{}' already exists", def.name.trim()))
        }
        _ => e.into(),
    })?;
    for (i, v) in def.variants.iter().enumerate() {
        sqlx::query(
            "INSERT INTO ab_variants (test_id, position, name, weight, model_version, run_id) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(&v.name)
        .bind(v.weight)
        .bind(&v.model_version)
        .bind(&v.run_id)
        .execute(&mut *conn)
        .await?;
    }
    for (i, m) in def.metrics.iter().enumerate() {
        sqlx::query(
            "INSERT INTO ab_metrics (test_id, position, name, kind, direction, role, tolerance) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(&m.name)
        .bind(kind_name(m.kind))
        .bind(match m.direction {
            Direction::Increase => "increase",
            Direction::Decrease => "decrease",
        })
        .bind(match m.role {
            MetricRole::Goal => "goal",
            MetricRole::Guardrail => "guardrail",
        })
        .bind(m.tolerance)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

type HeaderRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    f64,
    String,
    bool,
    f64,
    f64,
    String,
    String,
);

/// A stored definition and its header.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub async fn load(
    pool: &SqlitePool,
    id: i64,
) -> Result<Option<(TestRow, ExperimentDef)>, sqlx::Error> {
    let row: Option<HeaderRow> = sqlx::query_as(
        "SELECT test_id, name, hypothesis, owner, status, start_date, end_date, alpha, correction, sequential, mde, min_units, \
           created_by, created_at FROM ab_tests WHERE test_id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some((
        id,
        name,
        hypothesis,
        owner,
        status,
        start_date,
        end_date,
        alpha,
        correction,
        sequential,
        mde,
        min_units,
        created_by,
        created_at,
    )) = row
    else {
        return Ok(None);
    };
    let variants: Vec<(String, f64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT name, weight, model_version, run_id FROM ab_variants WHERE test_id = ? ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let metrics: Vec<(String, String, String, String, Option<f64>)> = sqlx::query_as(
        "SELECT name, kind, direction, role, tolerance FROM ab_metrics WHERE test_id = ? ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let status = Status::parse(&status).unwrap_or_default();
    Ok(Some((
        TestRow {
            id,
            status,
            created_by,
            created_at,
            owner: owner.clone(),
        },
        ExperimentDef {
            name,
            hypothesis,
            owner: Some(owner),
            status,
            start_date,
            end_date,
            variants: variants
                .into_iter()
                .map(|(name, weight, model_version, run_id)| VariantDef {
                    name,
                    weight,
                    model_version,
                    run_id,
                })
                .collect(),
            metrics: metrics
                .into_iter()
                .map(|(name, kind, direction, role, tolerance)| MetricDef {
                    name,
                    kind: if kind == "continuous" {
                        MetricKind::Continuous
                    } else {
                        MetricKind::Binomial
                    },
                    direction: if direction == "decrease" {
                        Direction::Decrease
                    } else {
                        Direction::Increase
                    },
                    role: if role == "guardrail" {
                        MetricRole::Guardrail
                    } else {
                        MetricRole::Goal
                    },
                    tolerance,
                })
                .collect(),
            alpha,
            correction: parse_correction(&correction),
            sequential,
            mde,
            min_units,
        },
    )))
}

/// Ids of all tests, newest first.
pub async fn ids(pool: &SqlitePool) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT test_id FROM ab_tests ORDER BY created_at DESC, test_id DESC")
        .fetch_all(pool)
        .await
}

/// The test id a name names.
pub async fn id_by_name(pool: &SqlitePool, name: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT test_id FROM ab_tests WHERE name = ?")
        .bind(name)
        .fetch_optional(pool)
        .await
}

/// Stores a checked batch (see [`crate::domain::ab_tests::check_batch`]); a day already
/// stored is replaced. Cumulative rows become differences from the days before, in day order;
/// a running total that goes down, or one that arrives before a stored later day, is
/// rejected naming the row. Returns the rows stored.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub async fn store_results(
    conn: &mut SqliteConnection,
    id: i64,
    def: &ExperimentDef,
    batch: &ResultBatch,
) -> Result<usize, AppError> {
    let mut order: Vec<usize> = (0..batch.rows.len()).collect();
    order.sort_by(|a, b| batch.rows[*a].day.cmp(&batch.rows[*b].day).then(a.cmp(b)));
    for i in order {
        let row = &batch.rows[i];
        let metric = row.metric.clone().unwrap_or_default();
        let kind = def
            .metrics
            .iter()
            .find(|m| m.name == metric)
            .map(|m| m.kind);
        let d = &row.data;
        let (mut a, mut b, mut c) = match kind {
            None => (d.units.unwrap_or(0.0), 0.0, 0.0),
            Some(MetricKind::Binomial) => {
                (d.units.unwrap_or(0.0), d.conversions.unwrap_or(0.0), 0.0)
            }
            Some(MetricKind::Continuous) => (
                d.n.unwrap_or(0.0),
                d.sum.unwrap_or(0.0),
                d.sum_squares.unwrap_or(0.0),
            ),
        };
        let (mut sx, mut sx2, mut sxy) = (d.sum_x, d.sum_x2, d.sum_xy);
        if batch.cumulative {
            let later: Option<String> = sqlx::query_scalar(
                "SELECT day FROM ab_results WHERE test_id = ? AND metric = ? AND variant = ? AND day > ? LIMIT 1",
            )
            .bind(id)
            .bind(&metric)
            .bind(&d.variant)
            .bind(&row.day)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(later) = later {
                return Err(AppError::validation(
                    format!("rows[{i}].day"),
                    format!(
                        "row {i}: cumulative results for {} must come after the stored day {later}",
                        row.day
                    ),
                ));
            }
            let before: (f64, f64, f64, Option<f64>, Option<f64>, Option<f64>) = sqlx::query_as(
                "SELECT coalesce(sum(a), 0.0), coalesce(sum(b), 0.0), coalesce(sum(c), 0.0), sum(sum_x), sum(sum_x2), sum(sum_xy) \
                 FROM ab_results WHERE test_id = ? AND metric = ? AND variant = ? AND day < ?",
            )
            .bind(id)
            .bind(&metric)
            .bind(&d.variant)
            .bind(&row.day)
            .fetch_one(&mut *conn)
            .await?;
            let (pa, pb, pc) = (before.0, before.1, before.2);
            if a < pa || (kind == Some(MetricKind::Binomial) && b < pb) {
                return Err(AppError::validation(
                    format!("rows[{i}]"),
                    format!(
                        "row {i}: metric '{metric}', variant '{}': the running total on {} is below the days before it",
                        d.variant, row.day
                    ),
                ));
            }
            a -= pa;
            b -= pb;
            c -= pc;
            sx = sx.map(|v| v - before.3.unwrap_or(0.0));
            sx2 = sx2.map(|v| v - before.4.unwrap_or(0.0));
            sxy = sxy.map(|v| v - before.5.unwrap_or(0.0));
        }
        sqlx::query(
            "INSERT INTO ab_results (test_id, metric, variant, day, a, b, c, sum_x, sum_x2, sum_xy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (test_id, metric, variant, day) DO UPDATE SET a = excluded.a, b = excluded.b, c = excluded.c, \
               sum_x = excluded.sum_x, sum_x2 = excluded.sum_x2, sum_xy = excluded.sum_xy",
        )
        .bind(id)
        .bind(&metric)
        .bind(&d.variant)
        .bind(&row.day)
        .bind(a)
        .bind(b)
        .bind(c)
        .bind(sx)
        .bind(sx2)
        .bind(sxy)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE ab_tests SET updated_at = ? WHERE test_id = ?")
        .bind(crate::service::now_ts())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(batch.rows.len())
}

/// Every stored daily row of a test, by day.
pub async fn daily(pool: &SqlitePool, id: i64) -> Result<Vec<DailyRow>, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        f64,
        f64,
        f64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT metric, variant, day, a, b, c, sum_x, sum_x2, sum_xy FROM ab_results WHERE test_id = ? ORDER BY day, metric, variant",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(metric, variant, day, a, b, c, sum_x, sum_x2, sum_xy)| DailyRow {
                metric,
                variant,
                day,
                a,
                b,
                c,
                sum_x,
                sum_x2,
                sum_xy,
            },
        )
        .collect())
}

/// Records a decision (with the analysis it was taken on) and moves the test's status:
/// ship and roll back decide it, extend keeps it running.
#[allow(clippy::too_many_arguments)]
pub async fn record_decision(
    conn: &mut SqliteConnection,
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
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING decision_id",
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
    sqlx::query("UPDATE ab_tests SET status = ?, updated_at = ? WHERE test_id = ?")
        .bind(status)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(did)
}

/// Decisions on a test, newest first.
pub async fn decisions(pool: &SqlitePool, id: i64) -> Result<Vec<DecisionRow>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT decision_id, decision, comment, verdict, sentence, decided_by, decided_at FROM ab_decisions \
         WHERE test_id = ? ORDER BY decided_at DESC, decision_id DESC",
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
    conn: &mut SqliteConnection,
    id: i64,
    status: Status,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ab_tests SET status = ?, updated_at = ? WHERE test_id = ?")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores a share link's hash; returns its id.
pub async fn create_share(
    conn: &mut SqliteConnection,
    id: i64,
    token_hash: &str,
    actor: &str,
    now: &str,
    expires_at: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO ab_share_links (test_id, token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING link_id",
    )
    .bind(id)
    .bind(token_hash)
    .bind(actor)
    .bind(now)
    .bind(expires_at)
    .fetch_one(conn)
    .await
}

/// Revokes a live share link of a test; false when there is none.
pub async fn revoke_share(
    conn: &mut SqliteConnection,
    id: i64,
    link_id: i64,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE ab_share_links SET revoked_at = ? WHERE link_id = ? AND test_id = ? AND revoked_at IS NULL")
        .bind(now)
        .bind(link_id)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// The test a live, unexpired share link opens.
pub async fn shared_test(
    pool: &SqlitePool,
    token_hash: &str,
    now: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT test_id FROM ab_share_links WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// Share links of a test, newest first.
pub async fn shares(pool: &SqlitePool, id: i64) -> Result<Vec<ShareLink>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT link_id, created_by, created_at, expires_at, revoked_at FROM ab_share_links WHERE test_id = ? ORDER BY link_id DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, created_by, created_at, expires_at, revoked_at)| ShareLink {
                id,
                created_by,
                created_at,
                expires_at,
                revoked_at,
            },
        )
        .collect())
}

/// The A/B tests that compare a model version (`name:version` in a variant), by id.
pub async fn ids_comparing_version(pool: &SqlitePool, tag: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT test_id FROM ab_variants WHERE model_version = ? ORDER BY test_id",
    )
    .bind(tag)
    .fetch_all(pool)
    .await
}
