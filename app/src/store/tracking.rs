//! The MLflow-compatible tracking store: experiments, runs, params, tags, metric histories and
//! dataset inputs. Writes take the caller's transaction so each request and its audit entry
//! commit together.

use crate::domain::run_search::{like_to_glob, Attribute, Clause, Field, Op, OrderBy, Value};
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{BTreeMap, HashMap};

/// Longest key (metric, param or tag name), as in MLflow.
pub const MAX_KEY_LEN: usize = 250;
/// Longest param value, as in MLflow.
pub const MAX_PARAM_VALUE_LEN: usize = 6000;
/// Longest tag value, as in MLflow.
pub const MAX_TAG_VALUE_LEN: usize = 8000;

/// An experiment with its tags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Numeric id (MLflow shows it as a string).
    pub experiment_id: i64,
    /// Unique name.
    pub name: String,
    /// Where artifacts would be stored.
    pub artifact_location: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
    /// Milliseconds since the epoch.
    pub creation_time: i64,
    /// Milliseconds since the epoch.
    pub last_update_time: i64,
    /// Tags, by key.
    pub tags: BTreeMap<String, String>,
}

/// A run's attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RunInfo {
    /// 32 hex digits.
    pub run_uuid: String,
    /// Owning experiment.
    pub experiment_id: i64,
    /// Display name.
    pub run_name: String,
    /// Who started it.
    pub user_id: String,
    /// RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.
    pub status: String,
    /// Milliseconds since the epoch.
    pub start_time: Option<i64>,
    /// Milliseconds since the epoch.
    pub end_time: Option<i64>,
    /// Where artifacts would be stored.
    pub artifact_uri: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
}

/// One metric point; `value` may be NaN or infinite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Metric name.
    pub key: String,
    /// Value.
    pub value: f64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Training step.
    pub step: i64,
}

/// A dataset used by a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInput {
    /// Name.
    pub name: String,
    /// Content digest.
    pub digest: String,
    /// e.g. `local`, `s3`, `delta_table`.
    pub source_type: String,
    /// Source description (often JSON).
    pub source: String,
    /// Schema (JSON), if given.
    pub schema: Option<String>,
    /// Profile (JSON), if given.
    pub profile: Option<String>,
    /// Input tags, e.g. `mlflow.data.context = training`.
    pub tags: Vec<(String, String)>,
}

/// A run with its latest metrics, params, tags and inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Attributes.
    pub info: RunInfo,
    /// Latest value per metric key.
    pub metrics: Vec<MetricPoint>,
    /// Params by key.
    pub params: BTreeMap<String, String>,
    /// Tags by key.
    pub tags: BTreeMap<String, String>,
    /// Dataset inputs.
    pub inputs: Vec<DatasetInput>,
}

pub fn check_key(field: &str, key: &str) -> Result<(), AppError> {
    if key.is_empty() {
        return Err(AppError::validation(field, "key must not be empty"));
    }
    if key.chars().count() > MAX_KEY_LEN {
        return Err(AppError::validation(
            field,
            format!(
                "key `{}…` is longer than {MAX_KEY_LEN} characters",
                key.chars().take(20).collect::<String>()
            ),
        ));
    }
    if key.contains("..") || key.starts_with('/') || key.contains('\0') {
        return Err(AppError::validation(field, format!("invalid key `{key}`")));
    }
    Ok(())
}

async fn load_experiment_tags(
    pool: &SqlitePool,
    id: i64,
) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM experiment_tags WHERE experiment_id = ?")
            .bind(id)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

type ExperimentRow = (i64, String, String, String, i64, i64);
const EXPERIMENT_COLS: &str =
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

async fn experiment_from(
    pool: &SqlitePool,
    row: Option<ExperimentRow>,
) -> Result<Option<Experiment>, sqlx::Error> {
    let Some((
        experiment_id,
        name,
        artifact_location,
        lifecycle_stage,
        creation_time,
        last_update_time,
    )) = row
    else {
        return Ok(None);
    };
    Ok(Some(Experiment {
        tags: load_experiment_tags(pool, experiment_id).await?,
        experiment_id,
        name,
        artifact_location,
        lifecycle_stage,
        creation_time,
        last_update_time,
    }))
}

