//! The MLflow-compatible tracking REST API under `/api/2.0/mlflow/`, for the official client
//! (`MLFLOW_TRACKING_URI=http://host:3000`, `MLFLOW_TRACKING_TOKEN=<Gatehouse API token>`).
//!
//! JSON follows MLflow's protos (snake_case, int64 as numbers, ids as strings, non-finite
//! doubles as "NaN"/"Infinity"/"-Infinity"); errors are `{"error_code", "message"}`. Writes
//! need the `scientist` role, reads `viewer`; every write request is one audit entry.

use crate::api::{needs, Access, Api, Doc};
use crate::extract::{Caller, JsonBody};
use app::domain::authz::Action;
use app::domain::run_search::{parse_filter, parse_order_by, Op, OrderBy};
use app::error::AppError;
use app::service::auth::Principal;
use app::service::now_ms;
use app::service::state::AppState;
use app::service::tracking::{self as ops, Logged};
use app::store::logged_models::{self, ModelMetric};
use app::store::tracking;
use app::store::tracking::{DatasetInput, Experiment, MetricPoint, RunInfo};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use std::collections::HashMap;

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
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub fn router(state: AppState) -> Api {
    use Action::*;
    const E: &str = "/api/2.0/mlflow/experiments";
    const R: &str = "/api/2.0/mlflow/runs";
    let e = |p: &str| format!("{E}/{p}");
    let r = |p: &str| format!("{R}/{p}");
    Api::gated(state.clone())
        .get(
            "/health",
            || async { "OK" },
            Doc::new(Access::Public, "Liveness, as the MLflow client checks it"),
        )
        .post(
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
        .post(
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
        .not_found("/api/2.0/mlflow/{*rest}", not_found)
        .with_state(state)
}

async fn not_found() -> MlflowError {
    MlflowError(AppError::NotFound {
        message: "This endpoint is not supported by Gatehouse's MLflow-compatible API".into(),
    })
}

// ---- lenient decoding: int64 and doubles may arrive as numbers or strings ------------------

pub(crate) fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("expected an integer")),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an integer"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected an integer, found {other}"
        ))),
    }
}

pub(crate) fn de_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("expected a number")),
        Value::String(s) => match s.as_str() {
            "NaN" | "nan" => Ok(f64::NAN),
            "Infinity" | "inf" => Ok(f64::INFINITY),
            "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
            other => other
                .parse()
                .map_err(|_| serde::de::Error::custom(format!("`{other}` is not a number"))),
        },
        other => Err(serde::de::Error::custom(format!(
            "expected a number, found {other}"
        ))),
    }
}

pub(crate) fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "expected a string, found {other}"
            )))
        }
    })
}

