//! A run's MLflow document written by serde from a [`Run`], key for key as SQLite's
//! [`super::RUN_JSON`] builds it: PostgreSQL's runs ([`super::run_rows`]) are sent so.

use super::Run;
use serde::Serialize;

/// A run as MLflow's REST API spells it (the shape of [`super::RUN_JSON`]).
#[derive(Serialize)]
pub(super) struct RunDoc<'r> {
    info: InfoDoc<'r>,
    data: DataDoc<'r>,
    inputs: InputsDoc<'r>,
}

#[derive(Serialize)]
struct InfoDoc<'r> {
    run_id: &'r str,
    run_uuid: &'r str,
    run_name: &'r str,
    experiment_id: String,
    user_id: &'r str,
    status: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<i64>,
    artifact_uri: &'r str,
    lifecycle_stage: &'r str,
}

#[derive(Serialize)]
struct KvDoc<'r> {
    key: &'r str,
    value: &'r str,
}

/// A metric value: a number, or `NaN`, `Infinity` or `-Infinity` as a string, as in MLflow.
#[derive(Serialize)]
#[serde(untagged)]
enum DoubleDoc {
    Number(f64),
    Text(&'static str),
}

impl From<f64> for DoubleDoc {
    fn from(v: f64) -> Self {
        match v {
            v if v.is_nan() => DoubleDoc::Text("NaN"),
            f64::INFINITY => DoubleDoc::Text("Infinity"),
            f64::NEG_INFINITY => DoubleDoc::Text("-Infinity"),
            v => DoubleDoc::Number(v),
        }
    }
}

#[derive(Serialize)]
struct MetricDoc<'r> {
    key: &'r str,
    value: DoubleDoc,
    timestamp: i64,
    step: i64,
}

#[derive(Serialize)]
struct DataDoc<'r> {
    metrics: Vec<MetricDoc<'r>>,
    params: Vec<KvDoc<'r>>,
    tags: Vec<KvDoc<'r>>,
}

#[derive(Serialize)]
struct DatasetDoc<'r> {
    name: &'r str,
    digest: &'r str,
    source_type: &'r str,
    source: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'r str>,
}

#[derive(Serialize)]
struct InputDoc<'r> {
    tags: Vec<KvDoc<'r>>,
    dataset: DatasetDoc<'r>,
}

#[derive(Serialize)]
struct InputsDoc<'r> {
    dataset_inputs: Vec<InputDoc<'r>>,
}

fn kvs<'r>(pairs: impl IntoIterator<Item = (&'r String, &'r String)>) -> Vec<KvDoc<'r>> {
    pairs
        .into_iter()
        .map(|(key, value)| KvDoc { key, value })
        .collect()
}

impl<'r> From<&'r Run> for RunDoc<'r> {
    fn from(run: &'r Run) -> Self {
        let i = &run.info;
        RunDoc {
            info: InfoDoc {
                run_id: &i.run_uuid,
                run_uuid: &i.run_uuid,
                run_name: &i.run_name,
                experiment_id: i.experiment_id.to_string(),
                user_id: &i.user_id,
                status: &i.status,
                start_time: i.start_time,
                end_time: i.end_time,
                artifact_uri: &i.artifact_uri,
                lifecycle_stage: &i.lifecycle_stage,
            },
            data: DataDoc {
                metrics: run
                    .metrics
                    .iter()
                    .map(|m| MetricDoc {
                        key: &m.key,
                        value: m.value.into(),
                        timestamp: m.timestamp,
                        step: m.step,
                    })
                    .collect(),
                params: kvs(&run.params),
                tags: kvs(&run.tags),
            },
            inputs: InputsDoc {
                dataset_inputs: run
                    .inputs
                    .iter()
                    .map(|d| InputDoc {
                        tags: kvs(d.tags.iter().map(|(k, v)| (k, v))),
                        dataset: DatasetDoc {
                            name: &d.name,
                            digest: &d.digest,
                            source_type: &d.source_type,
                            source: &d.source,
                            schema: d.schema.as_deref(),
                            profile: d.profile.as_deref(),
                        },
                    })
                    .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tracking::{DatasetInput, MetricPoint, RunInfo};

    #[test]
    fn a_run_document_matches_mlflows_shape() {
        let run = Run {
            info: RunInfo {
                run_uuid: "a1".into(),
                experiment_id: 7,
                run_name: "first".into(),
                user_id: "ada".into(),
                status: "RUNNING".into(),
                start_time: Some(1_700_000_000_000),
                end_time: None,
                artifact_uri: "mlflow-artifacts:/7/a1/artifacts".into(),
                lifecycle_stage: "active".into(),
            },
            metrics: [
                ("auc", 0.25),
                ("gap", f64::NAN),
                ("hi", f64::INFINITY),
                ("lo", f64::NEG_INFINITY),
            ]
            .into_iter()
            .map(|(key, value)| MetricPoint {
                key: key.into(),
                value,
                timestamp: 5,
                step: 2,
            })
            .collect(),
            params: [("lr".to_string(), "0.1".to_string())].into(),
            tags: [("mlflow.user".to_string(), "ada".to_string())].into(),
            inputs: vec![DatasetInput {
                name: "train".into(),
                digest: "d1".into(),
                source_type: "local".into(),
                source: "{}".into(),
                schema: None,
                profile: Some("{\"rows\": 3}".into()),
                tags: vec![("mlflow.data.context".into(), "training".into())],
            }],
        };
        let doc: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&RunDoc::from(&run)).unwrap()).unwrap();
        let metric = |key: &str, value: serde_json::Value| serde_json::json!({ "key": key, "value": value, "timestamp": 5, "step": 2 });
        assert_eq!(
            doc,
            serde_json::json!({
                "info": {
                    "run_id": "a1", "run_uuid": "a1", "run_name": "first", "experiment_id": "7",
                    "user_id": "ada", "status": "RUNNING", "start_time": 1_700_000_000_000_i64,
                    "artifact_uri": "mlflow-artifacts:/7/a1/artifacts", "lifecycle_stage": "active",
                },
                "data": {
                    "metrics": [
                        metric("auc", 0.25.into()), metric("gap", "NaN".into()),
                        metric("hi", "Infinity".into()), metric("lo", "-Infinity".into()),
                    ],
                    "params": [{ "key": "lr", "value": "0.1" }],
                    "tags": [{ "key": "mlflow.user", "value": "ada" }],
                },
                "inputs": { "dataset_inputs": [{
                    "tags": [{ "key": "mlflow.data.context", "value": "training" }],
                    "dataset": {
                        "name": "train", "digest": "d1", "source_type": "local", "source": "{}",
                        "profile": "{\"rows\": 3}",
                    },
                }] },
            })
        );
    }
}
