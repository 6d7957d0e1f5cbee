//! The MLflow-compatible model registry under `/api/2.0/mlflow/registered-models/…` and
//! `…/model-versions/…`, plus Gatehouse's own registry reads under `/api/v1/models`.
//!
//! Scientists create models and versions and set aliases; an alias the policy in force
//! protects (`production` by default) moves only through an approved promotion request, for
//! every role: setting or removing it here is refused with 403 `PERMISSION_DENIED`.

use crate::api::{needs, Access, Api, Doc};
use crate::extract::{parse_json, Caller, JsonBody};
use crate::mlflow::{de_opt_string, invalid, kv_json, pairs, KeyValue, MlflowError};
use app::domain::authz::Action;
use app::domain::promotion::valid_alias;
use app::error::AppError;
use app::service::now_ms;
use app::service::registry as ops;
use app::service::state::AppState;
use app::store::promotions;
use app::store::registry::{self, ModelVersion, RegisteredModel, VersionFilter};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

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

// ---- registered models ---------------------------------------------------------------------

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct ModelReq {
    #[serde(default, deserialize_with = "de_opt_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
    #[serde(default, deserialize_with = "de_opt_string")]
    key: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    value: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    alias: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    version: Option<String>,
}

async fn create_model(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ModelReq>,
) -> ApiResult {
    let name = registry::check_name(required("name", &req.name)?)?.to_string();
    let description = req.description.clone().unwrap_or_default();
    ops::create_model(&s.pool, &p, &name, &description, &pairs(req.tags)).await?;
    let m = registry::get_model(&s.pool, &name)
        .await?
        .ok_or_else(|| not_found_model(&name))?;
    Ok(Json(
        json!({ "registered_model": model_with_latest(&s, m).await? }),
    ))
}

async fn get_model(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = required("name", &q.get("name").cloned())?.to_string();
    let m = registry::get_model(&s.pool, &name)
        .await?
        .ok_or_else(|| not_found_model(&name))?;
    Ok(Json(
        json!({ "registered_model": model_with_latest(&s, m).await? }),
    ))
}

async fn update_model(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ModelReq>,
) -> ApiResult {
    let name = required("name", &req.name)?.to_string();
    let description = req.description.clone().unwrap_or_default();
    ops::update_model(&s.pool, &p, &name, &description).await?;
    let m = registry::get_model(&s.pool, &name)
        .await?
        .ok_or_else(|| not_found_model(&name))?;
    Ok(Json(
        json!({ "registered_model": model_with_latest(&s, m).await? }),
    ))
}

async fn set_model_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ModelReq>,
) -> ApiResult {
    let name = required("name", &req.name)?.to_string();
    let key = required("key", &req.key)?.to_string();
    let value = req.value.clone().unwrap_or_default();
    ops::set_model_tag(&s.pool, &p, &name, (&key, &value)).await?;
    Ok(Json(json!({})))
}

async fn delete_model_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<HashMap<String, String>>,
    b: Bytes,
) -> ApiResult {
    let req: ModelReq = params(&q, &b)?;
    let name = required("name", &req.name)?.to_string();
    let key = required("key", &req.key)?.to_string();
    ops::delete_model_tag(&s.pool, &p, &name, &key).await?;
    Ok(Json(json!({})))
}

/// A search of registered models or model versions, MLflow's `search` request.
#[derive(Deserialize, Default, schemars::JsonSchema)]
#[schemars(rename = "RegistrySearch")]
struct SearchReq {
    #[serde(default, deserialize_with = "de_opt_string")]
    filter: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    max_results: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    page_token: Option<String>,
}

fn limits(req: &SearchReq, default: i64, cap: i64) -> Result<(i64, i64), MlflowError> {
    let max = match req.max_results.as_deref().filter(|s| !s.is_empty()) {
        None => default,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=cap).contains(n))
            .ok_or_else(|| {
                invalid(
                    "max_results",
                    format!("max_results must be between 1 and {cap}, got '{s}'"),
                )
            })?,
    };
    let offset = match req.page_token.as_deref().filter(|s| !s.is_empty()) {
        None => 0,
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| invalid("page_token", "invalid page token"))?,
    };
    Ok((max, offset))
}