pub(crate) fn value_json(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v == f64::INFINITY {
        json!("Infinity")
    } else if v == f64::NEG_INFINITY {
        json!("-Infinity")
    } else {
        json!(v)
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct KeyValue {
    pub(crate) key: String,
    #[serde(default, deserialize_with = "de_opt_string")]
    value: Option<String>,
}

pub(crate) fn pairs(kvs: Vec<KeyValue>) -> Vec<(String, String)> {
    kvs.into_iter()
        .map(|kv| (kv.key, kv.value.unwrap_or_default()))
        .collect()
}

pub(crate) fn kv_json<'a>(it: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Array(
        it.into_iter()
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect(),
    )
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

// ---- experiments ---------------------------------------------------------------------------

#[derive(Deserialize, schemars::JsonSchema)]
struct CreateExperiment {
    name: Option<String>,
    artifact_location: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

async fn create_experiment(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<CreateExperiment>,
) -> ApiResult {
    let name = req
        .name
        .ok_or_else(|| invalid("name", "Missing value for required parameter 'name'."))?;
    let tags = pairs(req.tags);
    let location = req.artifact_location.as_deref();
    let id = ops::create_experiment(&s.pool, &p, &name, location, &tags).await?;
    Ok(Json(json!({ "experiment_id": id.to_string() })))
}

async fn get_experiment(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let id = parse_id("experiment_id", q.get("experiment_id").map(String::as_str))?;
    let e = tracking::get_experiment(&s.pool, id)
        .await?
        .ok_or_else(|| {
            MlflowError(AppError::not_found(format!(
                "No Experiment with id={id} exists"
            )))
        })?;
    Ok(Json(json!({ "experiment": experiment_json(&e) })))
}

async fn get_experiment_by_name(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = q
        .get("experiment_name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            invalid(
                "experiment_name",
                "Missing value for required parameter 'experiment_name'.",
            )
        })?;
    let e = tracking::get_experiment_by_name(&s.pool, name)
        .await?
        .ok_or_else(|| {
            MlflowError(AppError::not_found(format!(
                "Could not find experiment with name '{name}'"
            )))
        })?;
    Ok(Json(json!({ "experiment": experiment_json(&e) })))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct SearchExperiments {
    #[serde(default, deserialize_with = "de_opt_i64")]
    max_results: Option<i64>,
    page_token: Option<String>,
    filter: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    view_type: Option<String>,
}

fn experiment_name_filter(filter: Option<&str>) -> Result<Option<(Op, String)>, MlflowError> {
    let Some(f) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    // Experiments are filtered on their name: `name = 'x'`, `attribute.name LIKE 'x%'`, ….
    let rest = f
        .strip_prefix("attributes.name")
        .or_else(|| f.strip_prefix("attribute.name"))
        .or_else(|| f.strip_prefix("name"))
        .ok_or_else(|| {
            invalid(
                "filter",
                format!(
                    "unsupported experiment filter `{f}`: only `name` comparisons are supported"
                ),
            )
        })?;
    let rest = rest.trim_start();
    let (op, value) = [
        ("!=", Op::Ne),
        ("=", Op::Eq),
        ("ILIKE", Op::ILike),
        ("ilike", Op::ILike),
        ("LIKE", Op::Like),
        ("like", Op::Like),
    ]
    .into_iter()
    .find_map(|(tok, op)| rest.strip_prefix(tok).map(|v| (op, v.trim())))
    .ok_or_else(|| invalid("filter", format!("expected =, !=, LIKE or ILIKE in `{f}`")))?;
    let value = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
        .ok_or_else(|| invalid("filter", format!("the name in `{f}` must be quoted")))?;
    Ok(Some((op, value.to_owned())))
}

async fn search_experiments_inner(s: AppState, req: SearchExperiments) -> ApiResult {
    let limit = req.max_results.unwrap_or(1000);
    if !(1..=50_000).contains(&limit) {
        return Err(invalid(
            "max_results",
            "max_results must be between 1 and 50000",
        ));
    }
    let offset = page_offset(req.page_token.as_deref())?;
    let found = tracking::search_experiments(
        &s.pool,
        stages(req.view_type.as_deref())?,
        experiment_name_filter(req.filter.as_deref())?,
        limit + 1,
        offset,
    )
    .await?;
    let more = found.len() as i64 > limit;
    let mut v = json!({ "experiments": found.iter().take(limit as usize).map(experiment_json).collect::<Vec<_>>() });
    if more {
        v["next_page_token"] = json!((offset + limit).to_string());
    }
    Ok(Json(v))
}

async fn search_experiments(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<SearchExperiments>,
) -> ApiResult {
    search_experiments_inner(s, req).await
}

async fn search_experiments_get(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let req = SearchExperiments {
        max_results: q
            .get("max_results")
            .map(|m| {
                m.parse()
                    .map_err(|_| invalid("max_results", "must be an integer"))
            })
            .transpose()?,
        page_token: q.get("page_token").cloned(),
        filter: q.get("filter").cloned(),
        view_type: q.get("view_type").cloned(),
    };
    search_experiments_inner(s, req).await
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ExperimentRef {
    #[serde(default, deserialize_with = "de_opt_string")]
    experiment_id: Option<String>,
    new_name: Option<String>,
    key: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    value: Option<String>,
}

async fn update_experiment(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ExperimentRef>,
) -> ApiResult {
    let id = parse_id("experiment_id", req.experiment_id.as_deref())?;
    let name = req.new_name.ok_or_else(|| {
        invalid(
            "new_name",
            "Missing value for required parameter 'new_name'.",
        )
    })?;
    ops::rename_experiment(&s.pool, &p, id, &name).await?;
    Ok(Json(json!({})))
}

async fn experiment_stage(
    s: AppState,
    p: Principal,
    req: ExperimentRef,
    deleted: bool,
) -> ApiResult {
    let id = parse_id("experiment_id", req.experiment_id.as_deref())?;
    ops::set_experiment_deleted(&s.pool, &p, id, deleted).await?;
    Ok(Json(json!({})))
}

async fn delete_experiment(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ExperimentRef>,
) -> ApiResult {
    experiment_stage(s, p, req, true).await
}

async fn restore_experiment(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ExperimentRef>,
) -> ApiResult {
    experiment_stage(s, p, req, false).await
}

async fn set_experiment_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ExperimentRef>,
) -> ApiResult {
    let id = parse_id("experiment_id", req.experiment_id.as_deref())?;
    let key = required("key", req.key)?;
    let value = req.value.unwrap_or_default();
    ops::set_experiment_tag(&s.pool, &p, id, (&key, &value)).await?;
    Ok(Json(json!({})))
}

// ---- runs ----------------------------------------------------------------------------------

#[derive(Deserialize, schemars::JsonSchema)]
struct CreateRun {
    #[serde(default, deserialize_with = "de_opt_string")]
    experiment_id: Option<String>,
    user_id: Option<String>,
    run_name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    start_time: Option<i64>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

fn new_run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

async fn create_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<CreateRun>,
) -> Result<Response, MlflowError> {
    let experiment_id = match req.experiment_id.as_deref() {
        None | Some("") => 0,
        Some(id) => parse_id("experiment_id", Some(id))?,
    };
    let run_id = new_run_id();
    let user = req
        .user_id
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| p.username.clone());
    let run = ops::NewRun {
        run_id: &run_id,
        experiment_id,
        user: &user,
        run_name: req.run_name.as_deref(),
        start_time: req.start_time.unwrap_or_else(now_ms),
        tags: &pairs(req.tags),
    };
    ops::create_run(&s.pool, &p, run).await?;
    run_response(&s, &run_id).await
}