/// An experiment by id.
pub async fn get_experiment(pool: &SqlitePool, id: i64) -> Result<Option<Experiment>, sqlx::Error> {
    let row = sqlx::query_as(&format!(
        "SELECT {EXPERIMENT_COLS} FROM experiments WHERE experiment_id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    experiment_from(pool, row).await
}

/// An experiment by name (deleted ones included, as MLflow does).
pub async fn get_experiment_by_name(
    pool: &SqlitePool,
    name: &str,
) -> Result<Option<Experiment>, sqlx::Error> {
    let row = sqlx::query_as(&format!(
        "SELECT {EXPERIMENT_COLS} FROM experiments WHERE name = ?"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    experiment_from(pool, row).await
}

/// Creates an experiment; the name must be new (deleted experiments keep theirs).
pub async fn create_experiment(
    conn: &mut SqliteConnection,
    name: &str,
    artifact_location: Option<&str>,
    tags: &[(String, String)],
    now_ms: i64,
) -> Result<i64, AppError> {
    let name = crate::domain::names::check_name(name, crate::domain::names::MAX_NAME_CHARS)
        .map_err(|m| AppError::validation("name", format!("experiment name {m}")))?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT experiment_id FROM experiments WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    if exists.is_some() {
        return Err(AppError::conflict(format!(
            "Experiment '{name}' already exists."
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES (?, '', ?, ?) RETURNING experiment_id",
    )
    .bind(name)
    .bind(now_ms)
    .bind(now_ms)
    .fetch_one(&mut *conn)
    .await?;
    let location = artifact_location
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("mlflow-artifacts:/{id}"));
    sqlx::query("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?")
        .bind(location)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (k, v) in tags {
        set_experiment_tag(conn, id, k, v, now_ms).await?;
    }
    Ok(id)
}

pub async fn experiment_stage(conn: &mut SqliteConnection, id: i64) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No Experiment with id={id} exists")))
}

/// Renames an experiment.
pub async fn rename_experiment(
    conn: &mut SqliteConnection,
    id: i64,
    new_name: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    let new_name = crate::domain::names::check_name(new_name, crate::domain::names::MAX_NAME_CHARS)
        .map_err(|m| AppError::validation("new_name", format!("experiment name {m}")))?;
    if experiment_stage(conn, id).await? != "active" {
        return Err(AppError::validation(
            "experiment_id",
            "cannot rename a non-active experiment",
        ));
    }
    sqlx::query("UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?")
        .bind(new_name)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                AppError::conflict(format!("Experiment '{new_name}' already exists."))
            }
            other => other.into(),
        })?;
    Ok(())
}

/// Moves an experiment (and its runs) between `active` and `deleted`.
pub async fn set_experiment_stage(
    conn: &mut SqliteConnection,
    id: i64,
    stage: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    experiment_stage(conn, id).await?;
    if id == 0 && stage == "deleted" {
        return Err(AppError::validation(
            "experiment_id",
            "the default experiment cannot be deleted",
        ));
    }
    sqlx::query(
        "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?",
    )
    .bind(stage)
    .bind(now_ms)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE runs SET lifecycle_stage = ? WHERE experiment_id = ?")
        .bind(stage)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets (or replaces) an experiment tag.
pub async fn set_experiment_tag(
    conn: &mut SqliteConnection,
    id: i64,
    key: &str,
    value: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    check_key("key", key)?;
    if value.chars().count() > MAX_TAG_VALUE_LEN {
        return Err(AppError::validation(
            "value",
            format!("tag value is longer than {MAX_TAG_VALUE_LEN} characters"),
        ));
    }
    if experiment_stage(conn, id).await? != "active" {
        return Err(AppError::validation(
            "experiment_id",
            "the experiment must be active to set tags",
        ));
    }
    sqlx::query("INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value")
        .bind(id)
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE experiments SET last_update_time = ? WHERE experiment_id = ?")
        .bind(now_ms)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The experiment tag naming an experiment's baseline run; its value is the run id. MLflow
/// clients can set it too (`MlflowClient.set_experiment_tag`).
pub const BASELINE_TAG: &str = "gatehouse.baseline";

/// Each given experiment's baseline as (experiment id, run id, run name), where the tag names
/// an active run of that experiment (a stale or foreign id counts as no baseline).
pub async fn baselines(
    pool: &SqlitePool,
    experiment_ids: &[i64],
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    if experiment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::new(
        "SELECT t.experiment_id, r.run_uuid, r.run_name FROM experiment_tags t \
         JOIN runs r ON r.run_uuid = t.value AND r.experiment_id = t.experiment_id AND r.lifecycle_stage = 'active' \
         WHERE t.key = ",
    );
    q.push_bind(BASELINE_TAG).push(" AND t.experiment_id IN (");
    let mut sep = q.separated(", ");
    for id in experiment_ids {
        sep.push_bind(*id);
    }
    q.push(")");
    q.build_query_as().fetch_all(pool).await
}

/// Makes an active run its experiment's baseline (`on`), or stops it being the baseline.
/// Returns the experiment id and the baseline before the change.
pub async fn set_baseline(
    conn: &mut SqliteConnection,
    run_uuid: &str,
    on: bool,
    now_ms: i64,
) -> Result<(i64, Option<String>), AppError> {
    let info = active_run(conn, run_uuid).await?;
    let exp = info.experiment_id;
    let previous: Option<String> =
        sqlx::query_scalar("SELECT value FROM experiment_tags WHERE experiment_id = ? AND key = ?")
            .bind(exp)
            .bind(BASELINE_TAG)
            .fetch_optional(&mut *conn)
            .await?;
    if on {
        set_experiment_tag(conn, exp, BASELINE_TAG, run_uuid, now_ms).await?;
    } else {
        if previous.as_deref() != Some(run_uuid) {
            return Err(AppError::validation(
                "run_id",
                "this run is not its experiment's baseline",
            ));
        }
        sqlx::query("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?")
            .bind(exp)
            .bind(BASELINE_TAG)
            .execute(&mut *conn)
            .await?;
    }
    Ok((exp, previous))
}

/// A page of experiments by name filter (`None` = all), newest first.
pub async fn search_experiments(
    pool: &SqlitePool,
    stages: &[&str],
    name_filter: Option<(Op, String)>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Experiment>, sqlx::Error> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {EXPERIMENT_COLS} FROM experiments WHERE lifecycle_stage IN ("
    ));
    let mut sep = q.separated(", ");
    for s in stages {
        sep.push_bind(s.to_string());
    }
    q.push(")");
    if let Some((op, v)) = name_filter {
        match op {
            Op::Like => q.push(" AND name GLOB ").push_bind(like_to_glob(&v)),
            Op::ILike => q.push(" AND name LIKE ").push_bind(v),
            Op::Ne => q.push(" AND name != ").push_bind(v),
            _ => q.push(" AND name = ").push_bind(v),
        };
    }
    q.push(" ORDER BY creation_time DESC, experiment_id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows: Vec<ExperimentRow> = q.build_query_as().fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(e) = experiment_from(pool, Some(row)).await? {
            out.push(e);
        }
    }
    Ok(out)
}

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
    conn: &mut SqliteConnection,
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
        sqlx::query_scalar("SELECT artifact_location FROM experiments WHERE experiment_id = ?")
            .bind(experiment_id)
            .fetch_one(&mut *conn)
            .await?;
    let artifact_uri = format!(
        "{}/{run_uuid}/artifacts",
        artifact_location.trim_end_matches('/')
    );
    sqlx::query(
        "INSERT INTO runs (run_uuid, experiment_id, run_name, user_id, status, start_time, artifact_uri) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?)",
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
pub async fn run_info(conn: &mut SqliteConnection, run_uuid: &str) -> Result<RunInfo, AppError> {
    sqlx::query_as(
        "SELECT run_uuid, experiment_id, run_name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage FROM runs WHERE run_uuid = ?",
    )
    .bind(run_uuid)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found(format!("Run with id={run_uuid} not found")))
}

async fn active_run(conn: &mut SqliteConnection, run_uuid: &str) -> Result<RunInfo, AppError> {
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
    conn: &mut SqliteConnection,
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
        sqlx::query("UPDATE runs SET status = ? WHERE run_uuid = ?")
            .bind(s)
            .bind(run_uuid)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(t) = end_time {
        sqlx::query("UPDATE runs SET end_time = ? WHERE run_uuid = ?")
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
pub async fn set_run_stage(
    conn: &mut SqliteConnection,
    run_uuid: &str,
    stage: &str,
) -> Result<(), AppError> {
    run_info(conn, run_uuid).await?;
    sqlx::query("UPDATE runs SET lifecycle_stage = ? WHERE run_uuid = ?")
        .bind(stage)
        .bind(run_uuid)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Logs metrics, params and tags to an active run. Params are immutable: the same value again
/// is accepted, a different one is an error naming the key.
pub async fn log_batch(
    conn: &mut SqliteConnection,
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
            sqlx::query_scalar("SELECT value FROM params WHERE run_uuid = ? AND key = ?")
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
                sqlx::query("INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)")
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
        sqlx::query("INSERT INTO run_tags (run_uuid, key, value) VALUES (?, ?, ?) ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value")
            .bind(run_uuid)
            .bind(k)
            .bind(v)
            .execute(&mut *conn)
            .await?;
        if k == RUN_NAME_TAG {
            let v = check_run_name(v)?;
            sqlx::query("UPDATE runs SET run_name = ? WHERE run_uuid = ?")
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

async fn insert_metrics(
    conn: &mut SqliteConnection,
    run_uuid: &str,
    metrics: &[MetricPoint],
) -> Result<(), AppError> {
    for chunk in metrics.chunks(500) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO metric_history (run_uuid, key, step, timestamp, value, is_nan) ",
        );
        q.push_values(chunk, |mut b, m| {
            b.push_bind(run_uuid.to_owned())
                .push_bind(m.key.clone())
                .push_bind(m.step)
                .push_bind(m.timestamp)
                .push_bind((!m.value.is_nan()).then_some(m.value))
                .push_bind(m.value.is_nan() as i64);
        });
        q.build().execute(&mut *conn).await?;
    }
    // The latest point per key: compare (step, timestamp, value) with the stored one. NaN
    // counts as greater than any number here, as MLflow orders it.
    let mut latest: BTreeMap<&str, &MetricPoint> = BTreeMap::new();
    for m in metrics {
        let newer = match latest.get(m.key.as_str()) {
            None => true,
            Some(cur) => newer_than(m, cur),
        };
        if newer {
            latest.insert(&m.key, m);
        }
    }
    for m in latest.values() {
        sqlx::query(
            "INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (run_uuid, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan \
             WHERE (excluded.step, excluded.timestamp) > (latest_metrics.step, latest_metrics.timestamp) \
                OR ((excluded.step, excluded.timestamp) = (latest_metrics.step, latest_metrics.timestamp) \
                    AND (excluded.is_nan > latest_metrics.is_nan OR (excluded.is_nan = latest_metrics.is_nan AND excluded.value >= latest_metrics.value)))",
        )
        .bind(run_uuid)
        .bind(&m.key)
        .bind(m.step)
        .bind(m.timestamp)
        .bind((!m.value.is_nan()).then_some(m.value))
        .bind(m.value.is_nan() as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn newer_than(a: &MetricPoint, b: &MetricPoint) -> bool {
    let key = |m: &MetricPoint| (m.step, m.timestamp);
    match key(a).cmp(&key(b)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => a.value.is_nan() || (!b.value.is_nan() && a.value >= b.value),
    }
}

/// Deletes a run tag.
pub async fn delete_tag(
    conn: &mut SqliteConnection,
    run_uuid: &str,
    key: &str,
) -> Result<(), AppError> {
    active_run(conn, run_uuid).await?;
    let n = sqlx::query("DELETE FROM run_tags WHERE run_uuid = ? AND key = ?")
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
    conn: &mut SqliteConnection,
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
            "INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?) \
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
        sqlx::query("INSERT INTO run_inputs (run_uuid, dataset_id, tags) VALUES (?, ?, ?) ON CONFLICT (run_uuid, dataset_id) DO UPDATE SET tags = excluded.tags")
            .bind(run_uuid)
            .bind(id)
            .bind(tags)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn metric_from(
    key: String,
    step: i64,
    timestamp: i64,
    value: Option<f64>,
    is_nan: bool,
) -> MetricPoint {
    MetricPoint {
        key,
        step,
        timestamp,
        value: if is_nan {
            f64::NAN
        } else {
            value.unwrap_or(f64::NAN)
        },
    }
}

/// A metric's history for a run, ordered by step then timestamp.
pub async fn metric_history(
    pool: &SqlitePool,
    run_uuid: &str,
    key: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<MetricPoint>, sqlx::Error> {
    let rows: Vec<(i64, i64, Option<f64>, bool)> = sqlx::query_as(
        "SELECT step, timestamp, value, is_nan FROM metric_history WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp LIMIT ? OFFSET ?",
    )
    .bind(run_uuid)
    .bind(key)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(s, t, v, n)| metric_from(key.to_owned(), s, t, v, n))
        .collect())
}

/// Whether a run exists.
pub async fn run_exists(pool: &SqlitePool, run_uuid: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT 1 FROM runs WHERE run_uuid = ?")
            .bind(run_uuid)
            .fetch_optional(pool)
            .await?
            .is_some(),
    )
}

fn in_list<'a>(q: &mut QueryBuilder<'a, Sqlite>, ids: &'a [String]) {
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id.as_str());
    }
    q.push(")");
}

/// SQL for one run (table alias `r`) as MLflow's REST API spells it: `{info, data: {metrics,
/// params, tags}, inputs: {dataset_inputs}}`.
///
/// SQLite builds the JSON itself, so the API neither parses aggregated rows nor serialises
/// structs; on a 100-run `runs/search` page that halves the work outside SQLite. Absent optional
/// fields are left out rather than sent as `null` (a JSON merge patch onto `{}` drops them),
/// metric values carry 17 significant digits, which round-trips every f64, and non-finite values
/// are the strings `NaN`, `Infinity` and `-Infinity`, as in MLflow.
pub const RUN_JSON: &str = "json_object(\
 'info', json_patch('{}', json_object('run_id', r.run_uuid, 'run_uuid', r.run_uuid, 'run_name', r.run_name, \
   'experiment_id', CAST(r.experiment_id AS TEXT), 'user_id', r.user_id, 'status', r.status, \
   'start_time', r.start_time, 'end_time', r.end_time, 'artifact_uri', r.artifact_uri, 'lifecycle_stage', r.lifecycle_stage)), \
 'data', json_object(\
   'metrics', (SELECT json_group_array(json_object('key', m.key, 'value', json(CASE WHEN m.is_nan THEN '\"NaN\"' \
        WHEN m.value > 1.7976931348623157e308 THEN '\"Infinity\"' WHEN m.value < -1.7976931348623157e308 THEN '\"-Infinity\"' \
        ELSE printf('%!.17g', m.value) END), 'timestamp', m.timestamp, 'step', m.step)) \
      FROM (SELECT * FROM latest_metrics WHERE run_uuid = r.run_uuid ORDER BY key) m), \
   'params', (SELECT json_group_array(json_object('key', key, 'value', value)) FROM (SELECT key, value FROM params WHERE run_uuid = r.run_uuid ORDER BY key)), \
   'tags', (SELECT json_group_array(json_object('key', key, 'value', value)) FROM (SELECT key, value FROM run_tags WHERE run_uuid = r.run_uuid ORDER BY key))), \
 'inputs', json_object('dataset_inputs', (SELECT json_group_array(json_object(\
     'tags', (SELECT json_group_array(json_object('key', t.value ->> 0, 'value', t.value ->> 1)) FROM json_each(x.tags) t), \
     'dataset', json_patch('{}', json_object('name', x.name, 'digest', x.digest, 'source_type', x.source_type, \
        'source', x.source, 'schema', x.schema, 'profile', x.profile)))) \
   FROM (SELECT i.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile FROM run_inputs i \
         JOIN datasets d ON d.dataset_id = i.dataset_id WHERE i.run_uuid = r.run_uuid ORDER BY d.name, d.digest) x)))";

/// A run as [`RUN_JSON`] spells it, read back for the pages.
#[derive(Deserialize)]
struct RunJson {
    info: RunInfoJson,
    data: RunDataJson,
    inputs: InputsJson,
}

#[derive(Deserialize)]
struct RunInfoJson {
    run_uuid: String,
    experiment_id: String,
    run_name: String,
    user_id: String,
    status: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
    artifact_uri: String,
    lifecycle_stage: String,
}

#[derive(Deserialize)]
struct KvJson {
    key: String,
    value: String,
}

/// A metric value: a number, or `NaN`, `Infinity` or `-Infinity` as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum DoubleJson {
    Number(f64),
    Text(String),
}

#[derive(Deserialize)]
struct MetricJson {
    key: String,
    value: DoubleJson,
    timestamp: i64,
    step: i64,
}

#[derive(Deserialize)]
struct RunDataJson {
    metrics: Vec<MetricJson>,
    params: Vec<KvJson>,
    tags: Vec<KvJson>,
}

#[derive(Deserialize)]
struct DatasetJson {
    name: String,
    digest: String,
    source_type: String,
    source: String,
    schema: Option<String>,
    profile: Option<String>,
}

#[derive(Deserialize)]
struct DatasetInputJson {
    tags: Vec<KvJson>,
    dataset: DatasetJson,
}

#[derive(Deserialize)]
struct InputsJson {
    dataset_inputs: Vec<DatasetInputJson>,
}

impl From<RunJson> for Run {
    fn from(j: RunJson) -> Run {
        let i = j.info;
        Run {
            info: RunInfo {
                run_uuid: i.run_uuid,
                experiment_id: i.experiment_id.parse().unwrap_or_default(),
                run_name: i.run_name,
                user_id: i.user_id,
                status: i.status,
                start_time: i.start_time,
                end_time: i.end_time,
                artifact_uri: i.artifact_uri,
                lifecycle_stage: i.lifecycle_stage,
            },
            metrics: j
                .data
                .metrics
                .into_iter()
                .map(|m| MetricPoint {
                    key: m.key,
                    value: match m.value {
                        DoubleJson::Number(v) => v,
                        DoubleJson::Text(t) => match t.as_str() {
                            "Infinity" => f64::INFINITY,
                            "-Infinity" => f64::NEG_INFINITY,
                            _ => f64::NAN,
                        },
                    },
                    timestamp: m.timestamp,
                    step: m.step,
                })
                .collect(),
            params: j
                .data
                .params
                .into_iter()
                .map(|p| (p.key, p.value))
                .collect(),
            tags: j.data.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            inputs: j
                .inputs
                .dataset_inputs
                .into_iter()
                .map(|d| DatasetInput {
                    name: d.dataset.name,
                    digest: d.dataset.digest,
                    source_type: d.dataset.source_type,
                    source: d.dataset.source,
                    schema: d.dataset.schema,
                    profile: d.dataset.profile,
                    tags: d.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                })
                .collect(),
        }
    }
}

/// Full runs (metrics, params, tags, inputs) for the given ids, in the given order: the
/// API's JSON ([`runs_json`], one statement) read back, so the pages and the API share one
/// definition of a run.
pub async fn load_runs(pool: &SqlitePool, ids: &[String]) -> Result<Vec<Run>, sqlx::Error> {
    runs_json(pool, ids)
        .await?
        .iter()
        .map(|json| {
            serde_json::from_str::<RunJson>(json)
                .map(Run::from)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))
        })
        .collect()
}

fn push_text_cond<'a>(q: &mut QueryBuilder<'a, Sqlite>, col: &str, op: Op, value: &'a Value) {
    match (op, value) {
        (Op::Like, Value::Text(t)) => {
            q.push(format!(" {col} GLOB ")).push_bind(like_to_glob(t));
        }
        (Op::ILike, Value::Text(t)) => {
            q.push(format!(" lower({col}) LIKE lower("))
                .push_bind(t.as_str())
                .push(")");
        }
        (Op::In | Op::NotIn, Value::List(items)) => {
            q.push(format!(" {col} {} (", op.sql()));
            let mut sep = q.separated(", ");
            for i in items {
                sep.push_bind(i.as_str());
            }
            q.push(")");
        }
        (op, Value::Text(t)) => {
            q.push(format!(" {col} {} ", op.sql()))
                .push_bind(t.as_str());
        }
        (op, Value::Number(n)) => {
            q.push(format!(" {col} {} ", op.sql())).push_bind(*n);
        }
        (_, Value::List(_)) => {
            q.push(" 0");
        }
    }
}