/// One clause of a registry filter: `key op 'value'` or `key IN ('a', 'b')`.
fn parse_clauses(filter: &str) -> Result<Vec<(String, String, Vec<String>)>, MlflowError> {
    let bad = |why: &str| invalid("filter", format!("cannot parse filter `{filter}`: {why}"));
    let mut out = Vec::new();
    let mut rest = filter.trim();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '!' || c == '<' || c == '>')
            .ok_or_else(|| bad("expected a comparison"))?;
        let key = rest[..key_end].trim_matches('`').to_ascii_lowercase();
        let key = key
            .trim_start_matches("attributes.")
            .trim_start_matches("attribute.")
            .to_string();
        rest = rest[key_end..].trim_start();
        let upper = rest.to_ascii_uppercase();
        let op = ["!=", "=", "ILIKE", "LIKE", "IN"]
            .into_iter()
            .find(|op| upper.starts_with(op))
            .ok_or_else(|| bad("expected =, !=, LIKE, ILIKE or IN"))?;
        rest = rest[op.len()..].trim_start();
        let mut values = Vec::new();
        let take_string = |r: &str| -> Result<(String, usize), MlflowError> {
            let q = r
                .chars()
                .next()
                .filter(|c| *c == '\'' || *c == '"')
                .ok_or_else(|| bad("values are quoted strings"))?;
            let end = r[1..].find(q).ok_or_else(|| bad("unterminated string"))?;
            Ok((r[1..1 + end].to_string(), end + 2))
        };
        if op == "IN" {
            rest = rest
                .strip_prefix('(')
                .ok_or_else(|| bad("IN needs a parenthesised list"))?
                .trim_start();
            loop {
                let (v, n) = take_string(rest)?;
                values.push(v);
                rest = rest[n..].trim_start();
                if let Some(r) = rest.strip_prefix(',') {
                    rest = r.trim_start();
                } else {
                    rest = rest
                        .strip_prefix(')')
                        .ok_or_else(|| bad("expected ) after the IN list"))?
                        .trim_start();
                    break;
                }
            }
        } else {
            let (v, n) = take_string(rest)?;
            values.push(v);
            rest = rest[n..].trim_start();
        }
        out.push((key, op.to_string(), values));
        if rest.is_empty() {
            break;
        }
        let upper = rest.to_ascii_uppercase();
        if !upper.starts_with("AND ") {
            return Err(bad("clauses are joined with AND"));
        }
        rest = rest[4..].trim_start();
    }
    Ok(out)
}

async fn search_models_inner(s: &AppState, req: SearchReq) -> ApiResult {
    let (max, offset) = limits(&req, 100, 1000)?;
    let mut pattern = "%".to_string();
    let mut ci = false;
    for (key, op, values) in parse_clauses(req.filter.as_deref().unwrap_or(""))? {
        if key != "name" {
            return Err(invalid(
                "filter",
                format!("registered models can be filtered by name only, not `{key}`"),
            ));
        }
        match op.as_str() {
            "=" => pattern = values[0].replace('%', "\\%"),
            "LIKE" => pattern = values[0].clone(),
            "ILIKE" => {
                pattern = values[0].clone();
                ci = true;
            }
            other => {
                return Err(invalid(
                    "filter",
                    format!("`name {other}` is not supported"),
                ))
            }
        }
    }
    let models = registry::search_models(&s.pool, &pattern, ci, max + 1, offset).await?;
    let more = models.len() as i64 > max;
    let mut out = Vec::new();
    for m in models.into_iter().take(max as usize) {
        out.push(model_with_latest(s, m).await?);
    }
    let mut v = json!({ "registered_models": out });
    if more {
        v["next_page_token"] = json!((offset + max).to_string());
    }
    Ok(Json(v))
}

async fn search_models(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let req: SearchReq = params(&q, &Bytes::new())?;
    search_models_inner(&s, req).await
}

async fn search_models_post(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<SearchReq>,
) -> ApiResult {
    search_models_inner(&s, req).await
}

async fn latest_versions_inner(s: &AppState, name: &str) -> ApiResult {
    let m = registry::get_model(&s.pool, name)
        .await?
        .ok_or_else(|| not_found_model(name))?;
    let latest = match m.latest_version {
        Some(v) => registry::get_version(&s.pool, name, v).await?,
        None => None,
    };
    Ok(Json(
        json!({ "model_versions": latest.iter().map(version_json).collect::<Vec<_>>() }),
    ))
}

