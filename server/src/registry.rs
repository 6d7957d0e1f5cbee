//! The MLflow-compatible model registry under `/api/2.0/mlflow/registered-models/…` and
//! `…/model-versions/…`, plus Gatehouse's own registry reads under `/api/v1/models`.
//!
//! Scientists create models and versions and set aliases; an alias the policy in force
//! protects (`production` by default) moves only through an approved promotion request, for
//! every role: setting or removing it here is refused with 403 `PERMISSION_DENIED`.

use crate::api::{needs, Access, Api, Doc};
use crate::extract::parse_json;
use crate::mlflow::{invalid, kv_json, MlflowError};
use app::domain::authz::Action;
use app::error::AppError;
use app::service::state::AppState;
use app::store::registry::{self, ModelVersion, RegisteredModel};
use axum::body::Bytes;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

mod models;
mod v1;
mod versions;

use models::*;
use v1::*;
use versions::*;

type ApiResult = Result<Json<Value>, MlflowError>;

/// The routes, mounted by the main router.
pub fn router(state: AppState) -> Api {
    use Action::*;
    const M: &str = "/api/2.0/mlflow/registered-models";
    const V: &str = "/api/2.0/mlflow/model-versions";
    let m = |p: &str| format!("{M}/{p}");
    let v = |p: &str| format!("{V}/{p}");
    let search = &[
        ("filter", "MLflow filter, e.g. name LIKE 'credit%'"),
        ("max_results", "Page size"),
        ("order_by", "Sort keys"),
        ("page_token", "The previous page's next_page_token"),
    ];
    Api::gated(state.clone())
        .post(&m("create"), create_model, needs(ManageRegistry, "Register a model").json())
        .get(&m("get"), get_model,
            needs(ReadWorkspace, "A registered model").query(&[("name", "The model's name")]))
        .patch(&m("update"), update_model, needs(ManageRegistry, "Change a model's description").json())
        .post(&m("update"), update_model, needs(ManageRegistry, "Change a model's description").json())
        .get(&m("search"), search_models, needs(ReadWorkspace, "Search registered models").query(search))
        .post(&m("search"), search_models_post, needs(ReadWorkspace, "Search registered models").json())
        .post(&m("set-tag"), set_model_tag, needs(ManageRegistry, "Set a model tag").json())
        .delete(&m("delete-tag"), delete_model_tag, needs(ManageRegistry, "Delete a model tag").query(&[
            ("name", "The model's name"),
            ("key", "The tag"),
        ]))
        .get(&m("get-latest-versions"), latest_versions,
            needs(ReadWorkspace, "The latest version of a model").query(&[("name", "The model's name")]))
        .post(&m("get-latest-versions"), latest_versions_post,
            needs(ReadWorkspace, "The latest version of a model").json())
        .post(&m("alias"), set_alias,
            needs(ManageRegistry, "Point an alias no policy protects at a version").json())
        .delete(&m("alias"), delete_alias, needs(ManageRegistry, "Remove an alias no policy protects").query(&[
            ("name", "The model's name"),
            ("alias", "The alias"),
        ]))
        .get(&m("alias"), get_by_alias, needs(ReadWorkspace, "The version an alias points at").query(&[
            ("name", "The model's name"),
            ("alias", "The alias"),
        ]))
        .post(&m("rename"), refuse_rename, Doc::new(Access::Never, "Refused: models keep their names"))
        .delete(&m("delete"), refuse_delete, Doc::new(Access::Never, "Refused: models are kept"))
        .post(&v("create"), create_version, needs(ManageRegistry, "Register a model version").json())
        .get(&v("get"), get_version, needs(ReadWorkspace, "A model version").query(&[
            ("name", "The model's name"),
            ("version", "The version number"),
        ]))
        .patch(&v("update"), update_version, needs(ManageRegistry, "Change a version's description").json())
        .post(&v("update"), update_version, needs(ManageRegistry, "Change a version's description").json())
        .get(&v("search"), search_versions, needs(ReadWorkspace, "Search model versions").query(search))
        .post(&v("search"), search_versions_post, needs(ReadWorkspace, "Search model versions").json())
        .post(&v("set-tag"), set_version_tag, needs(ManageRegistry, "Set a version tag").json())
        .delete(&v("delete-tag"), delete_version_tag, needs(ManageRegistry, "Delete a version tag").query(&[
            ("name", "The model's name"),
            ("version", "The version number"),
            ("key", "The tag"),
        ]))
        .get(&v("get-download-uri"), download_uri, needs(ReadWorkspace, "Where a version's artifacts are").query(&[
            ("name", "The model's name"),
            ("version", "The version number"),
        ]))
        .post(&v("transition-stage"), refuse_stage, Doc::new(Access::Never, "Refused: stages are replaced by aliases"))
        .delete(&v("delete"), refuse_delete, Doc::new(Access::Never, "Refused: versions are kept"))
        .get("/api/v1/models", v1_models, needs(ReadWorkspace, "Registered models with their aliases and risk tiers"))
        .get("/api/v1/models/{name}", v1_model, needs(ReadWorkspace, "A model with its versions, aliases and requests"))
        .put("/api/v1/models/{name}/risk-tier", v1_set_risk_tier,
            needs(ManagePolicies, "Set a model's risk tier (which selects its promotion policy)").json())
        .get("/api/v1/models/{name}/versions/{version}/evidence-pack", v1_evidence_pack,
            needs(ReadWorkspace, "Everything that supports a version: lineage, run, tests, reports, approvals, audit entries with proofs"))
        .get("/api/v1/models/{name}/aliases/{alias}", v1_alias_at,
            needs(ReadWorkspace, "The version an alias pointed at, now or at a past time")
                .query(&[("at", "An RFC 3339 time or Unix milliseconds (default now)")]))
        .get("/api/v1/models/{name}/aliases/{alias}/history", v1_alias_history,
            needs(ReadWorkspace, "Every move of an alias, oldest first"))
        .with_state(state)
}

