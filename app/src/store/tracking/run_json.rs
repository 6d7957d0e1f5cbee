//! A run as MLflow's REST API spells it, built by SQLite itself ([`RUN_JSON`]), and read
//! back into [`Run`] for the pages, so the pages and the API share one definition of a run.
//! PostgreSQL reads rows and writes the same document in Rust ([`super::run_rows`]).

use super::DatasetInput;
use super::MetricPoint;
use super::Run;
use super::RunInfo;
use crate::store::{Db, Pool};
use serde::Deserialize;
use sqlx::QueryBuilder;
use std::collections::HashMap;

fn in_list<'a>(q: &mut QueryBuilder<'a, Db>, ids: &'a [String]) {
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id.as_str());
    }
    q.push(")");
}

/// SQL for one run (table alias `r`) as MLflow's REST API spells it: `{info, data: {metrics,
/// params, tags}, inputs: {dataset_inputs}}`.
///
/// SQLite builds the JSON itself, so the API neither parses aggregated rows nor serialises
/// structs; on a 100-run `runs/search` page that halves the work outside SQLite. Absent optional
/// fields are left out rather than sent as `null` (a JSON merge patch onto `{}` drops them),
/// metric values carry 17 significant digits, which round-trips every f64, and non-finite values
/// are the strings `NaN`, `Infinity` and `-Infinity`, as in MLflow.
pub const RUN_JSON: &str = "json_object(\
 'info', json_patch('{}', json_object('run_id', r.run_uuid, 'run_uuid', r.run_uuid, 'run_name', r.run_name, \
   'experiment_id', CAST(r.experiment_id AS TEXT), 'user_id', r.user_id, 'status', r.status, \
   'start_time', r.start_time, 'end_time', r.end_time, 'artifact_uri', r.artifact_uri, 'lifecycle_stage', r.lifecycle_stage)), \
 'data', json_object(\
   'metrics', (SELECT json_group_array(json_object('key', m.key, 'value', json(CASE WHEN m.is_nan THEN '\"NaN\"' \
        WHEN m.value > 1.7976931348623157e308 THEN '\"Infinity\"' WHEN m.value < -1.7976931348623157e308 THEN '\"-Infinity\"' \
        ELSE printf('%!.17g', m.value) END), 'timestamp', m.timestamp, 'step', m.step)) \
      FROM (SELECT * FROM latest_metrics WHERE run_uuid = r.run_uuid ORDER BY key) m), \
   'params', (SELECT json_group_array(json_object('key', key, 'value', value)) FROM (SELECT key, value FROM params WHERE run_uuid = r.run_uuid ORDER BY key)), \
   'tags', (SELECT json_group_array(json_object('key', key, 'value', value)) FROM (SELECT key, value FROM run_tags WHERE run_uuid = r.run_uuid ORDER BY key))), \
 'inputs', json_object('dataset_inputs', (SELECT json_group_array(json_object(\
     'tags', (SELECT json_group_array(json_object('key', t.value ->> 0, 'value', t.value ->> 1)) FROM json_each(x.tags) t), \
     'dataset', json_patch('{}', json_object('name', x.name, 'digest', x.digest, 'source_type', x.source_type, \
        'source', x.source, 'schema', x.schema, 'profile', x.profile)))) \
   FROM (SELECT i.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile FROM run_inputs i \
         JOIN datasets d ON d.dataset_id = i.dataset_id WHERE i.run_uuid = r.run_uuid ORDER BY d.name, d.digest) x)))";

/// A run as [`RUN_JSON`] spells it, read back for the pages.
#[derive(Deserialize)]
struct RunJson {
    info: RunInfoJson,
    data: RunDataJson,
    inputs: InputsJson,
}

#[derive(Deserialize)]
struct RunInfoJson {
    run_uuid: String,
    experiment_id: String,
    run_name: String,
    user_id: String,
    status: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
    artifact_uri: String,
    lifecycle_stage: String,
}

