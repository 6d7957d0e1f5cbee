//! MLflow 3's logged models under `/api/2.0/mlflow/logged-models`, and `runs/outputs`.
//!
//! `log_model` creates a model (PENDING), uploads its files through the artifact proxy under
//! `<experiment>/models/<id>/artifacts/`, then finalizes it READY. Finalizing seals it: the
//! manifest of its files (path, size, SHA-256) and the model digest over it are recorded in
//! the same transaction as the audit entry, and its files are frozen from then on (see
//! `app::domain::artifacts` for the manifest format).

use crate::api::{needs, Api};
use crate::artifacts::{children, ArtifactError};
use crate::extract::{Caller, JsonBody};
use crate::mlflow::{de_opt_i64, kv_json, pairs, value_json, KeyValue, MlflowError};
use app::domain::authz::Action;
use app::domain::logged_models::parse_status;
use app::error::AppError;
use app::service::logged_models as ops;
use app::service::state::AppState;
use app::store::logged_models::{self, LoggedModel, NewModel};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

mod search;

type ApiResult = Result<Json<Value>, ArtifactError>;

/// The routes.
pub fn router(state: AppState) -> Api {
    use Action::*;
    const L: &str = "/api/2.0/mlflow/logged-models";
    Api::gated(state.clone())
        .post(
            L,
            create,
            needs(
                IngestTracking,
                "Create a logged model (PENDING) to upload files to",
            )
            .json(),
        )
        .post(
            &format!("{L}/search"),
            search::search,
            needs(
                ReadWorkspace,
                "Search logged models with MLflow's filter grammar",
            )
            .json(),
        )
        .get(
            &format!("{L}/{{model_id}}"),
            get,
            needs(
                ReadWorkspace,
                "A logged model with its tags, params, metrics and digest",
            )
            .query(&[("allow_deleted", "true to return a deleted model too")]),
        )
        .patch(
            &format!("{L}/{{model_id}}"),
            finalize,
            needs(
                IngestTracking,
                "Finalize a model: READY seals its files and records their digest",
            )
            .json(),
        )
        .delete(
            &format!("{L}/{{model_id}}"),
            delete,
            needs(
                IngestTracking,
                "Mark a model deleted (409 once a version is registered from it)",
            ),
        )
        .patch(
            &format!("{L}/{{model_id}}/tags"),
            set_tags,
            needs(IngestTracking, "Set tags on a model").json(),
        )
        .delete(
            &format!("{L}/{{model_id}}/tags/{{tag_key}}"),
            delete_tag,
            needs(IngestTracking, "Delete a model's tag"),
        )
        .post(
            &format!("{L}/{{model_id}}/params"),
            log_params,
            needs(IngestTracking, "Log a model's params").json(),
        )
        .get(
            &format!("{L}/{{model_id}}/artifacts/directories"),
            list_files,
            needs(
                ReadWorkspace,
                "The files directly under a folder of the model",
            )
            .query(&[("artifact_directory_path", "A folder below the model's root")]),
        )
        .post(
            "/api/2.0/mlflow/runs/outputs",
            log_outputs,
            needs(IngestTracking, "Record the models a run produced").json(),
        )
        .with_state(state)
}

/// A logged model in MLflow's JSON shape, with Gatehouse's digest and manifest in `info`.
pub fn model_json(m: &LoggedModel, registrations: &[(String, i64)]) -> Value {
    let mut info = json!({
        "model_id": m.model_id,
        "experiment_id": m.experiment_id.to_string(),
        "name": m.name,
        "creation_timestamp_ms": m.creation_time,
        "last_updated_timestamp_ms": m.last_updated_time,
        "artifact_uri": m.artifact_uri,
        "status": m.status,
        "model_type": m.model_type,
        "tags": kv_json(m.tags.iter().map(|(k, v)| (k, v))),
    });
    if let Some(r) = &m.source_run_id {
        info["source_run_id"] = json!(r);
    }
    if !m.status_message.is_empty() {
        info["status_message"] = json!(m.status_message);
    }
    if !registrations.is_empty() {
        info["registrations"] = registrations
            .iter()
            .map(|(n, v)| json!({ "name": n, "version": v.to_string() }))
            .collect();
    }
    if let Some(d) = &m.digest {
        info["digest"] = json!(d);
        info["manifest"] = json!(m.manifest);
    }
    let metrics: Vec<Value> = m
        .metrics
        .iter()
        .map(|x| {
            let mut v = json!({
                "key": x.point.key,
                "value": value_json(x.point.value),
                "timestamp": x.point.timestamp,
                "step": x.point.step,
                "model_id": m.model_id,
            });
            if let Some(r) = &x.run_id {
                v["run_id"] = json!(r);
            }
            if !x.dataset_name.is_empty() {
                v["dataset_name"] = json!(x.dataset_name);
                v["dataset_digest"] = json!(x.dataset_digest);
            }
            v
        })
        .collect();
    json!({
        "info": info,
        "data": {
            "params": kv_json(m.params.iter().map(|(k, v)| (k, v))),
            "metrics": metrics,
        },
    })
}

