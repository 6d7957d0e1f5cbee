//! `logged-models/search`: MLflow's filter grammar over logged models (evaluated in memory on
//! an experiment's models, see `app::domain::logged_models`), `order_by` on attributes and
//! metrics, and paging by offset.

use super::{experiment_id, model_json, ApiResult};
use crate::artifacts::ArtifactError;
use crate::extract::JsonBody;
use crate::mlflow::de_opt_i64;
use app::domain::logged_models::{matches, Candidate, ModelAttribute};
use app::domain::run_search::{parse_filter_for, Attributes};
use app::error::AppError;
use app::service::state::AppState;
use app::store::logged_models::{self, LoggedModel};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Most models one search page returns.
const MAX_SEARCH_RESULTS: usize = 1000;

#[derive(Deserialize, schemars::JsonSchema)]
struct OrderReq {
    field_name: String,
    #[serde(default = "yes")]
    ascending: bool,
}

fn yes() -> bool {
    true
}

/// MLflow's `logged-models/search` request.
#[derive(Deserialize, schemars::JsonSchema)]
#[schemars(rename = "LoggedModelSearch")]
pub(super) struct SearchReq {
    #[serde(default)]
    experiment_ids: Vec<Value>,
    filter: Option<String>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    max_results: Option<i64>,
    #[serde(default)]
    order_by: Vec<OrderReq>,
    page_token: Option<String>,
}

pub(super) async fn search(
    State(s): State<AppState>,
    JsonBody(req): JsonBody<SearchReq>,
) -> ApiResult {
    if req.experiment_ids.is_empty() {
        return Err(ArtifactError(AppError::validation(
            "experiment_ids",
            "at least one experiment id is required",
        )));
    }
    let ids = req
        .experiment_ids
        .iter()
        .enumerate()
        .map(|(i, v)| experiment_id(&format!("experiment_ids[{i}]"), v))
        .collect::<Result<Vec<_>, _>>()?;
    let clauses = parse_filter_for::<ModelAttribute>(req.filter.as_deref().unwrap_or(""))
        .map_err(|e| ArtifactError(AppError::validation("filter", e)))?;
    let max = match req.max_results {
        None => 100,
        Some(n) if n >= 1 && n as usize <= MAX_SEARCH_RESULTS => n as usize,
        Some(n) => {
            return Err(ArtifactError(AppError::validation(
                "max_results",
                format!("max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {n}"),
            )))
        }
    };
    let offset: usize = match req.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| ArtifactError(AppError::validation("page_token", "invalid page token")))?,
    };
    let mut conn = s.pool.acquire().await?;
    let all = logged_models::in_experiments(&mut conn, &ids).await?;
    let mut hits: Vec<&LoggedModel> = all
        .iter()
        .filter(|m| matches(&clauses, &candidate(m)))
        .collect();
    for o in req.order_by.iter().rev() {
        let key = order_key(&o.field_name)?;
        hits.sort_by(|a, b| {
            let ord = key.compare(a, b);
            if o.ascending {
                ord
            } else {
                ord.reverse()
            }
        });
    }
    let page: Vec<&LoggedModel> = hits.iter().skip(offset).take(max).copied().collect();
    let mut models = Vec::with_capacity(page.len());
    for m in &page {
        let regs = logged_models::registered_versions(&mut conn, &m.model_id).await?;
        models.push(model_json(m, &regs));
    }
    let mut out = json!({ "models": models });
    if offset + page.len() < hits.len() {
        out["next_page_token"] = json!((offset + page.len()).to_string());
    }
    Ok(Json(out))
}

fn candidate(m: &LoggedModel) -> Candidate<'_> {
    let mut metrics = HashMap::new();
    // Points are ordered by key, step, timestamp: the last one per key is the latest.
    for x in &m.metrics {
        metrics.insert(x.point.key.as_str(), x.point.value);
    }
    Candidate {
        model_id: &m.model_id,
        name: &m.name,
        model_type: &m.model_type,
        status: &m.status,
        source_run_id: m.source_run_id.as_deref().unwrap_or(""),
        creation_timestamp: m.creation_time,
        last_updated_timestamp: m.last_updated_time,
        tags: m
            .tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        params: m
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        metrics,
    }
}

enum OrderKey {
    Attribute(ModelAttribute),
    Metric(String),
}

impl OrderKey {
    fn compare(&self, a: &LoggedModel, b: &LoggedModel) -> std::cmp::Ordering {
        match self {
            OrderKey::Metric(k) => {
                let latest = |m: &LoggedModel| {
                    m.metrics
                        .iter()
                        .rev()
                        .find(|x| &x.point.key == k)
                        .map(|x| x.point.value)
                };
                // Models without the metric sort last either way round, as in MLflow.
                match (latest(a), latest(b)) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            }
            OrderKey::Attribute(at) => {
                let (ca, cb) = (candidate(a), candidate(b));
                match at {
                    ModelAttribute::CreationTimestamp => {
                        ca.creation_timestamp.cmp(&cb.creation_timestamp)
                    }
                    ModelAttribute::LastUpdatedTimestamp => {
                        ca.last_updated_timestamp.cmp(&cb.last_updated_timestamp)
                    }
                    ModelAttribute::Name => ca.name.cmp(cb.name),
                    ModelAttribute::ModelId => ca.model_id.cmp(cb.model_id),
                    ModelAttribute::ModelType => ca.model_type.cmp(cb.model_type),
                    ModelAttribute::Status => ca.status.cmp(cb.status),
                    ModelAttribute::SourceRunId => ca.source_run_id.cmp(cb.source_run_id),
                }
            }
        }
    }
}

fn order_key(field: &str) -> Result<OrderKey, ArtifactError> {
    if let Some(k) = field.strip_prefix("metrics.") {
        return Ok(OrderKey::Metric(k.to_string()));
    }
    let name = field.strip_prefix("attributes.").unwrap_or(field);
    ModelAttribute::parse(name)
        .map(OrderKey::Attribute)
        .ok_or_else(|| {
            ArtifactError(AppError::validation(
                "order_by",
                format!(
                    "cannot order by `{field}`: use metrics.<key> or one of {}",
                    ModelAttribute::ALL_NAMES
                ),
            ))
        })
}