async fn latest_versions(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = required("name", &q.get("name").cloned())?.to_string();
    latest_versions_inner(&s, &name).await
}

async fn latest_versions_post(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<ModelReq>,
) -> ApiResult {
    let name = required("name", &req.name)?.to_string();
    latest_versions_inner(&s, &name).await
}

fn protected_refusal(name: &str, alias: &str) -> MlflowError {
    MlflowError(AppError::Forbidden {
        message: format!(
            "'{alias}' is a protected alias of '{name}': it moves only through an approved promotion request. \
             Request one with POST /api/v1/promotions {{\"model\": \"{name}\", \"version\": <version>, \"alias\": \"{alias}\", \"justification\": \"…\"}} \
             or the Request promotion button on the model's page."
        ),
    })
}

async fn check_alias(s: &AppState, name: &str, alias: &str) -> Result<(), MlflowError> {
    if !valid_alias(alias) {
        return Err(invalid(
            "alias",
            format!("'{alias}' is not a valid alias: letters, digits, '_' and '-', not 'latest' or v<number>"),
        ));
    }
    let (_, policy) = promotions::policy_for_model(&s.pool, name).await?;
    if policy.is_protected(alias) {
        return Err(protected_refusal(name, alias));
    }
    Ok(())
}

async fn set_alias(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ModelReq>,
) -> ApiResult {
    let name = required("name", &req.name)?.to_string();
    let alias = required("alias", &req.alias)?.to_string();
    let version = parse_version(&req.version)?;
    if registry::get_model(&s.pool, &name).await?.is_none() {
        return Err(not_found_model(&name));
    }
    check_alias(&s, &name, &alias).await?;
    ops::set_alias(&s.pool, &p, &name, &alias, version).await?;
    Ok(Json(json!({})))
}

async fn delete_alias(
    State(s): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<HashMap<String, String>>,
    b: Bytes,
) -> ApiResult {
    let req: ModelReq = params(&q, &b)?;
    let name = required("name", &req.name)?.to_string();
    let alias = required("alias", &req.alias)?.to_string();
    check_alias(&s, &name, &alias).await?;
    ops::delete_alias(&s.pool, &p, &name, &alias).await?;
    Ok(Json(json!({})))
}

async fn get_by_alias(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = required("name", &q.get("name").cloned())?.to_string();
    let alias = required("alias", &q.get("alias").cloned())?.to_string();
    let mut conn = s.pool.acquire().await?;
    let version = registry::alias_version(&mut conn, &name, &alias)
        .await?
        .ok_or_else(|| {
            MlflowError(AppError::not_found(format!(
                "Registered model alias {alias} not found."
            )))
        })?;
    drop(conn);
    let v = registry::get_version(&s.pool, &name, version)
        .await?
        .ok_or_else(|| not_found_version(&name, version))?;
    Ok(Json(json!({ "model_version": version_json(&v) })))
}

/// Reached only signed in: the gate answers 401 first.
async fn refuse_rename() -> MlflowError {
    MlflowError(AppError::Forbidden {
        message: "Registered models cannot be renamed in Gatehouse: promotion records, fairness reports and A/B tests refer to them by name.".into(),
    })
}

/// Reached only signed in: the gate answers 401 first.
async fn refuse_delete() -> MlflowError {
    MlflowError(AppError::Forbidden {
        message: "Registered models and versions cannot be deleted in Gatehouse: they are part of the record of what reached production.".into(),
    })
}

/// Reached only signed in: the gate answers 401 first.
async fn refuse_stage() -> MlflowError {
    MlflowError(AppError::Forbidden {
        message: "Model stages are deprecated and not supported: use aliases (protected ones such as 'production' through a promotion request).".into(),
    })
}

// ---- model versions ------------------------------------------------------------------------

