//! MLflow 3 logged models: the record of a model's files (kept in the artifact store), its
//! tags, params and metrics, the runs that produced or used it, and its digest once finalized.

use crate::domain::artifacts::{FileEntry, Root};
use crate::domain::logged_models::{PENDING, READY};
use crate::error::AppError;
use crate::store::tracking::{
    check_key, experiment_stage, MetricPoint, MAX_PARAM_VALUE_LEN, MAX_TAG_VALUE_LEN,
};
use sqlx::SqliteConnection;

/// A logged model with its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedModel {
    /// `m-` and 32 hex digits.
    pub model_id: String,
    /// Its experiment.
    pub experiment_id: i64,
    /// Name (`model`, say: the `name=` of `log_model`).
    pub name: String,
    /// Free-form type.
    pub model_type: String,
    /// The run that logged it.
    pub source_run_id: Option<String>,
    /// `LOGGED_MODEL_…`.
    pub status: String,
    /// Why, when failed.
    pub status_message: String,
    /// `mlflow-artifacts:/<experiment>/models/<id>/artifacts`.
    pub artifact_uri: String,
    /// Who created it.
    pub created_by: String,
    /// ms.
    pub creation_time: i64,
    /// ms.
    pub last_updated_time: i64,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
    /// `sha256:…` once finalized READY.
    pub digest: Option<String>,
    /// Its files as recorded at finalization.
    pub manifest: Vec<FileEntry>,
    /// When finalized, ms.
    pub finalized_at: Option<i64>,
    /// Tags, by key.
    pub tags: Vec<(String, String)>,
    /// Params, by key.
    pub params: Vec<(String, String)>,
    /// Every metric point logged against it.
    pub metrics: Vec<ModelMetric>,
}

impl LoggedModel {
    /// The artifact root.
    pub fn root(&self) -> Root {
        Root::Model {
            experiment_id: self.experiment_id,
            model_id: self.model_id.clone(),
        }
    }
}

/// A metric point logged with a `model_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelMetric {
    /// The model it was logged against.
    pub model_id: String,
    /// The point.
    pub point: MetricPoint,
    /// The run it was logged in, if any.
    pub run_id: Option<String>,
    /// The dataset it was computed on, if named.
    pub dataset_name: String,
    /// That dataset's digest.
    pub dataset_digest: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    model_id: String,
    experiment_id: i64,
    name: String,
    model_type: String,
    source_run_id: Option<String>,
    status: String,
    status_message: String,
    artifact_uri: String,
    created_by: String,
    creation_time: i64,
    last_updated_time: i64,
    lifecycle_stage: String,
    digest: Option<String>,
    manifest: Option<String>,
    finalized_at: Option<i64>,
}

const COLUMNS: &str = "model_id, experiment_id, name, model_type, source_run_id, status, status_message, artifact_uri, created_by, creation_time, last_updated_time, lifecycle_stage, digest, manifest, finalized_at";

/// A new model id.
pub fn new_model_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    format!("m-{}", hex::encode(b))
}

fn check_kvs(field: &str, kvs: &[(String, String)], max_value: usize) -> Result<(), AppError> {
    for (i, (k, v)) in kvs.iter().enumerate() {
        check_key(&format!("{field}[{i}].key"), k)?;
        if v.chars().count() > max_value {
            return Err(AppError::validation(
                format!("{field}[{i}].value"),
                format!("value of `{k}` is longer than {max_value} characters"),
            ));
        }
    }
    Ok(())
}

/// What a new logged model is given.
#[derive(Clone, Debug, Default)]
pub struct NewModel<'a> {
    /// Its experiment.
    pub experiment_id: i64,
    /// Its name (a default is made when empty).
    pub name: Option<&'a str>,
    /// Its type.
    pub model_type: &'a str,
    /// The run logging it.
    pub source_run_id: Option<&'a str>,
    /// Tags.
    pub tags: &'a [(String, String)],
    /// Params.
    pub params: &'a [(String, String)],
}

