//! MLflow runs: create, update, stage, params, tags, metrics with their histories and
//! dataset inputs.

use super::check_key;
use super::experiment_stage;
use super::insert_metrics;
use super::DatasetInput;
use super::MetricPoint;
use super::RunInfo;
use super::MAX_PARAM_VALUE_LEN;
use super::MAX_TAG_VALUE_LEN;
use crate::error::AppError;
use crate::store::{Conn, Pool};

/// A run's name, by the rule for every name ([`crate::domain::names`]).
fn check_run_name(n: &str) -> Result<&str, AppError> {
    crate::domain::names::check_name(n, crate::domain::names::MAX_NAME_CHARS)
        .map_err(|m| AppError::validation("run_name", format!("run name {m}")))
}

/// Tag holding a run's name, kept in step with `runs.run_name`.
pub const RUN_NAME_TAG: &str = "mlflow.runName";

/// Creates a run in an active experiment.
#[allow(clippy::too_many_arguments)]
pub async fn create_run(
    conn: &mut Conn,
    run_uuid: &str,
    experiment_id: i64,
    user_id: &str,
    run_name: Option<&str>,
    start_time: i64,
    tags: &[(String, String)],
) -> Result<RunInfo, AppError> {
    if experiment_stage(conn, experiment_id).await? != "active" {
        return Err(AppError::validation(
            "experiment_id",
            format!("experiment {experiment_id} is not active"),
        ));
    }
    let tag_name = tags
        .iter()
        .find(|(k, _)| k == RUN_NAME_TAG)
        .map(|(_, v)| v.as_str());
    let name = match run_name.filter(|n| !n.is_empty()).or(tag_name) {
        Some(n) => check_run_name(n)?.to_owned(),
        None => format!("run-{}", &run_uuid[..8]),
    };
    let artifact_location: String =
        sqlx::query_scalar("SELECT artifact_location FROM experiments WHERE experiment_id = $1")
            .bind(experiment_id)
            .fetch_one(&mut *conn)
            .await?;
    let artifact_uri = format!(
        "{}/{run_uuid}/artifacts",
        artifact_location.trim_end_matches('/')
    );
    sqlx::query(
        "INSERT INTO runs (run_uuid, experiment_id, run_name, user_id, status, start_time, artifact_uri) VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6)",
    )
    .bind(run_uuid)
    .bind(experiment_id)
    .bind(&name)
    .bind(user_id)
    .bind(start_time)
    .bind(&artifact_uri)
    .execute(&mut *conn)
    .await?;
    let mut all_tags: Vec<(String, String)> = tags
        .iter()
        .filter(|(k, _)| k != RUN_NAME_TAG)
        .cloned()
        .collect();
    all_tags.push((RUN_NAME_TAG.to_owned(), name));
    log_batch(conn, run_uuid, &[], &[], &all_tags).await?;
    run_info(conn, run_uuid).await
}

/// A run's attributes.
pub async fn run_info(conn: &mut Conn, run_uuid: &str) -> Result<RunInfo, AppError> {
    sqlx::query_as(
        "SELECT run_uuid, experiment_id, run_name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage FROM runs WHERE run_uuid = $1",
    )
    .bind(run_uuid)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found(format!("Run with id={run_uuid} not found")))
}

pub(super) async fn active_run(conn: &mut Conn, run_uuid: &str) -> Result<RunInfo, AppError> {
    let info = run_info(conn, run_uuid).await?;
    if info.lifecycle_stage != "active" {
        return Err(AppError::validation(
            "run_id",
            format!(
                "The run {run_uuid} must be in the 'active' state. Current state is {}.",
                info.lifecycle_stage
            ),
        ));
    }
    Ok(info)
}