/// `{"run": …}` for one run, in MLflow's JSON shape (see `tracking::RUN_JSON`).
async fn run_response(s: &AppState, run_id: &str) -> Result<Response, MlflowError> {
    let run = tracking::runs_json(&s.pool, &[run_id.to_owned()])
        .await?
        .pop()
        .ok_or_else(|| MlflowError(AppError::not_found(format!("Run '{run_id}' not found"))))?;
    // MLflow 3: the models the run produced (`outputs`) and used (`inputs.model_inputs`).
    let (outputs, model_inputs) = {
        let mut conn = s.pool.acquire().await?;
        logged_models::run_models(&mut conn, run_id).await?
    };
    let run = if outputs.is_empty() && model_inputs.is_empty() {
        run
    } else {
        let mut v: Value =
            serde_json::from_str(&run).map_err(|_| MlflowError(AppError::internal()))?;
        if !outputs.is_empty() {
            v["outputs"] = json!({ "model_outputs": outputs
                .iter()
                .map(|(m, step)| json!({ "model_id": m, "step": step }))
                .collect::<Vec<_>>() });
        }
        if !model_inputs.is_empty() {
            if !v["inputs"].is_object() {
                v["inputs"] = json!({});
            }
            v["inputs"]["model_inputs"] = model_inputs
                .iter()
                .map(|m| json!({ "model_id": m }))
                .collect();
        }
        v.to_string()
    };
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"run\":{run}}}"),
    )
        .into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
