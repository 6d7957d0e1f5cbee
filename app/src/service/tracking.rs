//! Tracking use cases (MLflow experiments and runs): each change is written with its audit
//! entry in one transaction. The MLflow-compatible REST handlers (`server/src/mlflow.rs`) read
//! MLflow's wire format, call these, and answer in MLflow's shape. The run pages' reads are
//! in `views`, run comparison in `compare`, and the figures both draw in `figures`.

mod compare;
mod figures;
mod views;

pub use compare::{compare, FigureChoice, MAX_COMPARE};
pub use figures::{MAX_CHART_ROWS, MAX_PARALLEL_PARAMS};
pub use views::{experiments, run_detail, runs_page, RUNS_PAGE_SIZE};

use super::audit_and_commit;
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::service::now_ms;
use crate::store::begin_write;
use crate::store::logged_models::{self, ModelMetric};
use crate::store::tracking::{self, DatasetInput, MetricPoint, RunInfo};
use crate::store::Pool;
use serde_json::json;

/// Creates an experiment named `name` (unique); returns its id.
pub async fn create_experiment(
    pool: &Pool,
    p: &Principal,
    name: &str,
    artifact_location: Option<&str>,
    tags: &[(String, String)],
) -> Result<i64, AppError> {
    let mut tx = begin_write(pool).await?;
    let id = tracking::create_experiment(&mut tx, name, artifact_location, tags, now_ms()).await?;
    let details = json!({ "name": name.trim() });
    let object = ("experiment", id.to_string());
    audit_and_commit(
        tx,
        p,
        "mlflow.experiment.create",
        (object.0, &object.1),
        details,
    )
    .await?;
    Ok(id)
}

/// Renames experiment `id` to `name`.
pub async fn rename_experiment(
    pool: &Pool,
    p: &Principal,
    id: i64,
    name: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    tracking::rename_experiment(&mut tx, id, name, now_ms()).await?;
    let details = json!({ "new_name": name.trim() });
    let object = id.to_string();
    audit_and_commit(
        tx,
        p,
        "mlflow.experiment.rename",
        ("experiment", &object),
        details,
    )
    .await
}

/// Marks experiment `id` deleted (or restores it): MLflow's soft delete, which keeps its runs.
pub async fn set_experiment_deleted(
    pool: &Pool,
    p: &Principal,
    id: i64,
    deleted: bool,
) -> Result<(), AppError> {
    let (stage, action) = if deleted {
        ("deleted", "mlflow.experiment.delete")
    } else {
        ("active", "mlflow.experiment.restore")
    };
    let mut tx = begin_write(pool).await?;
    tracking::set_experiment_stage(&mut tx, id, stage, now_ms()).await?;
    let object = id.to_string();
    audit_and_commit(tx, p, action, ("experiment", &object), json!({})).await
}

/// Sets tag `key` of experiment `id` to `value`.
pub async fn set_experiment_tag(
    pool: &Pool,
    p: &Principal,
    id: i64,
    (key, value): (&str, &str),
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    tracking::set_experiment_tag(&mut tx, id, key, value, now_ms()).await?;
    let object = id.to_string();
    let details = json!({ "key": key });
    audit_and_commit(
        tx,
        p,
        "mlflow.experiment.set_tag",
        ("experiment", &object),
        details,
    )
    .await
}

/// A run to start.
#[derive(Debug)]
pub struct NewRun<'a> {
    /// Its id (MLflow's 32 hex digits, chosen by the caller's adapter).
    pub run_id: &'a str,
    /// The experiment it belongs to (0: MLflow's default experiment).
    pub experiment_id: i64,
    /// The user it is recorded under.
    pub user: &'a str,
    /// Its display name; generated when absent.
    pub run_name: Option<&'a str>,
    /// When it started, in milliseconds since the epoch.
    pub start_time: i64,
    /// Key-value tags to set on the run.
    pub tags: &'a [(String, String)],
}

/// Starts a run.
pub async fn create_run(pool: &Pool, p: &Principal, run: NewRun<'_>) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    let info = tracking::create_run(
        &mut tx,
        run.run_id,
        run.experiment_id,
        run.user,
        run.run_name,
        run.start_time,
        run.tags,
    )
    .await?;
    let details = json!({ "experiment_id": run.experiment_id, "run_name": info.run_name });
    audit_and_commit(tx, p, "mlflow.run.create", ("run", run.run_id), details).await
}

