//! MLflow experiments over REST: create, get, search, update, delete, restore and tags.

use super::de_opt_i64;
use super::de_opt_string;
use super::experiment_json;
use super::invalid;
use super::page_offset;
use super::pairs;
use super::parse_id;
use super::required;
use super::stages;
use super::ApiResult;
use super::KeyValue;
use super::MlflowError;
use crate::extract::{Caller, JsonBody};
use app::domain::run_search::Op;
use app::error::AppError;
use app::service::auth::Principal;
use app::service::state::AppState;
use app::service::tracking::{self as ops};
use app::store::tracking;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct CreateExperiment {
    name: Option<String>,
    artifact_location: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

pub(super) async fn create_experiment(
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

pub(super) async fn get_experiment(
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

pub(super) async fn get_experiment_by_name(
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
pub(super) struct SearchExperiments {
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

pub(super) async fn search_experiments(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<SearchExperiments>,
) -> ApiResult {
    search_experiments_inner(s, req).await
}

pub(super) async fn search_experiments_get(
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
pub(super) struct ExperimentRef {
    #[serde(default, deserialize_with = "de_opt_string")]
    experiment_id: Option<String>,
    new_name: Option<String>,
    key: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    value: Option<String>,
}

pub(super) async fn update_experiment(
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

pub(super) async fn delete_experiment(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ExperimentRef>,
) -> ApiResult {
    experiment_stage(s, p, req, true).await
}

pub(super) async fn restore_experiment(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<ExperimentRef>,
) -> ApiResult {
    experiment_stage(s, p, req, false).await
}

pub(super) async fn set_experiment_tag(
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
