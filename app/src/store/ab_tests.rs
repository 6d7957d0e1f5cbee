//! The `ab_*` tables: A/B test definitions, daily results, decisions and share links.

pub use crate::domain::ab_tests::daily::DailyRow;
use crate::domain::ab_tests::{Correction, Direction, MetricKind, MetricRole};
use crate::domain::ab_tests::{ExperimentDef, MetricDef, Status, VariantDef};
pub use crate::dto::{DecisionRow, ShareLink};
use crate::error::AppError;
use crate::store::{Conn, Pool};
use serde::{Deserialize, Serialize};

mod decisions;
mod results;
mod shares;

pub use decisions::*;
pub use results::*;
pub use shares::*;

/// A stored test's header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestRow {
    /// The test's id, as in `/ab-tests/<id>`.
    pub id: i64,
    /// Draft, running, stopped or decided.
    pub status: Status,
    /// The account that created it.
    pub created_by: String,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// Who answers for it (the creator unless set).
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
    conn: &mut Conn,
    def: &ExperimentDef,
    owner: &str,
    actor: &str,
    now: &str,
) -> Result<i64, AppError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO ab_tests (name, hypothesis, owner, status, start_date, end_date, alpha, correction, sequential, mde, min_units, \
           created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING test_id",
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
            "INSERT INTO ab_variants (test_id, position, name, weight, model_version, run_id) VALUES ($1, $2, $3, $4, $5, $6)",
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
            "INSERT INTO ab_metrics (test_id, position, name, kind, direction, role, tolerance) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
        .bind(crate::store::Real(m.tolerance))
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
    crate::store::Flag,
    f64,
    f64,
    String,
    String,
);

/// A stored definition and its header.
pub async fn load(pool: &Pool, id: i64) -> Result<Option<(TestRow, ExperimentDef)>, sqlx::Error> {
    let row: Option<HeaderRow> = sqlx::query_as(
        "SELECT test_id, name, hypothesis, owner, status, start_date, end_date, alpha, correction, sequential, mde, min_units, \
           created_by, created_at FROM ab_tests WHERE test_id = $1",
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
    let variants = variants_of(pool, id).await?;
    let metrics = metrics_of(pool, id).await?;
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
            variants,
            metrics,
            alpha,
            correction: parse_correction(&correction),
            sequential: sequential.0,
            mde,
            min_units,
        },
    )))
}

/// A test's variants in their order.
async fn variants_of(pool: &Pool, id: i64) -> Result<Vec<VariantDef>, sqlx::Error> {
    let rows: Vec<(String, f64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT name, weight, model_version, run_id FROM ab_variants WHERE test_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, weight, model_version, run_id)| VariantDef {
            name,
            weight,
            model_version,
            run_id,
        })
        .collect())
}

/// A test's metrics in their order.
async fn metrics_of(pool: &Pool, id: i64) -> Result<Vec<MetricDef>, sqlx::Error> {
    let rows: Vec<(String, String, String, String, Option<f64>)> = sqlx::query_as(
        "SELECT name, kind, direction, role, tolerance FROM ab_metrics WHERE test_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
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
        .collect())
}

/// Ids of all tests, newest first.
pub async fn ids(pool: &Pool) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT test_id FROM ab_tests ORDER BY created_at DESC, test_id DESC")
        .fetch_all(pool)
        .await
}

/// The test id a name names.
pub async fn id_by_name(pool: &Pool, name: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT test_id FROM ab_tests WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await
}