#[derive(Deserialize)]
struct KvJson {
    key: String,
    value: String,
}

/// A metric value: a number, or `NaN`, `Infinity` or `-Infinity` as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum DoubleJson {
    Number(f64),
    Text(String),
}

#[derive(Deserialize)]
struct MetricJson {
    key: String,
    value: DoubleJson,
    timestamp: i64,
    step: i64,
}

#[derive(Deserialize)]
struct RunDataJson {
    metrics: Vec<MetricJson>,
    params: Vec<KvJson>,
    tags: Vec<KvJson>,
}

#[derive(Deserialize)]
struct DatasetJson {
    name: String,
    digest: String,
    source_type: String,
    source: String,
    schema: Option<String>,
    profile: Option<String>,
}

#[derive(Deserialize)]
struct DatasetInputJson {
    tags: Vec<KvJson>,
    dataset: DatasetJson,
}

#[derive(Deserialize)]
struct InputsJson {
    dataset_inputs: Vec<DatasetInputJson>,
}

impl From<RunJson> for Run {
    fn from(j: RunJson) -> Run {
        let i = j.info;
        Run {
            info: RunInfo {
                run_uuid: i.run_uuid,
                experiment_id: i.experiment_id.parse().unwrap_or_default(),
                run_name: i.run_name,
                user_id: i.user_id,
                status: i.status,
                start_time: i.start_time,
                end_time: i.end_time,
                artifact_uri: i.artifact_uri,
                lifecycle_stage: i.lifecycle_stage,
            },
            metrics: j
                .data
                .metrics
                .into_iter()
                .map(|m| MetricPoint {
                    key: m.key,
                    value: match m.value {
                        DoubleJson::Number(v) => v,
                        DoubleJson::Text(t) => match t.as_str() {
                            "Infinity" => f64::INFINITY,
                            "-Infinity" => f64::NEG_INFINITY,
                            _ => f64::NAN,
                        },
                    },
                    timestamp: m.timestamp,
                    step: m.step,
                })
                .collect(),
            params: j
                .data
                .params
                .into_iter()
                .map(|p| (p.key, p.value))
                .collect(),
            tags: j.data.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            inputs: j
                .inputs
                .dataset_inputs
                .into_iter()
                .map(|d| DatasetInput {
                    name: d.dataset.name,
                    digest: d.dataset.digest,
                    source_type: d.dataset.source_type,
                    source: d.dataset.source,
                    schema: d.dataset.schema,
                    profile: d.dataset.profile,
                    tags: d.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                })
                .collect(),
        }
    }
}

/// Full runs (metrics, params, tags, inputs) for the given ids, in the given order: on SQLite
/// the API's JSON ([`runs_json`], one statement) read back, so the pages and the API share one
/// definition of a run; on PostgreSQL the rows the API's JSON is written from.
pub async fn load_runs(pool: &Pool, ids: &[String]) -> Result<Vec<Run>, sqlx::Error> {
    if crate::store::backend(pool) == crate::store::Backend::Postgres {
        return super::run_rows::load_runs_rows(pool, ids).await;
    }
    runs_json(pool, ids)
        .await?
        .iter()
        .map(|json| {
            serde_json::from_str::<RunJson>(json)
                .map(Run::from)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))
        })
        .collect()
}

/// Runs in MLflow's JSON shape for the given ids, in the given order (missing ids are skipped).
pub async fn runs_json(pool: &Pool, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    if crate::store::backend(pool) == crate::store::Backend::Postgres {
        return super::run_rows::runs_json_rows(pool, ids).await;
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::new(format!(
        "SELECT r.run_uuid, {RUN_JSON} FROM runs r WHERE r.run_uuid IN ("
    ));
    in_list(&mut q, ids);
    let mut found: HashMap<String, String> =
        crate::store::sql::fetch_all_as::<(String, String), _>(&mut q, pool)
            .await?
            .into_iter()
            .collect();
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}
