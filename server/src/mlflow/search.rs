//! `runs/search` (MLflow's filter and order grammar) and metric histories.

use super::de_opt_i64;
use super::de_opt_string;
use super::invalid;
use super::metric_json;
use super::page_offset;
use super::run_id_of;
use super::stages;
use super::ApiResult;
use super::MlflowError;
use super::MAX_RESULTS_RUNS;
use crate::extract::JsonBody;
use app::domain::run_search::{parse_filter, parse_order_by, OrderBy};
use app::error::AppError;
use app::service::state::AppState;
use app::store::tracking;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct SearchRuns {
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

pub(super) async fn search_runs(
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
    // The runs arrive as JSON (`tracking::RUN_JSON` on SQLite, serde on PostgreSQL); the page
    // only joins them.
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

pub(super) async fn get_metric_history(
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
