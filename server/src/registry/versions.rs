//! Model versions over MLflow's REST API: create, read, update, tags, search and download
//! location.

use super::limits;
use super::not_found_version;
use super::params;
use super::parse_clauses;
use super::parse_version;
use super::required;
use super::version_json;
use super::ApiResult;
use super::SearchReq;
use crate::extract::{Caller, JsonBody};
use crate::mlflow::{de_opt_string, invalid, pairs, KeyValue, MlflowError};
use app::service::registry as ops;
use app::service::state::AppState;
use app::store::registry::{self, ModelVersion, VersionFilter};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub(super) struct VersionReq {
    #[serde(default, deserialize_with = "de_opt_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    version: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    source: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    run_id: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    run_link: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    model_id: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
    #[serde(default, deserialize_with = "de_opt_string")]
    key: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    value: Option<String>,
}

pub(super) async fn create_version(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<VersionReq>,
) -> ApiResult {
    let name = required("name", &req.name)?.to_string();
    let source = required("source", &req.source)?.to_string();
    let tags = pairs(req.tags);
    let new = ops::NewVersion {
        name: &name,
        source: &source,
        run_id: req.run_id.as_deref(),
        model_id: req.model_id.as_deref(),
        run_link: req.run_link.as_deref().unwrap_or(""),
        description: req.description.as_deref().unwrap_or(""),
        tags: &tags,
    };
    let version = ops::create_version(&s.pool, &p, new).await?;
    let v = registry::get_version(&s.pool, &name, version)
        .await?
        .ok_or_else(|| not_found_version(&name, version))?;
    Ok(Json(json!({ "model_version": version_json(&v) })))
}

pub(super) async fn get_version(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = required("name", &q.get("name").cloned())?.to_string();
    let version = parse_version(&q.get("version").cloned())?;
    let v = registry::get_version(&s.pool, &name, version)
        .await?
        .ok_or_else(|| not_found_version(&name, version))?;
    Ok(Json(json!({ "model_version": version_json(&v) })))
}

pub(super) async fn update_version(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<VersionReq>,
) -> ApiResult {
    let name = required("name", &req.name)?.to_string();
    let version = parse_version(&req.version)?;
    let description = req.description.clone().unwrap_or_default();
    ops::update_version(&s.pool, &p, (&name, version), &description).await?;
    let v = registry::get_version(&s.pool, &name, version)
        .await?
        .ok_or_else(|| not_found_version(&name, version))?;
    Ok(Json(json!({ "model_version": version_json(&v) })))
}

pub(super) async fn set_version_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<VersionReq>,
) -> ApiResult {
    let name = required("name", &req.name)?.to_string();
    let version = parse_version(&req.version)?;
    let key = required("key", &req.key)?.to_string();
    let value = req.value.clone().unwrap_or_default();
    ops::set_version_tag(&s.pool, &p, (&name, version), (&key, &value)).await?;
    Ok(Json(json!({})))
}

pub(super) async fn delete_version_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<HashMap<String, String>>,
    b: Bytes,
) -> ApiResult {
    let req: VersionReq = params(&q, &b)?;
    let name = required("name", &req.name)?.to_string();
    let version = parse_version(&req.version)?;
    let key = required("key", &req.key)?.to_string();
    ops::delete_version_tag(&s.pool, &p, (&name, version), &key).await?;
    Ok(Json(json!({})))
}

async fn search_versions_inner(s: &AppState, req: SearchReq) -> ApiResult {
    let (max, offset) = limits(&req, 10_000, 200_000)?;
    let mut filters = Vec::new();
    for (key, op, values) in parse_clauses(req.filter.as_deref().unwrap_or(""))? {
        let f = match (key.as_str(), op.as_str()) {
            ("name", "=") => VersionFilter::NameEq(values[0].clone()),
            ("name", "LIKE") => VersionFilter::NameLike(values[0].clone(), false),
            ("name", "ILIKE") => VersionFilter::NameLike(values[0].clone(), true),
            ("run_id", "=" | "IN") => VersionFilter::RunIdIn(values),
            ("source_path" | "source", "=") => VersionFilter::SourceEq(values[0].clone()),
            (k, o) => {
                return Err(invalid(
                    "filter",
                    format!("`{k} {o}` is not supported: filter on name (=, LIKE, ILIKE), run_id (=, IN) or source_path (=)"),
                ))
            }
        };
        filters.push(f);
    }
    let versions = registry::search_versions(&s.pool, &filters, max + 1, offset).await?;
    let more = versions.len() as i64 > max;
    let mut v = json!({
        "model_versions": versions.iter().take(max as usize).map(version_json).collect::<Vec<_>>()
    });
    if more {
        v["next_page_token"] = json!((offset + max).to_string());
    }
    Ok(Json(v))
}

pub(super) async fn search_versions(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let req: SearchReq = params(&q, &Bytes::new())?;
    search_versions_inner(&s, req).await
}

pub(super) async fn search_versions_post(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<SearchReq>,
) -> ApiResult {
    search_versions_inner(&s, req).await
}

pub(super) async fn download_uri(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = required("name", &q.get("name").cloned())?.to_string();
    let version = parse_version(&q.get("version").cloned())?;
    let v = registry::get_version(&s.pool, &name, version)
        .await?
        .ok_or_else(|| not_found_version(&name, version))?;
    Ok(Json(
        json!({ "artifact_uri": download_location(&s, &v).await? }),
    ))
}

/// Where a version's files are, as a URI the client can read: the logged model's folder, the
/// run folder a `runs:/` source names, or the source as given.
pub async fn download_location(s: &AppState, v: &ModelVersion) -> Result<String, MlflowError> {
    let mut conn = s.pool.acquire().await?;
    if let Some(m) = &v.model_id {
        if let Some(model) = app::store::logged_models::get(&mut conn, m).await? {
            return Ok(model.artifact_uri);
        }
    }
    if let Some(rest) = v.source.strip_prefix("runs:/") {
        let (run, path) = rest.split_once('/').unwrap_or((rest, ""));
        let info = app::store::tracking::run_info(&mut conn, run).await?;
        let path = path.trim_matches('/');
        return Ok(if path.is_empty() {
            info.artifact_uri
        } else {
            format!("{}/{path}", info.artifact_uri.trim_end_matches('/'))
        });
    }
    Ok(v.source.clone())
}
