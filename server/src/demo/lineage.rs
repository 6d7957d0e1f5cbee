//! The demo's data pipeline (`fixtures/demo/lineage.yaml`), sent through the OpenLineage
//! endpoint as an Airflow deployment would send it: each job run is a START event and then a
//! COMPLETE (or FAIL) event, its datasets with their schema, column lineage and version facets.

use super::{fixture, send, with_token};
use app::error::AppError;
use app::store;
use axum::http::StatusCode;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const FIXTURE: &str = include_str!("../../fixtures/demo/lineage.yaml");

#[derive(Deserialize)]
struct Fixture {
    producer: String,
    job_namespace: String,
    namespaces: BTreeMap<String, String>,
    schemas: BTreeMap<String, Vec<(String, String)>>,
    datasets: BTreeMap<String, Dataset>,
    runs: Vec<JobRun>,
}

#[derive(Deserialize)]
struct Dataset {
    namespace: String,
    name: String,
    #[serde(default)]
    schema: Option<String>,
    /// (output column, input namespace, input table, input column).
    #[serde(default)]
    column_lineage: Vec<(String, String, String, String)>,
    #[serde(default)]
    version: Option<String>,
}

/// One run of a job: START then COMPLETE (or FAIL with an error message).
#[derive(Deserialize)]
struct JobRun {
    job: String,
    start: String,
    end: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    #[serde(default)]
    failure: Option<String>,
    /// The MLflow experiment whose first run this job run is.
    #[serde(default)]
    training_run: Option<String>,
}

const SCHEMA_FACET: &str = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json";
const COLUMNS_FACET: &str =
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json";
const VERSION_FACET: &str =
    "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json";
const JOB_TYPE_FACET: &str = "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json";
const ERROR_FACET: &str = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json";
const MLFLOW_FACET: &str = "https://gatehouse.dev/spec/facets/MlflowRunFacet.json";
const RUN_EVENT: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent";

/// Seeds the pipeline through the OpenLineage endpoint. Skipped when lineage already exists.
pub async fn seed_lineage(router: &Router, pool: &app::store::Pool) -> Result<(), AppError> {
    if store::lineage::event_count(pool).await? > 0 {
        return Ok(());
    }
    let demo: Fixture = fixture("lineage.yaml", FIXTURE)?;
    let mut training_runs = BTreeMap::new();
    for r in &demo.runs {
        if let Some(exp) = &r.training_run {
            let first = store::tracking::run_ids_of_experiment(pool, exp)
                .await?
                .into_iter()
                .next();
            training_runs.insert(exp.clone(), first);
        }
    }
    with_token(pool, "scientist", "demo-lineage", |token| async move {
        for (n, r) in demo.runs.iter().enumerate() {
            let mlflow_run = r
                .training_run
                .as_ref()
                .and_then(|exp| training_runs.get(exp).cloned().flatten());
            let events = demo.events(r, n + 1, mlflow_run.as_deref())?;
            for event in events {
                send(
                    router,
                    &token,
                    "/api/v1/lineage",
                    &event,
                    StatusCode::CREATED,
                )
                .await?;
            }
        }
        Ok(())
    })
    .await
}

impl Fixture {
    fn namespace(&self, short: &str) -> Result<&str, AppError> {
        self.namespaces
            .get(short)
            .map(String::as_str)
            .ok_or_else(|| {
                tracing::error!(namespace = short, "lineage.yaml names an unknown namespace");
                AppError::internal()
            })
    }

    /// A dataset as an event carries it, with its facets.
    fn dataset(&self, id: &str) -> Result<Value, AppError> {
        let d = self.datasets.get(id).ok_or_else(|| {
            tracing::error!(dataset = id, "lineage.yaml names an unknown dataset");
            AppError::internal()
        })?;
        let producer = &self.producer;
        let mut facets = Map::new();
        if let Some(schema) = &d.schema {
            let fields: Vec<Value> = self
                .schemas
                .get(schema)
                .ok_or_else(|| {
                    tracing::error!(schema, "lineage.yaml names an unknown schema");
                    AppError::internal()
                })?
                .iter()
                .map(|(n, t)| json!({ "name": n, "type": t }))
                .collect();
            facets.insert(
                "schema".into(),
                json!({ "_producer": producer, "_schemaURL": SCHEMA_FACET, "fields": fields }),
            );
        }
        if !d.column_lineage.is_empty() {
            let mut fields = Map::new();
            for (out, ns, name, input) in &d.column_lineage {
                let entry = fields
                    .entry(out.clone())
                    .or_insert_with(|| json!({ "inputFields": [] }));
                if let Some(list) = entry["inputFields"].as_array_mut() {
                    list.push(
                        json!({ "namespace": self.namespace(ns)?, "name": name, "field": input }),
                    );
                }
            }
            facets.insert(
                "columnLineage".into(),
                json!({ "_producer": producer, "_schemaURL": COLUMNS_FACET, "fields": fields }),
            );
        }
        if let Some(version) = &d.version {
            facets.insert(
                "version".into(),
                json!({ "_producer": producer, "_schemaURL": VERSION_FACET, "datasetVersion": version }),
            );
        }
        Ok(json!({ "namespace": self.namespace(&d.namespace)?, "name": d.name, "facets": facets }))
    }

    fn datasets(&self, ids: &[String]) -> Result<Vec<Value>, AppError> {
        ids.iter().map(|id| self.dataset(id)).collect()
    }

    /// The START and COMPLETE (or FAIL) events of the `n`th job run.
    fn events(
        &self,
        r: &JobRun,
        n: usize,
        mlflow_run: Option<&str>,
    ) -> Result<[Value; 2], AppError> {
        let producer = &self.producer;
        let run_id = format!("d3e0a1b2-0000-4000-8000-{n:012x}");
        let mut facets = json!({});
        if let Some(id) = mlflow_run {
            facets["mlflow"] =
                json!({ "_producer": producer, "_schemaURL": MLFLOW_FACET, "runId": id });
        }
        let job = json!({ "namespace": self.job_namespace, "name": r.job, "facets": {
            "jobType": { "_producer": producer, "_schemaURL": JOB_TYPE_FACET,
                "processingType": "BATCH", "integration": "AIRFLOW", "jobType": "TASK" } } });
        let inputs = self.datasets(&r.inputs)?;
        let event = |event_type: &str, time: &str, outputs: Vec<Value>, facets: Value| {
            json!({ "eventType": event_type, "eventTime": time, "producer": producer,
                "schemaURL": RUN_EVENT, "run": { "runId": run_id, "facets": facets },
                "job": job, "inputs": inputs, "outputs": outputs })
        };
        let start = event("START", &r.start, Vec::new(), facets.clone());
        let end = match &r.failure {
            None => event("COMPLETE", &r.end, self.datasets(&r.outputs)?, facets),
            Some(message) => {
                let mut f = facets;
                f["errorMessage"] = json!({ "_producer": producer, "_schemaURL": ERROR_FACET,
                    "message": message, "programmingLanguage": "python" });
                event("FAIL", &r.end, Vec::new(), f)
            }
        };
        Ok([start, end])
    }
}