struct RunRef {
    run_id: Option<String>,
    run_uuid: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    end_time: Option<i64>,
    run_name: Option<String>,
    key: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    value: Option<String>,
}

/// A required request field, with MLflow's wording when it is missing.
fn required(field: &str, v: Option<String>) -> Result<String, MlflowError> {
    v.ok_or_else(|| {
        invalid(
            field,
            format!("Missing value for required parameter '{field}'."),
        )
    })
}

fn run_id_of(run_id: Option<String>, run_uuid: Option<String>) -> Result<String, MlflowError> {
    run_id
        .filter(|r| !r.is_empty())
        .or(run_uuid.filter(|r| !r.is_empty()))
        .ok_or_else(|| invalid("run_id", "Missing value for required parameter 'run_id'."))
}

async fn update_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    let run_id = run_id_of(req.run_id, req.run_uuid)?;
    let (status, name) = (req.status.as_deref(), req.run_name.as_deref());
    let info = ops::update_run(&s.pool, &p, &run_id, status, req.end_time, name).await?;
    Ok(Json(json!({ "run_info": run_info_json(&info) })))
}

async fn get_run(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, MlflowError> {
    let run_id = run_id_of(q.get("run_id").cloned(), q.get("run_uuid").cloned())?;
    run_response(&s, &run_id).await
}

async fn run_stage(s: AppState, p: Principal, req: RunRef, deleted: bool) -> ApiResult {
    let run_id = run_id_of(req.run_id, req.run_uuid)?;
    ops::set_run_deleted(&s.pool, &p, &run_id, deleted).await?;
    Ok(Json(json!({})))
}

async fn delete_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    run_stage(s, p, req, true).await
}

async fn restore_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    run_stage(s, p, req, false).await
}

#[derive(Deserialize, schemars::JsonSchema)]
struct MetricIn {
    pub(crate) key: String,
    #[serde(deserialize_with = "de_f64")]
    value: f64,
    #[serde(default, deserialize_with = "de_opt_i64")]
    timestamp: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    step: Option<i64>,
    /// MLflow 3: the logged model the value is about (and the dataset it was computed on).
    model_id: Option<String>,
    dataset_name: Option<String>,
    dataset_digest: Option<String>,
}

impl MetricIn {
    fn point(&self) -> MetricPoint {
        MetricPoint {
            key: self.key.clone(),
            value: self.value,
            timestamp: self.timestamp.unwrap_or_else(now_ms),
            step: self.step.unwrap_or(0),
        }
    }

    /// The point as a model's metric, when it names a model.
    fn model_metric(&self, run_id: &str, point: &MetricPoint) -> Option<ModelMetric> {
        let model_id = self.model_id.as_deref().filter(|m| !m.is_empty())?;
        Some(ModelMetric {
            model_id: model_id.to_string(),
            point: point.clone(),
            run_id: Some(run_id.to_string()),
            dataset_name: self.dataset_name.clone().unwrap_or_default(),
            dataset_digest: self.dataset_digest.clone().unwrap_or_default(),
        })
    }
}

/// The points of `metrics`, and those that name a model as that model's metrics.
fn split_metrics(run_id: &str, metrics: &[MetricIn]) -> (Vec<MetricPoint>, Vec<ModelMetric>) {
    let points: Vec<MetricPoint> = metrics.iter().map(MetricIn::point).collect();
    let models = metrics
        .iter()
        .zip(&points)
        .filter_map(|(m, p)| m.model_metric(run_id, p))
        .collect();
    (points, models)
}

#[derive(Deserialize, schemars::JsonSchema)]
struct LogMetric {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(flatten)]
    metric: MetricIn,
}