/// What a runs search asks for: experiments, lifecycle stages, filter, order and one page.
pub struct RunSearch<'a> {
    /// Experiments to search.
    pub experiment_ids: &'a [i64],
    /// `active`, `deleted` or both.
    pub stages: &'a [&'a str],
    /// Filter clauses, joined by AND.
    pub clauses: &'a [Clause],
    /// Sort keys, before the default (newest first, then run id).
    pub order_by: &'a [OrderBy],
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Order of a search page over the columns `o0…`, `start_time` and `run_uuid`, each read with
/// `prefix` (empty inside the search itself, `page.` outside it).
fn search_order(order_by: &[OrderBy], prefix: &str) -> String {
    let mut out = String::new();
    for (i, o) in order_by.iter().enumerate() {
        // Runs without the value sort last in either direction, as in MLflow.
        let dir = if o.ascending { "ASC" } else { "DESC" };
        out.push_str(&format!("{prefix}o{i} IS NULL, {prefix}o{i} {dir}, "));
    }
    out.push_str(&format!("{prefix}start_time DESC, {prefix}run_uuid ASC"));
    out
}

/// The table and key a metric, param or tag field reads; `None` for attributes.
fn keyed(field: &Field) -> Option<(&'static str, &str)> {
    match field {
        Field::Metric(k) => Some(("latest_metrics", k)),
        Field::Param(k) => Some(("params", k)),
        Field::Tag(k) => Some(("run_tags", k)),
        Field::Attribute(_) => None,
    }
}