/// Changes a run's status, end time or name; returns the run as it now is.
pub async fn update_run(
    pool: &Pool,
    p: &Principal,
    run_id: &str,
    status: Option<&str>,
    end_time: Option<i64>,
    run_name: Option<&str>,
) -> Result<RunInfo, AppError> {
    let mut tx = begin_write(pool).await?;
    let info = tracking::update_run(&mut tx, run_id, status, end_time, run_name).await?;
    let details = json!({ "status": status, "end_time": end_time, "run_name": run_name });
    audit_and_commit(tx, p, "mlflow.run.update", ("run", run_id), details).await?;
    Ok(info)
}

/// Marks a run deleted (or restores it).
pub async fn set_run_deleted(
    pool: &Pool,
    p: &Principal,
    run_id: &str,
    deleted: bool,
) -> Result<(), AppError> {
    let (stage, action) = if deleted {
        ("deleted", "mlflow.run.delete")
    } else {
        ("active", "mlflow.run.restore")
    };
    let mut tx = begin_write(pool).await?;
    tracking::set_run_stage(&mut tx, run_id, stage).await?;
    audit_and_commit(tx, p, action, ("run", run_id), json!({})).await
}

/// Removes tag `key` from a run.
pub async fn delete_run_tag(
    pool: &Pool,
    p: &Principal,
    run_id: &str,
    key: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    tracking::delete_tag(&mut tx, run_id, key).await?;
    let details = json!({ "key": key });
    audit_and_commit(tx, p, "mlflow.run.delete_tag", ("run", run_id), details).await
}

/// Which MLflow call logged a batch: each is audited under its own action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logged {
    /// `runs/log-metric`.
    Metric,
    /// `runs/log-parameter`.
    Param,
    /// `runs/set-tag`.
    Tag,
    /// `runs/log-batch`.
    Batch,
}

impl Logged {
    fn action(self) -> &'static str {
        match self {
            Logged::Metric => "mlflow.run.log_metric",
            Logged::Param => "mlflow.run.log_param",
            Logged::Tag => "mlflow.run.set_tag",
            Logged::Batch => "mlflow.run.log_batch",
        }
    }
}

/// What a batch logs to a run: metric points (some also against logged models), parameters
/// and tags.
#[derive(Debug, Default)]
pub struct Batch {
    /// The run's metric points.
    pub metrics: Vec<MetricPoint>,
    /// The points that were logged against a logged model as well.
    pub model_metrics: Vec<ModelMetric>,
    /// Parameters, which may be set once.
    pub params: Vec<(String, String)>,
    /// Key-value tags to set, last one wins per key.
    pub tags: Vec<(String, String)>,
}

/// Logs a batch to a run, all of it or none; audited once, naming the keys.
pub async fn log_batch(
    pool: &Pool,
    p: &Principal,
    run_id: &str,
    batch: &Batch,
    logged: Logged,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    tracking::log_batch(&mut tx, run_id, &batch.metrics, &batch.params, &batch.tags).await?;
    logged_models::record_metrics(&mut tx, &batch.model_metrics).await?;
    let mut details = json!({
        "metrics": batch.metrics.len(),
        "params": batch.params.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        "tags": batch.tags.iter().map(|(k, _)| k).collect::<Vec<_>>(),
    });
    if !batch.model_metrics.is_empty() {
        let mut ids: Vec<&str> = batch
            .model_metrics
            .iter()
            .map(|m| m.model_id.as_str())
            .collect();
        ids.dedup();
        details["models"] = json!(ids);
    }
    audit_and_commit(tx, p, logged.action(), ("run", run_id), details).await
}

/// Records the datasets and logged models a run read.
pub async fn log_inputs(
    pool: &Pool,
    p: &Principal,
    run_id: &str,
    inputs: &[DatasetInput],
    models: &[String],
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    tracking::log_inputs(&mut tx, run_id, inputs).await?;
    logged_models::add_inputs(&mut tx, run_id, models).await?;
    let names: Vec<String> = inputs
        .iter()
        .map(|d| format!("{}@{}", d.name, d.digest))
        .collect();
    let details = json!({ "datasets": names, "models": models });
    audit_and_commit(tx, p, "mlflow.run.log_inputs", ("run", run_id), details).await
}

/// Makes `run_id` its experiment's baseline (`baseline` true) or stops it being one, with
/// the audit entry (`run.baseline.set` or `.clear`) naming the baseline it replaced.
pub async fn set_baseline(
    pool: &Pool,
    p: &Principal,
    run_id: &str,
    baseline: bool,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    let (experiment_id, previous) =
        tracking::set_baseline(&mut tx, run_id, baseline, now_ms()).await?;
    let action = if baseline {
        "run.baseline.set"
    } else {
        "run.baseline.clear"
    };
    let details = json!({ "experiment_id": experiment_id, "previous": previous });
    audit_and_commit(tx, p, action, ("run", run_id), details).await
}
