//! The MLflow-compatible tracking REST API under `/api/2.0/mlflow/`, for the official client
//! (`MLFLOW_TRACKING_URI=http://host:3000`, `MLFLOW_TRACKING_TOKEN=<Gatehouse API token>`).
//!
//! JSON follows MLflow's protos (snake_case, int64 as numbers, ids as strings, non-finite
//! doubles as "NaN"/"Infinity"/"-Infinity"); errors are `{"error_code", "message"}`. Writes
//! need the `scientist` role, reads `viewer`; every write request is one audit entry.

use crate::api::{needs, Access, Api, Doc};
use app::domain::authz::Action;
use app::error::AppError;
use app::service::state::AppState;
use app::store::tracking::{Experiment, MetricPoint, RunInfo};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

mod experiments;
mod logging;
mod runs;
mod search;
mod wire;

use experiments::*;
use logging::*;
use runs::*;
use search::*;
pub(crate) use wire::*;

/// Most runs one `runs/search` page may return, as in MLflow.
pub const MAX_RESULTS_RUNS: i64 = 50_000;
/// Limits of one `runs/log-batch` request, as in MLflow.
pub const MAX_BATCH_ITEMS: usize = 1000;
const MAX_BATCH_METRICS: usize = 1000;
const MAX_BATCH_PARAMS: usize = 100;
const MAX_BATCH_TAGS: usize = 100;

/// An error in MLflow's shape.
#[derive(Debug)]
pub struct MlflowError(pub AppError);

impl From<AppError> for MlflowError {
    fn from(e: AppError) -> Self {
        MlflowError(e)
    }
}