/// Pushes `SELECT run_uuid, start_time, o0… FROM … ORDER BY … LIMIT … OFFSET …` for a search.
fn push_search<'a>(q: &mut QueryBuilder<'a, Sqlite>, search: &RunSearch<'a>) {
    let RunSearch {
        experiment_ids,
        stages,
        clauses,
        order_by,
        limit,
        offset,
    } = *search;
    // Sort keys come from LEFT JOINs on each key's (run, key) primary key: one seek per run,
    // cheaper than a correlated subquery, and runs without the key get NULL (sorted last).
    q.push("SELECT r.run_uuid AS run_uuid, r.start_time AS start_time");
    for (i, o) in order_by.iter().enumerate() {
        match &o.field {
            Field::Attribute(a) => q.push(format!(", r.{} AS o{i}", a.column())),
            _ => q.push(format!(", j{i}.value AS o{i}")),
        };
    }
    q.push(" FROM runs r");
    for (i, o) in order_by.iter().enumerate() {
        let Some((table, key)) = keyed(&o.field) else {
            continue;
        };
        q.push(format!(
            " LEFT JOIN {table} j{i} ON j{i}.run_uuid = r.run_uuid AND j{i}.key = "
        ))
        .push_bind(key);
    }
    q.push(" WHERE r.experiment_id IN (");
    {
        let mut sep = q.separated(", ");
        for id in experiment_ids {
            sep.push_bind(*id);
        }
    }
    q.push(") AND r.lifecycle_stage IN (");
    {
        let mut sep = q.separated(", ");
        for s in stages {
            sep.push_bind(s.to_string());
        }
    }
    q.push(")");
    for c in clauses {
        q.push(" AND");
        if let Some((table, key)) = keyed(&c.field) {
            q.push(format!(
                " EXISTS (SELECT 1 FROM {table} k WHERE k.run_uuid = r.run_uuid AND k.key = "
            ))
            .push_bind(key)
            .push(" AND");
            push_text_cond(q, "k.value", c.op, &c.value);
            q.push(")");
        } else if let Field::Attribute(a) = &c.field {
            let col = format!("r.{}", a.column());
            push_text_cond(q, &col, c.op, &c.value);
        }
    }
    q.push(" ORDER BY ")
        .push(search_order(order_by, ""))
        .push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
}