/// Applies one logging request and its audit entry in one transaction.
async fn log_metric(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<LogMetric>,
) -> ApiResult {
    let run_id = run_id_of(req.run_id, req.run_uuid)?;
    let (metrics, model_metrics) = split_metrics(&run_id, std::slice::from_ref(&req.metric));
    let batch = ops::Batch {
        metrics,
        model_metrics,
        ..Default::default()
    };
    ops::log_batch(&s.pool, &p, &run_id, &batch, Logged::Metric).await?;
    Ok(Json(json!({})))
}

/// `runs/log-parameter` and `runs/set-tag`: one key and value, logged as a one-item batch.
async fn log_one(s: AppState, p: Principal, req: RunRef, param: bool) -> ApiResult {
    let run_id = run_id_of(req.run_id, req.run_uuid)?;
    let kv = vec![(required("key", req.key)?, req.value.unwrap_or_default())];
    let (batch, logged) = if param {
        let batch = ops::Batch {
            params: kv,
            ..Default::default()
        };
        (batch, Logged::Param)
    } else {
        (
            ops::Batch {
                tags: kv,
                ..Default::default()
            },
            Logged::Tag,
        )
    };
    ops::log_batch(&s.pool, &p, &run_id, &batch, logged).await?;
    Ok(Json(json!({})))
}

async fn log_param(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    log_one(s, p, req, true).await
}

async fn set_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    log_one(s, p, req, false).await
}

async fn delete_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    let run_id = run_id_of(req.run_id, req.run_uuid)?;
    let key = required("key", req.key)?;
    ops::delete_run_tag(&s.pool, &p, &run_id, &key).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct LogBatch {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(default)]
    metrics: Vec<MetricIn>,
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