async fn respond(s: &AppState, model_id: &str, allow_deleted: bool) -> ApiResult {
    let mut conn = s.pool.acquire().await?;
    let m = logged_models::get(&mut conn, model_id)
        .await?
        .filter(|m| allow_deleted || m.lifecycle_stage == "active")
        .ok_or_else(|| not_found(model_id))?;
    let regs = logged_models::registered_versions(&mut conn, model_id).await?;
    Ok(Json(json!({ "model": model_json(&m, &regs) })))
}

fn not_found(model_id: &str) -> ArtifactError {
    ArtifactError(AppError::not_found(format!(
        "Logged model with ID '{model_id}' not found"
    )))
}

pub(crate) fn experiment_id(field: &str, v: &Value) -> Result<i64, ArtifactError> {
    let parsed = match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        ArtifactError(AppError::validation(
            field,
            format!("`{v}` is not an experiment id"),
        ))
    })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct CreateReq {
    experiment_id: Option<Value>,
    name: Option<String>,
    model_type: Option<String>,
    source_run_id: Option<String>,
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<CreateReq>,
) -> ApiResult {
    let exp = experiment_id(
        "experiment_id",
        req.experiment_id.as_ref().ok_or_else(|| {
            ArtifactError(AppError::validation(
                "experiment_id",
                "Missing value for required parameter 'experiment_id'.",
            ))
        })?,
    )?;
    let (tags, params) = (pairs(req.tags), pairs(req.params));
    let new = NewModel {
        experiment_id: exp,
        name: req.name.as_deref(),
        model_type: req.model_type.as_deref().unwrap_or(""),
        source_run_id: req.source_run_id.as_deref().filter(|r| !r.is_empty()),
        tags: &tags,
        params: &params,
    };
    let id = ops::create(&s.pool, &p, new).await?;
    respond(&s, &id, false).await
}

async fn get(
    State(s): State<AppState>,
    Path(model_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let allow_deleted = q.get("allow_deleted").is_some_and(|v| v == "true");
    respond(&s, &model_id, allow_deleted).await
}

#[derive(Deserialize, schemars::JsonSchema)]
struct FinalizeReq {
    status: Option<Value>,
}

async fn finalize(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(model_id): Path<String>,
    JsonBody(req): JsonBody<FinalizeReq>,
) -> ApiResult {
    let status = match &req.status {
        Some(Value::String(v)) => parse_status(v),
        // The enum's numbers: 1 PENDING, 2 READY, 3 UPLOAD_FAILED.
        Some(Value::Number(n)) => match n.as_i64() {
            Some(1) => parse_status("PENDING"),
            Some(2) => parse_status("READY"),
            Some(3) => parse_status("UPLOAD_FAILED"),
            _ => None,
        },
        _ => None,
    }
    .ok_or_else(|| {
        ArtifactError(AppError::validation(
            "status",
            "status must be LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED",
        ))
    })?;
    ops::finalize(&s.pool, &p, &model_id, status).await?;
    respond(&s, &model_id, false).await
}

async fn delete(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(model_id): Path<String>,
) -> ApiResult {
    ops::delete(&s.pool, &p, &model_id).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct TagsReq {
    #[serde(default)]
    tags: Vec<KeyValue>,
}

async fn set_tags(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(model_id): Path<String>,
    JsonBody(req): JsonBody<TagsReq>,
) -> ApiResult {
    ops::set_tags(&s.pool, &p, &model_id, &pairs(req.tags)).await?;
    Ok(Json(json!({})))
}

async fn delete_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((model_id, key)): Path<(String, String)>,
) -> ApiResult {
    ops::delete_tag(&s.pool, &p, &model_id, &key).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ParamsReq {
    #[serde(default)]
    params: Vec<KeyValue>,
}

async fn log_params(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(model_id): Path<String>,
    JsonBody(req): JsonBody<ParamsReq>,
) -> ApiResult {
    ops::log_params(&s.pool, &p, &model_id, &pairs(req.params)).await?;
    Ok(Json(json!({})))
}

async fn list_files(
    State(s): State<AppState>,
    Path(model_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let mut conn = s.pool.acquire().await?;
    let m = logged_models::active(&mut conn, &model_id).await?;
    let sub = app::domain::artifacts::check_relative(
        q.get("artifact_directory_path")
            .map(String::as_str)
            .unwrap_or(""),
    )
    .map_err(|e| ArtifactError(AppError::validation("artifact_directory_path", e)))?;
    let root = m.root().prefix();
    let key = if sub.is_empty() {
        root
    } else {
        format!("{root}/{sub}")
    };
    let files = children(&mut conn, &key).await?;
    Ok(Json(json!({ "root_uri": m.artifact_uri, "files": files })))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct OutputReq {
    model_id: String,
    #[serde(default, deserialize_with = "de_opt_i64")]
    step: Option<i64>,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct OutputsReq {
    run_id: Option<String>,
    #[serde(default)]
    models: Vec<OutputReq>,
}

async fn log_outputs(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<OutputsReq>,
) -> Result<Json<Value>, MlflowError> {
    let run_id = req.run_id.filter(|r| !r.is_empty()).ok_or_else(|| {
        crate::mlflow::invalid("run_id", "Missing value for required parameter 'run_id'.")
    })?;
    let models: Vec<(String, i64)> = req
        .models
        .into_iter()
        .map(|m| (m.model_id, m.step.unwrap_or(0)))
        .collect();
    ops::log_outputs(&s.pool, &p, &run_id, &models).await?;
    Ok(Json(json!({})))
}