#[derive(Deserialize, Default, schemars::JsonSchema)]
struct VersionReq {
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

async fn create_version(
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

async fn get_version(
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

async fn update_version(
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

async fn set_version_tag(
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

async fn delete_version_tag(
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

async fn search_versions(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let req: SearchReq = params(&q, &Bytes::new())?;
    search_versions_inner(&s, req).await
}

async fn search_versions_post(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<SearchReq>,
) -> ApiResult {
    search_versions_inner(&s, req).await
}

async fn download_uri(
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

// ---- Gatehouse's v1 registry reads ----------------------------------------------------------

type V1Result = Result<Json<Value>, AppError>;

async fn v1_models(State(s): State<AppState>) -> V1Result {
    let models = registry::search_models(&s.pool, "%", false, 10_000, 0).await?;
    Ok(Json(json!({ "models": models })))
}

async fn v1_model(State(s): State<AppState>, Path(name): Path<String>) -> V1Result {
    let m = registry::get_model(&s.pool, &name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no registered model '{name}'")))?;
    let versions =
        registry::search_versions(&s.pool, &[VersionFilter::NameEq(name.clone())], 10_000, 0)
            .await?;
    let history = registry::alias_history(&s.pool, &name, None).await?;
    Ok(Json(
        json!({ "model": m, "versions": versions, "alias_history": history }),
    ))
}

/// A model's risk tier, which picks the promotion policy (`tier:<tier>`).
#[derive(Deserialize, schemars::JsonSchema)]
struct RiskTierReq {
    /// `low`, `medium` or `high`.
    risk_tier: String,
}

async fn v1_set_risk_tier(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
    JsonBody(req): JsonBody<RiskTierReq>,
) -> V1Result {
    ops::set_risk_tier(&s.pool, &p, &name, req.risk_tier.trim()).await?;
    Ok(Json(
        json!({ "name": name, "risk_tier": req.risk_tier.trim() }),
    ))
}

/// `at` as Unix ms, or any time form the audit filters take (RFC 3339, `YYYY-MM-DDTHH:MM` UTC,
/// `YYYY-MM-DD`), as the UI's look-up does.
fn parse_at(s: &str) -> Result<i64, AppError> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    app::domain::audit_query::parse_time_bound("at", s.trim())
        .map(|ts| app::store::promotions::ts_ms(&ts))
        .map_err(AppError::from)
}

async fn v1_alias_at(
    State(s): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> V1Result {
    if registry::get_model(&s.pool, &name).await?.is_none() {
        return Err(AppError::not_found(format!("no registered model '{name}'")));
    }
    let at = match q.get("at") {
        Some(a) => parse_at(a)?,
        None => now_ms(),
    };
    let m = registry::alias_at(&s.pool, &name, &alias, at).await?;
    let version = m.as_ref().and_then(|m| m.version);
    // What a deployment pipeline compares with what it downloaded.
    let bound = match version {
        Some(v) => {
            let mut conn = s.pool.acquire().await?;
            app::store::artifacts::bound_to_version(&mut conn, &name, v).await?
        }
        None => None,
    };
    Ok(Json(json!({
        "name": name,
        "alias": alias,
        "at": at,
        "version": version,
        "since": m.as_ref().map(|m| m.moved_at),
        "moved_by": m.as_ref().map(|m| m.moved_by.clone()),
        "promotion_id": m.as_ref().and_then(|m| m.promotion_id),
        "digest": bound.as_ref().map(|b| b.digest.clone()),
        "model_id": bound.as_ref().and_then(|b| b.model_id.clone()),
        "files": bound.as_ref().map(|b| b.manifest.len()),
    })))
}

async fn v1_alias_history(
    State(s): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
) -> V1Result {
    let moves = registry::alias_history(&s.pool, &name, Some(&alias)).await?;
    Ok(Json(
        json!({ "name": name, "alias": alias, "moves": moves }),
    ))
}

/// `GET /api/v1/models/{name}/versions/{version}/evidence-pack`: one JSON download with
/// everything a model version's promotion rests on: the version, its lineage, its training
/// run, the A/B tests it took part in, its fairness reports, its promotion requests with their
/// reviews and waivers, its alias moves, and the audit entries about all of these with their
/// inclusion proofs against one signed checkpoint (verifiable like an audit export).
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
async fn v1_evidence_pack(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((name, version)): Path<(String, String)>,
) -> Result<axum::response::Response, AppError> {
    use app::domain::audit_query::AuditFilterInput;
    use axum::response::IntoResponse;
    let version: i64 = version.parse().map_err(|_| {
        AppError::validation("version", format!("'{version}' is not a version number"))
    })?;
    let model = registry::get_model(&s.pool, &name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no registered model '{name}'")))?;
    let mv = registry::get_version(&s.pool, &name, version)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no version {version} of '{name}'")))?;
    let tag = format!("{name}@{version}");
    let node = app::domain::lineage::NodeRef::ModelVersion {
        name: name.clone(),
        version: version.to_string(),
    };
    let lineage = crate::lineage::graph_json(&s.pool, &node, 8, 2).await?;
    let run: Value = match &mv.run_id {
        Some(r) => app::store::tracking::runs_json(&s.pool, std::slice::from_ref(r))
            .await?
            .first()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or(Value::Null),
        None => Value::Null,
    };
    let test_ids = app::store::ab_tests::ids_comparing_version(&s.pool, &tag).await?;
    let mut ab_tests = Vec::new();
    for id in &test_ids {
        ab_tests.push(
            serde_json::to_value(app::service::ab_tests::view(&s, *id, None, false, false).await?)
                .unwrap_or_default(),
        );
    }
    let report_ids = app::store::fairness::ids_of_version(&s.pool, &tag).await?;
    let mut fairness = Vec::new();
    for id in &report_ids {
        if let Some((row, mapping, report)) = app::store::fairness::get(&s.pool, *id).await? {
            fairness.push(json!({ "report": row, "mapping": mapping, "result": report }));
        }
    }
    let mut promotions = Vec::new();
    let mut promotion_ids = Vec::new();
    for r in app::store::promotions::list_requests(&s.pool, None, Some(&name)).await? {
        if r.version == version {
            promotion_ids.push(r.request_id);
            promotions.push(app::service::promotions::view(&s.pool, &p, r.request_id).await?);
        }
    }
    let moves: Vec<_> = registry::alias_history(&s.pool, &name, None)
        .await?
        .into_iter()
        .filter(|m| m.version == Some(version) || m.previous_version == Some(version))
        .collect();
    let mut objects: Vec<(String, String)> = vec![
        ("model_version".into(), tag.clone()),
        ("registered_model".into(), name.clone()),
    ];
    objects.extend(
        promotion_ids
            .iter()
            .map(|i| ("promotion".into(), i.to_string())),
    );
    objects.extend(
        report_ids
            .iter()
            .map(|i| ("fairness_report".into(), i.to_string())),
    );
    objects.extend(test_ids.iter().map(|i| ("ab_test".into(), i.to_string())));
    if let Some(r) = &mv.run_id {
        objects.push(("run".into(), r.clone()));
    }
    // The model's bytes: the manifest its digest is over, and the latest re-hash.
    let artifacts = {
        let mut conn = s.pool.acquire().await?;
        match app::store::artifacts::bound_to_version(&mut conn, &name, version).await? {
            Some(b) => {
                let verified =
                    app::store::artifacts::latest_verification(&mut conn, &b.prefix, &b.digest)
                        .await?;
                if let Some(m) = &b.model_id {
                    objects.push(("logged_model".into(), m.clone()));
                }
                json!({
                    "source": b.source,
                    "model_id": b.model_id,
                    "digest": b.digest,
                    "sealed": b.sealed,
                    "manifest": b.manifest,
                    "manifest_format": "one line per file, sorted by path: path TAB size TAB sha256 LF; digest = sha256 of those lines",
                    "latest_verification": verified,
                })
            }
            None => Value::Null,
        }
    };
    let mut filters = Vec::new();
    for (t, id) in objects {
        let f = AuditFilterInput {
            object_type: Some(t),
            object_id: Some(id),
            ..Default::default()
        }
        .validate()?;
        filters.push(f);
    }
    let audit = app::service::audit_export::build_many(&s.pool, &filters).await?;
    let pack = json!({
        "format": "gatehouse.evidence-pack.v1",
        "generated_at": app::service::now_ts(),
        "generated_by": p.actor(),
        "model": model,
        "version": mv,
        "lineage": lineage,
        "run": run,
        "artifacts": artifacts,
        "ab_tests": ab_tests,
        "fairness_reports": fairness,
        "promotion_requests": promotions,
        "alias_history": moves,
        "audit": audit,
    });
    let body = serde_json::to_string_pretty(&pack).map_err(|_| AppError::internal())?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"evidence-{name}-v{version}.json\""),
            ),
        ],
        body,
    )
        .into_response())
}
