//! What a run logs over REST: metrics, params, tags, batches and dataset or model inputs.

use super::de_f64;
use super::de_opt_i64;
use super::invalid;
use super::pairs;
use super::required;
use super::run_id_of;
use super::ApiResult;
use super::KeyValue;
use super::RunRef;
use super::MAX_BATCH_ITEMS;
use super::MAX_BATCH_METRICS;
use super::MAX_BATCH_PARAMS;
use super::MAX_BATCH_TAGS;
use crate::extract::{Caller, JsonBody};
use app::service::auth::Principal;
use app::service::now_ms;
use app::service::state::AppState;
use app::service::tracking::{self as ops, Logged};
use app::store::logged_models::ModelMetric;
use app::store::tracking::{DatasetInput, MetricPoint};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct MetricIn {
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
pub(super) struct LogMetric {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(flatten)]
    metric: MetricIn,
}

/// Applies one logging request and its audit entry in one transaction.
pub(super) async fn log_metric(
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

pub(super) async fn log_param(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    log_one(s, p, req, true).await
}

pub(super) async fn set_tag(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RunRef>,
) -> ApiResult {
    log_one(s, p, req, false).await
}

pub(super) async fn delete_tag(
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
pub(super) struct LogBatch {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(default)]
    metrics: Vec<MetricIn>,
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

pub(super) async fn log_batch(
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
pub(super) struct DatasetIn {
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
pub(super) struct DatasetInputIn {
    #[serde(default)]
    tags: Vec<KeyValue>,
    dataset: DatasetIn,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct LogInputs {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(default)]
    datasets: Vec<DatasetInputIn>,
    /// MLflow 3: models the run used.
    #[serde(default)]
    models: Vec<ModelInputIn>,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct ModelInputIn {
    model_id: String,
}

pub(super) async fn log_inputs(
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