/// Run ids matching a search, in order, for one page.
pub async fn search_run_ids(
    pool: &SqlitePool,
    search: &RunSearch<'_>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut q = QueryBuilder::new("SELECT run_uuid FROM (");
    push_search(&mut q, search);
    q.push(")");
    q.build_query_scalar().fetch_all(pool).await
}

/// One page of a search as MLflow JSON runs, in order, from a single statement (see
/// [`RUN_JSON`]): `runs/search` is the hottest read of the tracking API.
pub async fn search_runs_json(
    pool: &SqlitePool,
    search: &RunSearch<'_>,
) -> Result<Vec<String>, sqlx::Error> {
    let mut q = QueryBuilder::new("WITH page AS (");
    push_search(&mut q, search);
    q.push(format!(
        ") SELECT {RUN_JSON} FROM page JOIN runs r ON r.run_uuid = page.run_uuid ORDER BY {}",
        search_order(search.order_by, "page.")
    ));
    q.build_query_scalar().fetch_all(pool).await
}

/// Runs in MLflow's JSON shape for the given ids, in the given order (missing ids are skipped).
pub async fn runs_json(pool: &SqlitePool, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::new(format!(
        "SELECT r.run_uuid, {RUN_JSON} FROM runs r WHERE r.run_uuid IN ("
    ));
    in_list(&mut q, ids);
    let mut found: HashMap<String, String> = q
        .build_query_as::<(String, String)>()
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Whether an attribute filter compares text; used to reject `LIKE` on numbers early.
pub fn attribute_is_text(a: Attribute) -> bool {
    !a.is_numeric()
}

/// Active experiments with their active run counts and descriptions, newest first.
pub async fn experiment_summaries(
    pool: &SqlitePool,
) -> Result<Vec<(i64, String, Option<String>, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.experiment_id, e.name, \
                (SELECT value FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = 'mlflow.note.content'), \
                (SELECT count(*) FROM runs r WHERE r.experiment_id = e.experiment_id AND r.lifecycle_stage = 'active') \
         FROM experiments e WHERE e.lifecycle_stage = 'active' ORDER BY e.creation_time DESC, e.experiment_id DESC",
    )
    .fetch_all(pool)
    .await
}