/// Creates a logged model (PENDING) and answers its id.
pub async fn create(
    conn: &mut SqliteConnection,
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
            sqlx::query_scalar("SELECT experiment_id FROM runs WHERE run_uuid = ?")
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
        "INSERT INTO logged_models (model_id, experiment_id, name, model_type, source_run_id, status, artifact_uri, created_by, creation_time, last_updated_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    conn: &mut SqliteConnection,
    table: &str,
    id: &str,
    kvs: &[(String, String)],
) -> Result<(), sqlx::Error> {
    for (k, v) in kvs {
        sqlx::query(&format!(
            "INSERT INTO {table} (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value"
        ))
        .bind(id)
        .bind(k)
        .bind(v)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn touch(conn: &mut SqliteConnection, id: &str, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets tags on an active model.
pub async fn set_tags(
    conn: &mut SqliteConnection,
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
pub async fn delete_tag(
    conn: &mut SqliteConnection,
    id: &str,
    key: &str,
    at: i64,
) -> Result<(), AppError> {
    active(conn, id).await?;
    let n = sqlx::query("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?")
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
    conn: &mut SqliteConnection,
    id: &str,
    params: &[(String, String)],
    at: i64,
) -> Result<(), AppError> {
    active(conn, id).await?;
    check_kvs("params", params, MAX_PARAM_VALUE_LEN)?;
    for (i, (k, v)) in params.iter().enumerate() {
        let old: Option<String> = sqlx::query_scalar(
            "SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?",
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
                    "INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)",
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
pub async fn active(conn: &mut SqliteConnection, id: &str) -> Result<LoggedModel, AppError> {
    match get(conn, id).await? {
        Some(m) if m.lifecycle_stage == "active" => Ok(m),
        _ => Err(AppError::not_found(format!(
            "Logged model with ID '{id}' not found"
        ))),
    }
}

/// Finalizes a model: READY with the manifest and digest given, or UPLOAD_FAILED.
pub async fn finalize(
    conn: &mut SqliteConnection,
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
        "UPDATE logged_models SET status = ?, digest = COALESCE(digest, ?), manifest = COALESCE(manifest, ?), finalized_at = COALESCE(finalized_at, ?), last_updated_time = ? WHERE model_id = ?",
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
pub async fn mark_deleted(conn: &mut SqliteConnection, id: &str, at: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = ? WHERE model_id = ?")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records metric points that name a model.
pub async fn record_metrics(
    conn: &mut SqliteConnection,
    metrics: &[ModelMetric],
) -> Result<(), AppError> {
    for (i, m) in metrics.iter().enumerate() {
        let model_id = m.model_id.as_str();
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM logged_models WHERE model_id = ?")
                .bind(model_id)
                .fetch_optional(&mut *conn)
                .await?;
        if exists.is_none() {
            return Err(AppError::validation(
                format!("metrics[{i}].model_id"),
                format!("no logged model {model_id}"),
            ));
        }
        let (value, nan) = if m.point.value.is_nan() {
            (None, 1)
        } else {
            (Some(m.point.value), 0)
        };
        sqlx::query(
            "INSERT INTO logged_model_metrics (model_id, key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

/// The model, with its tags, params and metrics; `None` when unknown.
pub async fn get(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<LoggedModel>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM logged_models WHERE model_id = ?"
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
    conn: &mut SqliteConnection,
    experiment_ids: &[i64],
) -> Result<Vec<LoggedModel>, sqlx::Error> {
    let mut out = Vec::new();
    for e in experiment_ids {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM logged_models WHERE experiment_id = ? AND lifecycle_stage = 'active' ORDER BY creation_time DESC, model_id"
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
pub async fn finalized(conn: &mut SqliteConnection) -> Result<Vec<LoggedModel>, sqlx::Error> {
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

async fn complete(conn: &mut SqliteConnection, r: Row) -> Result<LoggedModel, sqlx::Error> {
    let tags: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key")
            .bind(&r.model_id)
            .fetch_all(&mut *conn)
            .await?;
    let params: Vec<(String, String)> = sqlx::query_as(
        "SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key",
    )
    .bind(&r.model_id)
    .fetch_all(&mut *conn)
    .await?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, Option<f64>, i64, i64, i64, Option<String>, String, String)> = sqlx::query_as(
        "SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id = ? ORDER BY key, step, timestamp",
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
                        value: if nan == 1 {
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

/// Records `runs/outputs`: models a run produced.
pub async fn add_outputs(
    conn: &mut SqliteConnection,
    run_id: &str,
    models: &[(String, i64)],
) -> Result<(), AppError> {
    for (i, (model_id, step)) in models.iter().enumerate() {
        if get(conn, model_id).await?.is_none() {
            return Err(AppError::validation(
                format!("models[{i}].model_id"),
                format!("no logged model {model_id}"),
            ));
        }
        sqlx::query(
            "INSERT INTO run_outputs (run_uuid, model_id, step) VALUES (?, ?, ?) ON CONFLICT (run_uuid, model_id) DO UPDATE SET step = excluded.step",
        )
        .bind(run_id)
        .bind(model_id)
        .bind(step)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Records models a run used as inputs (`runs/log-inputs` with `models`).
pub async fn add_inputs(
    conn: &mut SqliteConnection,
    run_id: &str,
    models: &[String],
) -> Result<(), AppError> {
    for (i, model_id) in models.iter().enumerate() {
        if get(conn, model_id).await?.is_none() {
            return Err(AppError::validation(
                format!("models[{i}].model_id"),
                format!("no logged model {model_id}"),
            ));
        }
        sqlx::query("INSERT OR IGNORE INTO run_model_inputs (run_uuid, model_id) VALUES (?, ?)")
            .bind(run_id)
            .bind(model_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A run's outputs (model id, step) and model inputs.
pub async fn run_models(
    conn: &mut SqliteConnection,
    run_id: &str,
) -> Result<(Vec<(String, i64)>, Vec<String>), sqlx::Error> {
    let outputs = sqlx::query_as(
        "SELECT model_id, step FROM run_outputs WHERE run_uuid = ? ORDER BY step, model_id",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    let inputs = sqlx::query_scalar(
        "SELECT model_id FROM run_model_inputs WHERE run_uuid = ? ORDER BY model_id",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok((outputs, inputs))
}

/// The ids of the active models a run logged and of the models it recorded as outputs.
pub async fn ids_of_run(
    conn: &mut SqliteConnection,
    run_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT model_id FROM logged_models WHERE source_run_id = ? AND lifecycle_stage = 'active' \
         UNION SELECT model_id FROM run_outputs WHERE run_uuid = ? ORDER BY 1",
    )
    .bind(run_id)
    .bind(run_id)
    .fetch_all(conn)
    .await
}

/// The registered model versions (name, version) created from a logged model.
pub async fn registered_versions(
    conn: &mut SqliteConnection,
    model_id: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, version FROM model_versions WHERE model_id = ? ORDER BY name, version",
    )
    .bind(model_id)
    .fetch_all(conn)
    .await
}
