//! Registered models over MLflow's REST API: create, read, update, tags, search, latest
//! versions and aliases (a protected alias is refused here: it moves only by promotion).

use super::model_with_latest;
use super::not_found_model;
use super::not_found_version;
use super::params;
use super::parse_version;
use super::required;
use super::version_json;
use super::ApiResult;
use crate::extract::{Caller, JsonBody};
use crate::mlflow::{de_opt_string, invalid, pairs, KeyValue, MlflowError};
use app::domain::promotion::valid_alias;
use app::error::AppError;
use app::service::registry as ops;
use app::service::state::AppState;
use app::store::promotions;
use app::store::registry::{self};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub(super) struct ModelReq {
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

pub(super) async fn create_model(
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

pub(super) async fn get_model(
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

pub(super) async fn update_model(
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

pub(super) async fn set_model_tag(
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

pub(super) async fn delete_model_tag(
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
pub(super) struct SearchReq {
    #[serde(default, deserialize_with = "de_opt_string")]
    pub(super) filter: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub(super) max_results: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub(super) page_token: Option<String>,
}

pub(super) fn limits(req: &SearchReq, default: i64, cap: i64) -> Result<(i64, i64), MlflowError> {
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
pub(super) fn parse_clauses(
    filter: &str,
) -> Result<Vec<(String, String, Vec<String>)>, MlflowError> {
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

pub(super) async fn search_models(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let req: SearchReq = params(&q, &Bytes::new())?;
    search_models_inner(&s, req).await
}

pub(super) async fn search_models_post(
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

pub(super) async fn latest_versions(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = required("name", &q.get("name").cloned())?.to_string();
    latest_versions_inner(&s, &name).await
}

pub(super) async fn latest_versions_post(
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

pub(super) async fn set_alias(
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

pub(super) async fn delete_alias(
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

pub(super) async fn get_by_alias(
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
pub(super) async fn refuse_rename() -> MlflowError {
    MlflowError(AppError::Forbidden {
        message: "Registered models cannot be renamed in Gatehouse: promotion records, fairness reports and A/B tests refer to them by name.".into(),
    })
}

/// Reached only signed in: the gate answers 401 first.
pub(super) async fn refuse_delete() -> MlflowError {
    MlflowError(AppError::Forbidden {
        message: "Registered models and versions cannot be deleted in Gatehouse: they are part of the record of what reached production.".into(),
    })
}

/// Reached only signed in: the gate answers 401 first.
pub(super) async fn refuse_stage() -> MlflowError {
    MlflowError(AppError::Forbidden {
        message: "Model stages are deprecated and not supported: use aliases (protected ones such as 'production' through a promotion request).".into(),
    })
}
