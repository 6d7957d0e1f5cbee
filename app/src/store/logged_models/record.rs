//! Writing a logged model's record: create, tags, params, metrics, the READY seal and
//! deletion.

use super::check_kvs;
use super::get;
use super::new_model_id;
use super::LoggedModel;
use super::ModelMetric;
use super::NewModel;
use crate::domain::artifacts::{FileEntry, Root};
use crate::domain::logged_models::{PENDING, READY};
use crate::error::AppError;
use crate::store::tracking::{experiment_stage, MAX_PARAM_VALUE_LEN, MAX_TAG_VALUE_LEN};
use crate::store::Conn;

/// Creates a logged model (PENDING) and answers its id.
pub async fn create(
    conn: &mut Conn,
    m: NewModel<'_>,
    by: &str,
    at: i64,
) -> Result<String, AppError> {
    if experiment_stage(conn, m.experiment_id).await? != "active" {
        return Err(AppError::validation(
            "experiment_id",
            format!("experiment {} is not active", m.experiment_id),
        ));
    }
    if let Some(run) = m.source_run_id {
        let exp: Option<i64> =
            sqlx::query_scalar("SELECT experiment_id FROM runs WHERE run_uuid = $1")
                .bind(run)
                .fetch_optional(&mut *conn)
                .await?;
        match exp {
            None => {
                return Err(AppError::validation(
                    "source_run_id",
                    format!("no run {run}"),
                ))
            }
            Some(e) if e != m.experiment_id => {
                return Err(AppError::validation(
                    "source_run_id",
                    format!("run {run} is in experiment {e}, not {}", m.experiment_id),
                ))
            }
            Some(_) => {}
        }
    }
    check_kvs("tags", m.tags, MAX_TAG_VALUE_LEN)?;
    check_kvs("params", m.params, MAX_PARAM_VALUE_LEN)?;
    let id = new_model_id();
    let name = match m.name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => crate::domain::names::check_name(n, crate::domain::names::MAX_NAME_CHARS)
            .map_err(|e| AppError::validation("name", e))?
            .to_string(),
        None => format!("model-{}", &id[2..10]),
    };
    let root = Root::Model {
        experiment_id: m.experiment_id,
        model_id: id.clone(),
    };
    sqlx::query(
        "INSERT INTO logged_models (model_id, experiment_id, name, model_type, source_run_id, status, artifact_uri, created_by, creation_time, last_updated_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(m.experiment_id)
    .bind(&name)
    .bind(m.model_type)
    .bind(m.source_run_id)
    .bind(PENDING)
    .bind(root.uri())
    .bind(by)
    .bind(at)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    put_pairs(conn, "logged_model_tags", &id, m.tags).await?;
    put_pairs(conn, "logged_model_params", &id, m.params).await?;
    Ok(id)
}

async fn put_pairs(
    conn: &mut Conn,
    table: &str,
    id: &str,
    kvs: &[(String, String)],
) -> Result<(), sqlx::Error> {
    for (k, v) in kvs {
        sqlx::query(&format!(
            "INSERT INTO {table} (model_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value"
        ))
        .bind(id)
        .bind(k)
        .bind(v)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn touch(conn: &mut Conn, id: &str, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE logged_models SET last_updated_time = $1 WHERE model_id = $2")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets tags on an active model.
pub async fn set_tags(
    conn: &mut Conn,
    id: &str,
    tags: &[(String, String)],
    at: i64,
) -> Result<(), AppError> {
    active(conn, id).await?;
    check_kvs("tags", tags, MAX_TAG_VALUE_LEN)?;
    put_pairs(conn, "logged_model_tags", id, tags).await?;
    touch(conn, id, at).await?;
    Ok(())
}

/// Deletes a tag.
pub async fn delete_tag(conn: &mut Conn, id: &str, key: &str, at: i64) -> Result<(), AppError> {
    active(conn, id).await?;
    let n = sqlx::query("DELETE FROM logged_model_tags WHERE model_id = $1 AND key = $2")
        .bind(id)
        .bind(key)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::not_found(format!(
            "No tag with key `{key}` on logged model {id}"
        )));
    }
    touch(conn, id, at).await?;
    Ok(())
}

/// Logs params; a param keeps its first value, as on runs.
pub async fn log_params(
    conn: &mut Conn,
    id: &str,
    params: &[(String, String)],
    at: i64,
) -> Result<(), AppError> {
    active(conn, id).await?;
    check_kvs("params", params, MAX_PARAM_VALUE_LEN)?;
    for (i, (k, v)) in params.iter().enumerate() {
        let old: Option<String> = sqlx::query_scalar(
            "SELECT value FROM logged_model_params WHERE model_id = $1 AND key = $2",
        )
        .bind(id)
        .bind(k)
        .fetch_optional(&mut *conn)
        .await?;
        match old {
            Some(o) if &o != v => {
                return Err(AppError::validation(
                    format!("params[{i}].value"),
                    format!(
                        "param `{k}` was already logged with value `{o}`; params cannot change"
                    ),
                ))
            }
            Some(_) => {}
            None => {
                sqlx::query(
                    "INSERT INTO logged_model_params (model_id, key, value) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(k)
                .bind(v)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    touch(conn, id, at).await?;
    Ok(())
}

/// The model, which must exist and not be deleted.
pub async fn active(conn: &mut Conn, id: &str) -> Result<LoggedModel, AppError> {
    match get(conn, id).await? {
        Some(m) if m.lifecycle_stage == "active" => Ok(m),
        _ => Err(AppError::not_found(format!(
            "Logged model with ID '{id}' not found"
        ))),
    }
}

/// Finalizes a model: READY with the manifest and digest given, or UPLOAD_FAILED.
pub async fn finalize(
    conn: &mut Conn,
    id: &str,
    status: &str,
    sealed: Option<(&str, &[FileEntry])>,
    at: i64,
) -> Result<(), AppError> {
    let (digest, manifest) = match sealed {
        Some((d, files)) => (
            Some(d.to_string()),
            Some(serde_json::to_string(files).map_err(|_| AppError::internal())?),
        ),
        None => (None, None),
    };
    sqlx::query(
        "UPDATE logged_models SET status = $1, digest = COALESCE(digest, $2), manifest = COALESCE(manifest, $3), finalized_at = COALESCE(finalized_at, $4), last_updated_time = $5 WHERE model_id = $6",
    )
    .bind(status)
    .bind(digest)
    .bind(manifest)
    .bind(if status == READY { Some(at) } else { None })
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a model deleted (its files and record are kept).
pub async fn mark_deleted(conn: &mut Conn, id: &str, at: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = $1 WHERE model_id = $2")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records metric points that name a model.
pub async fn record_metrics(conn: &mut Conn, metrics: &[ModelMetric]) -> Result<(), AppError> {
    for (i, m) in metrics.iter().enumerate() {
        let model_id = m.model_id.as_str();
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM logged_models WHERE model_id = $1")
                .bind(model_id)
                .fetch_optional(&mut *conn)
                .await?;
        if exists.is_none() {
            return Err(AppError::validation(
                format!("metrics[{i}].model_id"),
                format!("no logged model {model_id}"),
            ));
        }
        let nan = m.point.value.is_nan();
        let value = crate::store::Real((!nan).then_some(m.point.value));
        sqlx::query(
            "INSERT INTO logged_model_metrics (model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(model_id)
        .bind(&m.point.key)
        .bind(value)
        .bind(nan)
        .bind(m.point.timestamp)
        .bind(m.point.step)
        .bind(&m.run_id)
        .bind(&m.dataset_name)
        .bind(&m.dataset_digest)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