impl From<sqlx::Error> for MlflowError {
    fn from(e: sqlx::Error) -> Self {
        MlflowError(e.into())
    }
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> MlflowError {
    MlflowError(AppError::validation(field, message))
}

impl IntoResponse for MlflowError {
    fn into_response(self) -> Response {
        let (status, code) = match &self.0 {
            AppError::NotFound { .. } => (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST"),
            AppError::Validation { .. } => (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE"),
            AppError::Conflict { .. } => (StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS"),
            AppError::Forbidden { .. } => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
            AppError::Unauthorized { .. } => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            AppError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "REQUEST_LIMIT_EXCEEDED")
            }
            AppError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "INVALID_PARAMETER_VALUE")
            }
            AppError::Unavailable { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE")
            }
            AppError::Internal { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        };
        let mut res = (
            status,
            Json(json!({ "error_code": code, "message": self.0.to_string() })),
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
        }
        res
    }
}

type ApiResult = Result<Json<Value>, MlflowError>;

/// The routes, mounted by the main router.
pub fn router(state: AppState) -> Api {
    let api = Api::gated(state.clone()).get(
        "/health",
        || async { "OK" },
        Doc::new(Access::Public, "Liveness, as the MLflow client checks it"),
    );
    run_routes(experiment_routes(api))
        .not_found("/api/2.0/mlflow/{*rest}", not_found)
        .with_state(state)
}

/// `/api/2.0/mlflow/experiments/*`.
fn experiment_routes(api: Api<AppState>) -> Api<AppState> {
    use Action::*;
    let e = |p: &str| format!("/api/2.0/mlflow/experiments/{p}");
    api.post(
        &e("create"),
        create_experiment,
        needs(IngestTracking, "Create an experiment").json(),
    )
    .get(
        &e("get"),
        get_experiment,
        needs(ReadWorkspace, "An experiment").query(&[("experiment_id", "The experiment")]),
    )
    .get(
        &e("get-by-name"),
        get_experiment_by_name,
        needs(ReadWorkspace, "An experiment by name").query(&[("experiment_name", "Its name")]),
    )
    .post(
        &e("search"),
        search_experiments,
        needs(ReadWorkspace, "Search experiments").json(),
    )
    .get(
        &e("search"),
        search_experiments_get,
        needs(ReadWorkspace, "Search experiments").query(&[
            ("filter", "MLflow filter over name and tags"),
            ("max_results", "Page size"),
            ("order_by", "Sort keys"),
            ("page_token", "The previous page's next_page_token"),
            ("view_type", "ACTIVE_ONLY (default), DELETED_ONLY or ALL"),
        ]),
    )
    .post(
        &e("update"),
        update_experiment,
        needs(IngestTracking, "Rename an experiment").json(),
    )
    .post(
        &e("delete"),
        delete_experiment,
        needs(IngestTracking, "Mark an experiment deleted").json(),
    )
    .post(
        &e("restore"),
        restore_experiment,
        needs(IngestTracking, "Restore a deleted experiment").json(),
    )
    .post(
        &e("set-experiment-tag"),
        set_experiment_tag,
        needs(IngestTracking, "Set an experiment tag").json(),
    )
}

/// `/api/2.0/mlflow/runs/*` and a metric's history.
fn run_routes(api: Api<AppState>) -> Api<AppState> {
    use Action::*;
    let r = |p: &str| format!("/api/2.0/mlflow/runs/{p}");
    api.post(
        &r("create"),
        create_run,
        needs(IngestTracking, "Start a run").json(),
    )
    .post(
        &r("update"),
        update_run,
        needs(IngestTracking, "Change a run's status, end time or name").json(),
    )
    .get(
        &r("get"),
        get_run,
        needs(ReadWorkspace, "A run with its data and inputs").query(&[
            ("run_id", "The run"),
            ("run_uuid", "The run (older clients)"),
        ]),
    )
    .post(
        &r("delete"),
        delete_run,
        needs(IngestTracking, "Mark a run deleted").json(),
    )
    .post(
        &r("restore"),
        restore_run,
        needs(IngestTracking, "Restore a deleted run").json(),
    )
    .post(
        &r("search"),
        search_runs,
        needs(ReadWorkspace, "Search runs with MLflow's filter grammar").json(),
    )
    .post(
        &r("log-metric"),
        log_metric,
        needs(IngestTracking, "Log one metric value").json(),
    )
    .post(
        &r("log-parameter"),
        log_param,
        needs(IngestTracking, "Log one parameter").json(),
    )
    .post(
        &r("set-tag"),
        set_tag,
        needs(IngestTracking, "Set a run tag").json(),
    )
    .post(
        &r("delete-tag"),
        delete_tag,
        needs(IngestTracking, "Delete a run tag").json(),
    )
    .post(
        &r("log-batch"),
        log_batch,
        needs(
            IngestTracking,
            "Log metrics, parameters and tags in one transaction",
        )
        .json(),
    )
    .post(
        &r("log-inputs"),
        log_inputs,
        needs(IngestTracking, "Log a run's dataset inputs").json(),
    )
    .get(
        "/api/2.0/mlflow/metrics/get-history",
        get_metric_history,
        needs(ReadWorkspace, "Every value of a run's metric").query(&[
            ("run_id", "The run"),
            ("metric_key", "The metric"),
            ("max_results", "Page size"),
            ("page_token", "The previous page's next_page_token"),
        ]),
    )
}

async fn not_found() -> MlflowError {
    MlflowError(AppError::NotFound {
        message: "This endpoint is not supported by Gatehouse's MLflow-compatible API".into(),
    })
}

fn experiment_json(e: &Experiment) -> Value {
    json!({
        "experiment_id": e.experiment_id.to_string(),
        "name": e.name,
        "artifact_location": e.artifact_location,
        "lifecycle_stage": e.lifecycle_stage,
        "creation_time": e.creation_time,
        "last_update_time": e.last_update_time,
        "tags": kv_json(&e.tags),
    })
}

fn run_info_json(i: &RunInfo) -> Value {
    let mut v = json!({
        "run_id": i.run_uuid,
        "run_uuid": i.run_uuid,
        "run_name": i.run_name,
        "experiment_id": i.experiment_id.to_string(),
        "user_id": i.user_id,
        "status": i.status,
        "artifact_uri": i.artifact_uri,
        "lifecycle_stage": i.lifecycle_stage,
    });
    if let Some(t) = i.start_time {
        v["start_time"] = json!(t);
    }
    if let Some(t) = i.end_time {
        v["end_time"] = json!(t);
    }
    v
}

fn metric_json(m: &MetricPoint) -> Value {
    json!({ "key": m.key, "value": value_json(m.value), "timestamp": m.timestamp, "step": m.step })
}

fn parse_id(field: &str, s: Option<&str>) -> Result<i64, MlflowError> {
    let s = s.filter(|s| !s.is_empty()).ok_or_else(|| {
        invalid(
            field,
            format!("Missing value for required parameter '{field}'."),
        )
    })?;
    s.parse().map_err(|_| {
        MlflowError(AppError::not_found(format!(
            "No Experiment with id={s} exists"
        )))
    })
}

fn stages(view: Option<&str>) -> Result<&'static [&'static str], MlflowError> {
    Ok(match view.unwrap_or("ACTIVE_ONLY") {
        "ACTIVE_ONLY" | "1" | "" => &["active"],
        "DELETED_ONLY" | "2" => &["deleted"],
        "ALL" | "3" => &["active", "deleted"],
        other => return Err(invalid("view_type", format!("invalid view type `{other}`"))),
    })
}

fn page_offset(token: Option<&str>) -> Result<i64, MlflowError> {
    match token.filter(|t| !t.is_empty()) {
        None => Ok(0),
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| invalid("page_token", "invalid page token")),
    }
}