async fn log_batch(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<LogBatch>,
) -> ApiResult {
    let run_id = run_id_of(req.run_id, req.run_uuid)?;
    let total = req.metrics.len() + req.params.len() + req.tags.len();
    if total > MAX_BATCH_ITEMS {
        return Err(invalid("body", format!("A batch logging request can contain at most {MAX_BATCH_ITEMS} metrics, params, and tags in total. Received a batch of size {total}.")));
    }
    if req.metrics.len() > MAX_BATCH_METRICS {
        return Err(invalid(
            "metrics",
            format!(
                "A batch logging request can contain at most {MAX_BATCH_METRICS} metrics. Got {}.",
                req.metrics.len()
            ),
        ));
    }
    if req.params.len() > MAX_BATCH_PARAMS {
        return Err(invalid(
            "params",
            format!(
                "A batch logging request can contain at most {MAX_BATCH_PARAMS} params. Got {}.",
                req.params.len()
            ),
        ));
    }
    if req.tags.len() > MAX_BATCH_TAGS {
        return Err(invalid(
            "tags",
            format!(
                "A batch logging request can contain at most {MAX_BATCH_TAGS} tags. Got {}.",
                req.tags.len()
            ),
        ));
    }
    let (metrics, model_metrics) = split_metrics(&run_id, &req.metrics);
    let batch = ops::Batch {
        metrics,
        model_metrics,
        params: pairs(req.params),
        tags: pairs(req.tags),
    };
    ops::log_batch(&s.pool, &p, &run_id, &batch, Logged::Batch).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct DatasetIn {
    name: String,
    digest: String,
    #[serde(default)]
    source_type: String,
    #[serde(default)]
    source: String,
    schema: Option<String>,
    profile: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct DatasetInputIn {
    #[serde(default)]
    tags: Vec<KeyValue>,
    dataset: DatasetIn,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct LogInputs {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(default)]
    datasets: Vec<DatasetInputIn>,
    /// MLflow 3: models the run used.
    #[serde(default)]
    models: Vec<ModelInputIn>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ModelInputIn {
    model_id: String,
}

async fn log_inputs(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<LogInputs>,
) -> ApiResult {
    let run_id = run_id_of(req.run_id, req.run_uuid)?;
    let inputs: Vec<DatasetInput> = req
        .datasets
        .into_iter()
        .map(|d| DatasetInput {
            name: d.dataset.name,
            digest: d.dataset.digest,
            source_type: d.dataset.source_type,
            source: d.dataset.source,
            schema: d.dataset.schema,
            profile: d.dataset.profile,
            tags: pairs(d.tags),
        })
        .collect();
    let models: Vec<String> = req.models.into_iter().map(|m| m.model_id).collect();
    ops::log_inputs(&s.pool, &p, &run_id, &inputs, &models).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct SearchRuns {
    #[serde(default)]
    experiment_ids: Vec<Value>,
    filter: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    run_view_type: Option<String>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    max_results: Option<i64>,
    #[serde(default)]
    order_by: Vec<String>,
    page_token: Option<String>,
}

async fn search_runs(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<SearchRuns>,
) -> Result<Response, MlflowError> {
    let mut exp_ids = Vec::new();
    for v in &req.experiment_ids {
        let id = match v {
            Value::String(s) => s.parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        };
        exp_ids.push(
            id.ok_or_else(|| invalid("experiment_ids", format!("invalid experiment id {v}")))?,
        );
    }
    let limit = req.max_results.unwrap_or(1000);
    if !(1..=MAX_RESULTS_RUNS).contains(&limit) {
        return Err(invalid("max_results", format!("Invalid value {limit} for parameter 'max_results' supplied. It must be at most {MAX_RESULTS_RUNS}")));
    }
    let clauses = parse_filter(req.filter.as_deref().unwrap_or("")).map_err(|e| {
        invalid(
            "filter",
            format!(
                "Invalid filter '{}': {e}",
                req.filter.as_deref().unwrap_or("")
            ),
        )
    })?;
    let order: Vec<OrderBy> = req
        .order_by
        .iter()
        .map(|o| {
            parse_order_by(o)
                .map_err(|e| invalid("order_by", format!("Invalid order_by clause '{o}': {e}")))
        })
        .collect::<Result<_, _>>()?;
    let offset = page_offset(req.page_token.as_deref())?;
    let mut runs = tracking::search_runs_json(
        &s.pool,
        &tracking::RunSearch {
            experiment_ids: &exp_ids,
            stages: stages(req.run_view_type.as_deref())?,
            clauses: &clauses,
            order_by: &order,
            limit: limit + 1,
            offset,
        },
    )
    .await?;
    let more = runs.len() as i64 > limit;
    runs.truncate(limit as usize);
    // The runs arrive as JSON from SQLite (`tracking::RUN_JSON`); the page only joins them.
    let mut out = String::with_capacity(runs.iter().map(|r| r.len() + 1).sum::<usize>() + 64);
    out.push_str("{\"runs\":[");
    out.push_str(&runs.join(","));
    out.push(']');
    if more {
        out.push_str(&format!(",\"next_page_token\":\"{}\"", offset + limit));
    }
    out.push('}');
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}

async fn get_metric_history(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let run_id = run_id_of(q.get("run_id").cloned(), q.get("run_uuid").cloned())?;
    let key = q
        .get("metric_key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            invalid(
                "metric_key",
                "Missing value for required parameter 'metric_key'.",
            )
        })?;
    let limit = match q.get("max_results") {
        None => 25_000,
        Some(m) => m
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=25_000).contains(n))
            .ok_or_else(|| invalid("max_results", "max_results must be between 1 and 25000"))?,
    };
    let offset = page_offset(q.get("page_token").map(String::as_str))?;
    if !tracking::run_exists(&s.pool, &run_id).await? {
        return Err(MlflowError(AppError::not_found(format!(
            "Run '{run_id}' not found"
        ))));
    }
    let points = tracking::metric_history(&s.pool, &run_id, key, limit + 1, offset).await?;
    let more = points.len() as i64 > limit;
    let mut v = json!({ "metrics": points.iter().take(limit as usize).map(metric_json).collect::<Vec<_>>() });
    if more {
        v["next_page_token"] = json!((offset + limit).to_string());
    }
    Ok(Json(v))
}