// ---- JSON shapes ---------------------------------------------------------------------------

fn version_json(v: &ModelVersion) -> Value {
    let mut out = json!({
        "name": v.name,
        "version": v.version.to_string(),
        "creation_timestamp": v.creation_time,
        "last_updated_timestamp": v.last_updated_time,
        "user_id": v.user_id,
        "current_stage": "None",
        "description": v.description,
        "source": v.source,
        "status": "READY",
        "run_link": v.run_link,
        "tags": kv_json(v.tags.iter().map(|(k, v)| (k, v))),
        "aliases": v.aliases,
    });
    if let Some(r) = &v.run_id {
        out["run_id"] = json!(r);
    }
    if let Some(m) = &v.model_id {
        out["model_id"] = json!(m);
    }
    out
}

fn model_json(m: &RegisteredModel, latest: Option<&ModelVersion>) -> Value {
    json!({
        "name": m.name,
        "creation_timestamp": m.creation_time,
        "last_updated_timestamp": m.last_updated_time,
        "user_id": m.created_by,
        "description": m.description,
        "latest_versions": latest.map(|v| vec![version_json(v)]).unwrap_or_default(),
        "tags": kv_json(m.tags.iter().map(|(k, v)| (k, v))),
        "aliases": m.aliases.iter().map(|(a, v)| json!({ "alias": a, "version": v.to_string() })).collect::<Vec<_>>(),
    })
}

async fn model_with_latest(s: &AppState, m: RegisteredModel) -> Result<Value, MlflowError> {
    let latest = match m.latest_version {
        Some(v) => registry::get_version(&s.pool, &m.name, v).await?,
        None => None,
    };
    Ok(model_json(&m, latest.as_ref()))
}

fn required<'a>(field: &str, v: &'a Option<String>) -> Result<&'a str, MlflowError> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            invalid(
                field,
                format!("Missing value for required parameter '{field}'."),
            )
        })
}

fn parse_version(v: &Option<String>) -> Result<i64, MlflowError> {
    let s = required("version", v)?;
    s.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        invalid(
            "version",
            format!("Model version must be a positive integer, got '{s}'"),
        )
    })
}

fn not_found_model(name: &str) -> MlflowError {
    MlflowError(AppError::not_found(format!(
        "Registered Model with name={name} not found"
    )))
}

fn not_found_version(name: &str, version: i64) -> MlflowError {
    MlflowError(AppError::not_found(format!(
        "Model Version (name={name}, version={version}) not found"
    )))
}

/// Query string or JSON body: MLflow's client sends GET parameters as a query string and
/// DELETE parameters as a JSON body.
fn params<T: for<'de> Deserialize<'de> + Default>(
    q: &HashMap<String, String>,
    b: &Bytes,
) -> Result<T, MlflowError> {
    if !b.is_empty() {
        return Ok(parse_json(b)?);
    }
    let v = Value::Object(q.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    serde_json::from_value(v).map_err(|e| invalid("query", format!("Invalid request: {e}")))
}
