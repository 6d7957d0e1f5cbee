//! Reading logged models back: one, an experiment's, every finalized one.

use super::LoggedModel;
use super::ModelMetric;
use super::Row;
use super::COLUMNS;
use crate::store::tracking::MetricPoint;
use crate::store::Conn;

/// The model, with its tags, params and metrics; `None` when unknown.
pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<LoggedModel>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM logged_models WHERE model_id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(complete(conn, r).await?)),
    }
}

/// The active models of the given experiments, newest first.
pub async fn in_experiments(
    conn: &mut Conn,
    experiment_ids: &[i64],
) -> Result<Vec<LoggedModel>, sqlx::Error> {
    let mut out = Vec::new();
    for e in experiment_ids {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM logged_models WHERE experiment_id = $1 AND lifecycle_stage = 'active' ORDER BY creation_time DESC, model_id"
        ))
        .bind(e)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            out.push(complete(conn, r).await?);
        }
    }
    out.sort_by(|a, b| {
        b.creation_time
            .cmp(&a.creation_time)
            .then_with(|| a.model_id.cmp(&b.model_id))
    });
    Ok(out)
}

/// Every READY model with a recorded digest, oldest first.
pub async fn finalized(conn: &mut Conn) -> Result<Vec<LoggedModel>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM logged_models WHERE digest IS NOT NULL ORDER BY creation_time, model_id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(complete(conn, r).await?);
    }
    Ok(out)
}

async fn complete(conn: &mut Conn, r: Row) -> Result<LoggedModel, sqlx::Error> {
    let tags: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM logged_model_tags WHERE model_id = $1 ORDER BY key")
            .bind(&r.model_id)
            .fetch_all(&mut *conn)
            .await?;
    let params: Vec<(String, String)> = sqlx::query_as(
        "SELECT key, value FROM logged_model_params WHERE model_id = $1 ORDER BY key",
    )
    .bind(&r.model_id)
    .fetch_all(&mut *conn)
    .await?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, Option<f64>, crate::store::Flag, i64, i64, Option<String>, String, String)> = sqlx::query_as(
        "SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id = $1 ORDER BY key, step, timestamp",
    )
    .bind(&r.model_id)
    .fetch_all(&mut *conn)
    .await?;
    let metrics = rows
        .into_iter()
        .map(
            |(key, value, nan, timestamp, step, run_id, dataset_name, dataset_digest)| {
                ModelMetric {
                    model_id: r.model_id.clone(),
                    point: MetricPoint {
                        key,
                        value: if nan.0 {
                            f64::NAN
                        } else {
                            value.unwrap_or(f64::NAN)
                        },
                        timestamp,
                        step,
                    },
                    run_id,
                    dataset_name,
                    dataset_digest,
                }
            },
        )
        .collect();
    let manifest = r
        .manifest
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    Ok(LoggedModel {
        model_id: r.model_id,
        experiment_id: r.experiment_id,
        name: r.name,
        model_type: r.model_type,
        source_run_id: r.source_run_id,
        status: r.status,
        status_message: r.status_message,
        artifact_uri: r.artifact_uri,
        created_by: r.created_by,
        creation_time: r.creation_time,
        last_updated_time: r.last_updated_time,
        lifecycle_stage: r.lifecycle_stage,
        digest: r.digest,
        manifest,
        finalized_at: r.finalized_at,
        tags,
        params,
        metrics,
    })
}