/// Minimum and maximum of every metric history of the given runs (finite values only).
pub async fn metric_extremes(
    pool: &SqlitePool,
    run_ids: &[String],
) -> Result<Vec<(String, String, f64, f64)>, sqlx::Error> {
    if run_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT run_uuid, key, min(value), max(value) FROM metric_history WHERE value IS NOT NULL AND run_uuid IN (",
    );
    let mut sep = q.separated(", ");
    for id in run_ids {
        sep.push_bind(id.as_str());
    }
    q.push(") GROUP BY run_uuid, key");
    q.build_query_as().fetch_all(pool).await
}

/// Every point of the given runs' histories for the given keys, by run, key and step.
pub async fn histories(
    pool: &SqlitePool,
    run_ids: &[String],
    keys: &[String],
) -> Result<Vec<(String, String, i64, Option<f64>)>, sqlx::Error> {
    if run_ids.is_empty() || keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT run_uuid, key, step, value FROM metric_history WHERE run_uuid IN (",
    );
    {
        let mut sep = q.separated(", ");
        for id in run_ids {
            sep.push_bind(id.as_str());
        }
    }
    q.push(") AND key IN (");
    {
        let mut sep = q.separated(", ");
        for k in keys {
            sep.push_bind(k.as_str());
        }
    }
    q.push(") ORDER BY run_uuid, key, step, timestamp");
    q.build_query_as().fetch_all(pool).await
}

/// A run's name, if the run exists.
pub async fn run_name(pool: &SqlitePool, run_uuid: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT run_name FROM runs WHERE run_uuid = ?")
        .bind(run_uuid)
        .fetch_optional(pool)
        .await
}

/// How many experiments exist besides MLflow's `Default` (id 0).
pub async fn experiment_count(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM experiments WHERE experiment_id != 0")
        .fetch_one(pool)
        .await
}

/// The ids of an experiment's runs (by the experiment's name), oldest first.
pub async fn run_ids_of_experiment(
    pool: &SqlitePool,
    experiment: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT r.run_uuid FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id \
         WHERE e.name = ? ORDER BY r.start_time, r.run_uuid",
    )
    .bind(experiment)
    .fetch_all(pool)
    .await
}
