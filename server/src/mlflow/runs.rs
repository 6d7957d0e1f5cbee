//! MLflow runs over REST: create, get, update, delete and restore.

use super::de_opt_i64;
use super::de_opt_string;
use super::invalid;
use super::pairs;
use super::parse_id;
use super::run_info_json;
use super::ApiResult;
use super::KeyValue;
use super::MlflowError;
use crate::extract::{Caller, JsonBody};
use app::error::AppError;
use app::service::auth::Principal;
use app::service::now_ms;
use app::service::state::AppState;
use app::service::tracking::{self as ops};
use app::store::logged_models::{self};
use app::store::tracking;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct CreateRun {
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

pub(super) async fn create_run(
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
pub(super) struct RunRef {
    pub(super) run_id: Option<String>,
    pub(super) run_uuid: Option<String>,
    pub(super) status: Option<String>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub(super) end_time: Option<i64>,
    pub(super) run_name: Option<String>,
    pub(super) key: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub(super) value: Option<String>,
}

/// A required request field, with MLflow's wording when it is missing.
pub(super) fn required(field: &str, v: Option<String>) -> Result<String, MlflowError> {
    v.ok_or_else(|| {
        invalid(
            field,
            format!("Missing value for required parameter '{field}'."),
        )
    })
}

pub(super) fn run_id_of(
    run_id: Option<String>,
    run_uuid: Option<String>,
) -> Result<String, MlflowError> {
    run_id
        .filter(|r| !r.is_empty())
        .or(run_uuid.filter(|r| !r.is_empty()))
        .ok_or_else(|| invalid("run_id", "Missing value for required parameter 'run_id'."))
}

pub(super) async fn update_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    let run_id = run_id_of(req.run_id, req.run_uuid)?;
    let (status, name) = (req.status.as_deref(), req.run_name.as_deref());
    let info = ops::update_run(&s.pool, &p, &run_id, status, req.end_time, name).await?;
    Ok(Json(json!({ "run_info": run_info_json(&info) })))
}

pub(super) async fn get_run(
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

pub(super) async fn delete_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    run_stage(s, p, req, true).await
}

pub(super) async fn restore_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    run_stage(s, p, req, false).await
}