/// Updates status, end time and/or name.
pub async fn update_run(
    conn: &mut Conn,
    run_uuid: &str,
    status: Option<&str>,
    end_time: Option<i64>,
    run_name: Option<&str>,
) -> Result<RunInfo, AppError> {
    active_run(conn, run_uuid).await?;
    if let Some(s) = status {
        if !matches!(
            s,
            "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED"
        ) {
            return Err(AppError::validation(
                "status",
                format!("invalid run status `{s}`"),
            ));
        }
        sqlx::query("UPDATE runs SET status = $1 WHERE run_uuid = $2")
            .bind(s)
            .bind(run_uuid)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(t) = end_time {
        sqlx::query("UPDATE runs SET end_time = $1 WHERE run_uuid = $2")
            .bind(t)
            .bind(run_uuid)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(n) = run_name.filter(|n| !n.is_empty()) {
        log_batch(
            conn,
            run_uuid,
            &[],
            &[],
            &[(RUN_NAME_TAG.to_owned(), n.to_owned())],
        )
        .await?;
    }
    run_info(conn, run_uuid).await
}

/// Moves a run between `active` and `deleted`.
pub async fn set_run_stage(conn: &mut Conn, run_uuid: &str, stage: &str) -> Result<(), AppError> {
    run_info(conn, run_uuid).await?;
    sqlx::query("UPDATE runs SET lifecycle_stage = $1 WHERE run_uuid = $2")
        .bind(stage)
        .bind(run_uuid)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Logs metrics, params and tags to an active run. Params are immutable: the same value again
/// is accepted, a different one is an error naming the key.
pub async fn log_batch(
    conn: &mut Conn,
    run_uuid: &str,
    metrics: &[MetricPoint],
    params: &[(String, String)],
    tags: &[(String, String)],
) -> Result<(), AppError> {
    active_run(conn, run_uuid).await?;
    for (i, (k, v)) in params.iter().enumerate() {
        check_key(&format!("params[{i}].key"), k)?;
        if v.chars().count() > MAX_PARAM_VALUE_LEN {
            return Err(AppError::validation(
                format!("params[{i}].value"),
                format!("param `{k}` value is longer than {MAX_PARAM_VALUE_LEN} characters"),
            ));
        }
        let existing: Option<String> =
            sqlx::query_scalar("SELECT value FROM params WHERE run_uuid = $1 AND key = $2")
                .bind(run_uuid)
                .bind(k)
                .fetch_optional(&mut *conn)
                .await?;
        match existing {
            Some(old) if &old == v => {}
            Some(old) => {
                return Err(AppError::validation(
                    format!("params[{i}]"),
                    format!("Changing param values is not allowed. Param with key='{k}' was already logged with value='{old}' for run ID='{run_uuid}'. Attempted logging new value '{v}'."),
                ))
            }
            None => {
                sqlx::query("INSERT INTO params (run_uuid, key, value) VALUES ($1, $2, $3)")
                    .bind(run_uuid)
                    .bind(k)
                    .bind(v)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        check_key(&format!("tags[{i}].key"), k)?;
        if v.chars().count() > MAX_TAG_VALUE_LEN {
            return Err(AppError::validation(
                format!("tags[{i}].value"),
                format!("tag `{k}` value is longer than {MAX_TAG_VALUE_LEN} characters"),
            ));
        }
        sqlx::query("INSERT INTO run_tags (run_uuid, key, value) VALUES ($1, $2, $3) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value")
            .bind(run_uuid)
            .bind(k)
            .bind(v)
            .execute(&mut *conn)
            .await?;
        if k == RUN_NAME_TAG {
            let v = check_run_name(v)?;
            sqlx::query("UPDATE runs SET run_name = $1 WHERE run_uuid = $2")
                .bind(v)
                .bind(run_uuid)
                .execute(&mut *conn)
                .await?;
        }
    }
    for (i, m) in metrics.iter().enumerate() {
        check_key(&format!("metrics[{i}].key"), &m.key)?;
    }
    insert_metrics(conn, run_uuid, metrics).await
}
/// Deletes a run tag.
pub async fn delete_tag(conn: &mut Conn, run_uuid: &str, key: &str) -> Result<(), AppError> {
    active_run(conn, run_uuid).await?;
    let n = sqlx::query("DELETE FROM run_tags WHERE run_uuid = $1 AND key = $2")
        .bind(run_uuid)
        .bind(key)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::not_found(format!(
            "No tag with name: {key} in run with id {run_uuid}"
        )));
    }
    Ok(())
}

/// Records dataset inputs of a run (datasets are shared per experiment by name and digest).
pub async fn log_inputs(
    conn: &mut Conn,
    run_uuid: &str,
    inputs: &[DatasetInput],
) -> Result<(), AppError> {
    let info = active_run(conn, run_uuid).await?;
    for (i, d) in inputs.iter().enumerate() {
        if d.name.is_empty() || d.digest.is_empty() {
            return Err(AppError::validation(
                format!("datasets[{i}].dataset"),
                "name and digest are required",
            ));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema, profile) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (experiment_id, name, digest) DO UPDATE SET source_type = excluded.source_type RETURNING dataset_id",
        )
        .bind(info.experiment_id)
        .bind(&d.name)
        .bind(&d.digest)
        .bind(&d.source_type)
        .bind(&d.source)
        .bind(&d.schema)
        .bind(&d.profile)
        .fetch_one(&mut *conn)
        .await?;
        let tags = serde_json::to_string(&d.tags).map_err(|_| AppError::internal())?;
        sqlx::query("INSERT INTO run_inputs (run_uuid, dataset_id, tags) VALUES ($1, $2, $3) ON CONFLICT (run_uuid, dataset_id) DO UPDATE SET tags = excluded.tags")
            .bind(run_uuid)
            .bind(id)
            .bind(tags)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
/// Whether a run exists.
pub async fn run_exists(pool: &Pool, run_uuid: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT 1 FROM runs WHERE run_uuid = $1")
            .bind(run_uuid)
            .fetch_optional(pool)
            .await?
            .is_some(),
    )
}
