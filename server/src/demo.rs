//! Demo tracking data: two experiments with 40 runs, sent through the MLflow-compatible REST
//! API exactly as the MLflow client would send them, with a demo scientist's API token that is
//! revoked afterwards. Deterministic: a fixed seed and fixed timestamps.

use app::error::AppError;
use app::service::accounts;
use app::store::{self, tracking};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

/// xorshift64*: small, fast and stable across crate versions, so the demo never changes.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn noise(&mut self, scale: f64) -> f64 {
        (self.next_f64() - 0.5) * 2.0 * scale
    }
}

/// Sends one demo request through the router, as a client would, and expects `expected`.
pub(crate) async fn send(
    router: &Router,
    token: &str,
    path: &str,
    body: &Value,
    expected: StatusCode,
) -> Result<Value, AppError> {
    let req = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .map_err(|_| AppError::internal())?;
    let res = router
        .clone()
        .oneshot(req)
        .await
        .map_err(|_| AppError::internal())?;
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .map_err(|_| AppError::internal())?;
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status != expected {
        tracing::error!(%path, %status, body = %v, "demo request failed");
        return Err(AppError::internal());
    }
    Ok(v)
}

async fn call(router: &Router, token: &str, path: &str, body: Value) -> Result<Value, AppError> {
    send(
        router,
        token,
        &format!("/api/2.0/mlflow/{path}"),
        &body,
        StatusCode::OK,
    )
    .await
}

/// 2026-10-01T08:00:00Z in milliseconds: demo runs start from here.
const BASE_MS: i64 = 1_790_841_600_000;

struct Spec {
    experiment: &'static str,
    description: &'static str,
    dataset: (&'static str, &'static str, &'static str),
    runs: Vec<Vec<(&'static str, String)>>,
    quality: fn(&[(&'static str, String)]) -> f64,
}

fn credit_runs() -> Vec<Vec<(&'static str, String)>> {
    let mut v = Vec::new();
    for lr in ["0.3", "0.1", "0.03", "0.01"] {
        for depth in ["4", "6", "8"] {
            for n in ["200", "400"] {
                v.push(vec![
                    ("model", "xgboost".to_string()),
                    ("learning_rate", lr.to_string()),
                    ("max_depth", depth.to_string()),
                    ("n_estimators", n.to_string()),
                    ("subsample", "0.8".to_string()),
                    ("class_weight", "balanced".to_string()),
                ]);
            }
        }
    }
    v
}

fn credit_quality(p: &[(&'static str, String)]) -> f64 {
    let get = |k: &str| {
        p.iter()
            .find(|(key, _)| *key == k)
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let lr = get("learning_rate");
    let depth = get("max_depth");
    let n = get("n_estimators");
    // Best near lr 0.03, depth 6, more trees: a plausible response surface.
    0.86 - (lr.log10() + 1.5).powi(2) * 0.03 - (depth - 6.0).powi(2) * 0.004
        + (n - 200.0) / 200.0 * 0.006
}

fn churn_runs() -> Vec<Vec<(&'static str, String)>> {
    let mut v = Vec::new();
    for model in ["logistic_regression", "random_forest"] {
        for c in ["0.1", "1.0"] {
            for window in ["30d", "60d", "90d", "180d"] {
                v.push(vec![
                    ("model", model.to_string()),
                    ("regularisation", c.to_string()),
                    ("feature_window", window.to_string()),
                    ("features", "usage,billing,support".to_string()),
                ]);
            }
        }
    }
    v
}

fn churn_quality(p: &[(&'static str, String)]) -> f64 {
    let get = |k: &str| {
        p.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let base = if get("model") == "random_forest" {
        0.79
    } else {
        0.75
    };
    let window = match get("feature_window") {
        "30d" => -0.02,
        "60d" => 0.0,
        "90d" => 0.01,
        _ => 0.004,
    };
    base + window
        + if get("regularisation") == "1.0" {
            0.005
        } else {
            0.0
        }
}

/// Seeds the demo experiments through the REST API; skipped when any experiment besides
/// `Default` already exists.
pub async fn seed_tracking(router: &Router, pool: &sqlx::SqlitePool) -> Result<(), AppError> {
    let existing = store::tracking::experiment_count(pool).await?;
    if existing > 0 {
        return Ok(());
    }
    let token = accounts::create_token(
        pool,
        "system:demo",
        "scientist",
        "demo-ingest",
        accounts::Issue::operator(),
    )
    .await?;
    let result = send_demo(router, &token.token).await;
    // The token existed only for this ingestion: revoke it whatever happened.
    accounts::revoke_token(pool, "system:demo", token.id).await?;
    result
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
async fn send_demo(router: &Router, token: &str) -> Result<(), AppError> {
    let specs = [
        Spec {
            experiment: "credit-default",
            description: "Gradient-boosted trees predicting 12-month default on consumer loans.",
            dataset: (
                "credit-applications-2026q3",
                "8f14e45f",
                "s3://northwind-risk/credit/applications/2026-09-30.parquet",
            ),
            runs: credit_runs(),
            quality: credit_quality,
        },
        Spec {
            experiment: "churn-prediction",
            description: "Monthly churn propensity for subscription customers.",
            dataset: (
                "subscriber-activity-2026-09",
                "c9f0f895",
                "s3://northwind-growth/churn/activity/2026-09.parquet",
            ),
            runs: churn_runs(),
            quality: churn_quality,
        },
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut clock = BASE_MS;
    for spec in specs {
        let exp = call(router, token, "experiments/create", json!({ "name": spec.experiment, "tags": [{ "key": "mlflow.note.content", "value": spec.description }] })).await?;
        let exp_id = exp["experiment_id"].clone();
        let mut first_run = None;
        for (i, params) in spec.runs.iter().enumerate() {
            let quality = (spec.quality)(params) + rng.noise(0.004);
            let start = clock;
            clock += 37 * 60 * 1000 + (rng.next_f64() * 20.0 * 60_000.0) as i64;
            let run = call(
                router,
                token,
                "runs/create",
                json!({ "experiment_id": exp_id, "run_name": format!("{}-{:02}", spec.experiment.split('-').next().unwrap_or("run"), i + 1), "user_id": "scientist", "start_time": start,
                    "tags": [{ "key": "mlflow.source.git.commit", "value": format!("{:07x}", (rng.next_f64() * 2.68e8) as u64) },
                             { "key": "mlflow.source.name", "value": "train.py" },
                             { "key": "team", "value": if spec.experiment.starts_with("credit") { "risk" } else { "growth" } }] }),
            )
            .await?;
            let run_id = run["run"]["info"]["run_id"].clone();
            first_run.get_or_insert_with(|| run_id.clone());
            let params_json: Vec<Value> = params
                .iter()
                .map(|(k, v)| json!({ "key": k, "value": v }))
                .collect();
            call(
                router,
                token,
                "runs/log-batch",
                json!({ "run_id": run_id, "params": params_json }),
            )
            .await?;
            call(
                router,
                token,
                "runs/log-inputs",
                json!({ "run_id": run_id, "datasets": [{ "tags": [{ "key": "mlflow.data.context", "value": "training" }],
                    "dataset": { "name": spec.dataset.0, "digest": spec.dataset.1, "source_type": "s3", "source": json!({ "uri": spec.dataset.2 }).to_string() } }] }),
            )
            .await?;
            // Loss curves over 30 epochs that converge towards the run's quality.
            let mut points = Vec::new();
            for step in 0..30i64 {
                let t = start + step * 45_000;
                let decay = (-(step as f64) / 7.0).exp();
                let train = (1.0 - quality) * 0.9 + 0.55 * decay + rng.noise(0.006);
                let val = (1.0 - quality) + 0.5 * decay + rng.noise(0.01);
                points.push(
                    json!({ "key": "train_loss", "value": train, "timestamp": t, "step": step }),
                );
                points
                    .push(json!({ "key": "val_loss", "value": val, "timestamp": t, "step": step }));
            }
            let end = start + 30 * 45_000;
            let auc = quality.min(0.999);
            let precision = (auc - 0.12 + rng.noise(0.01)).clamp(0.0, 1.0);
            let recall = (auc - 0.16 + rng.noise(0.015)).clamp(0.0, 1.0);
            for (k, v) in [
                ("auc", auc),
                ("accuracy", (auc + 0.05 + rng.noise(0.005)).min(0.999)),
                ("precision", precision),
                ("recall", recall),
                ("f1", 2.0 * precision * recall / (precision + recall)),
                ("log_loss", (1.0 - auc) * 1.4 + rng.noise(0.01)),
            ] {
                points.push(json!({ "key": k, "value": v, "timestamp": end, "step": 29 }));
            }
            for chunk in points.chunks(1000) {
                call(
                    router,
                    token,
                    "runs/log-batch",
                    json!({ "run_id": run_id, "metrics": chunk }),
                )
                .await?;
            }
            call(
                router,
                token,
                "runs/update",
                json!({ "run_id": run_id, "status": "FINISHED", "end_time": end }),
            )
            .await?;
        }
        // The first run of each experiment is its baseline, named by the experiment tag the UI
        // also sets.
        if let Some(run_id) = first_run {
            call(
                router,
                token,
                "experiments/set-experiment-tag",
                json!({ "experiment_id": exp_id, "key": tracking::BASELINE_TAG, "value": run_id }),
            )
            .await?;
        }
    }
    Ok(())
}

// ---- lineage --------------------------------------------------------------------------------

async fn post_lineage(router: &Router, token: &str, event: &Value) -> Result<(), AppError> {
    send(router, token, "/api/v1/lineage", event, StatusCode::CREATED)
        .await
        .map(|_| ())
}

const PRODUCER: &str = "https://github.com/apache/airflow/tree/providers-openlineage/2.3.0";
const RISK_DB: &str = "postgres://loans-db.internal:5432";
const GROWTH_DB: &str = "postgres://subscriptions-db.internal:5432";
const WAREHOUSE: &str = "snowflake://northwind.eu-central-1";
const FEATURES: &str = "s3://northwind-features";

fn schema(fields: &[(&str, &str)]) -> Value {
    json!({ "schema": { "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
        "fields": fields.iter().map(|(n, t)| json!({ "name": n, "type": t })).collect::<Vec<_>>() } })
}

fn dataset(namespace: &str, name: &str, facets: Value) -> Value {
    json!({ "namespace": namespace, "name": name, "facets": facets })
}

fn columns(pairs: &[(&str, &str, &str, &str)]) -> Value {
    let mut fields = serde_json::Map::new();
    for (out, ns, name, input) in pairs {
        let entry = fields
            .entry(out.to_string())
            .or_insert_with(|| json!({ "inputFields": [] }));
        if let Some(list) = entry["inputFields"].as_array_mut() {
            list.push(json!({ "namespace": ns, "name": name, "field": input }));
        }
    }
    json!({ "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json", "fields": fields })
}

/// One run of a job: START then COMPLETE (or FAIL with an error message).
struct JobRun<'a> {
    job: &'a str,
    start: &'a str,
    end: &'a str,
    inputs: Vec<Value>,
    outputs: Vec<Value>,
    failure: Option<&'a str>,
    mlflow_run: Option<String>,
}

async fn emit(router: &Router, token: &str, n: &mut u32, r: JobRun<'_>) -> Result<(), AppError> {
    *n += 1;
    let run_id = format!("d3e0a1b2-0000-4000-8000-{:012x}", *n);
    let mut facets = json!({});
    if let Some(id) = &r.mlflow_run {
        facets["mlflow"] = json!({ "_producer": PRODUCER, "_schemaURL": "https://gatehouse.dev/spec/facets/MlflowRunFacet.json", "runId": id });
    }
    let job = json!({ "namespace": "airflow://northwind", "name": r.job, "facets": {
        "jobType": { "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json",
            "processingType": "BATCH", "integration": "AIRFLOW", "jobType": "TASK" } } });
    let base = |event_type: &str, time: &str, outputs: Vec<Value>, facets: Value| {
        json!({ "eventType": event_type, "eventTime": time, "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
            "run": { "runId": run_id, "facets": facets }, "job": job, "inputs": r.inputs, "outputs": outputs })
    };
    post_lineage(
        router,
        token,
        &base("START", r.start, Vec::new(), facets.clone()),
    )
    .await?;
    let end = match r.failure {
        None => base("COMPLETE", r.end, r.outputs, facets),
        Some(message) => {
            let mut f = facets;
            f["errorMessage"] = json!({ "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json",
                "message": message, "programmingLanguage": "python" });
            base("FAIL", r.end, Vec::new(), f)
        }
    };
    post_lineage(router, token, &end).await
}

/// Seeds a pipeline through the OpenLineage endpoint: raw tables → cleaning → feature
/// tables → training runs (the demo's MLflow runs, joined by dataset name and by the `mlflow`
/// run facet) → evaluation → batch scoring, with one failed run and a second version of the
/// credit feature table. Skipped when lineage already exists.
pub async fn seed_lineage(router: &Router, pool: &sqlx::SqlitePool) -> Result<(), AppError> {
    let existing = store::lineage::event_count(pool).await?;
    if existing > 0 {
        return Ok(());
    }
    let first_run = |exp: &'static str| async move {
        store::tracking::run_ids_of_experiment(pool, exp)
            .await
            .map(|ids| ids.into_iter().next())
    };
    let credit_run = first_run("credit-default").await?;
    let churn_run = first_run("churn-prediction").await?;
    let token = accounts::create_token(
        pool,
        "system:demo",
        "scientist",
        "demo-lineage",
        accounts::Issue::operator(),
    )
    .await?;
    let result = send_lineage(router, &token.token, credit_run, churn_run).await;
    accounts::revoke_token(pool, "system:demo", token.id).await?;
    result
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
async fn send_lineage(
    router: &Router,
    token: &str,
    credit_run: Option<String>,
    churn_run: Option<String>,
) -> Result<(), AppError> {
    let mut n = 0u32;
    let applications = schema(&[
        ("application_id", "BIGINT"),
        ("applicant_id", "BIGINT"),
        ("amount", "NUMERIC"),
        ("term_months", "INT"),
        ("zip", "TEXT"),
        ("submitted_at", "TIMESTAMP"),
    ]);
    let bureau = schema(&[
        ("applicant_id", "BIGINT"),
        ("bureau_score", "INT"),
        ("pulled_at", "TIMESTAMP"),
    ]);
    let repayments = schema(&[
        ("loan_id", "BIGINT"),
        ("application_id", "BIGINT"),
        ("due_date", "DATE"),
        ("paid_at", "TIMESTAMP"),
        ("amount", "NUMERIC"),
    ]);
    let clean_apps = schema(&[
        ("application_id", "BIGINT"),
        ("amount", "NUMERIC"),
        ("term_months", "INT"),
        ("zip3", "TEXT"),
        ("bureau_score", "INT"),
    ]);
    let clean_repay = schema(&[
        ("application_id", "BIGINT"),
        ("days_late_max", "INT"),
        ("missed_payments", "INT"),
    ]);
    let feature_fields_v1 = [
        ("application_id", "BIGINT"),
        ("amount_log", "DOUBLE"),
        ("term_months", "INT"),
        ("bureau_score", "INT"),
        ("days_late_max", "INT"),
        ("defaulted_12m", "BOOLEAN"),
    ];
    let feature_fields_v2 = [
        ("application_id", "BIGINT"),
        ("amount_log", "DOUBLE"),
        ("term_months", "INT"),
        ("bureau_score", "INT"),
        ("days_late_max", "INT"),
        ("missed_payments", "INT"),
        ("zip3_default_rate", "DOUBLE"),
        ("defaulted_12m", "BOOLEAN"),
    ];
    let wh_apps = "staging.applications_clean";
    let wh_repay = "staging.repayments_clean";
    let features = "credit-applications-2026q3";
    let feature_lineage = |v2: bool| {
        let mut pairs = vec![
            ("application_id", WAREHOUSE, wh_apps, "application_id"),
            ("amount_log", WAREHOUSE, wh_apps, "amount"),
            ("term_months", WAREHOUSE, wh_apps, "term_months"),
            ("bureau_score", WAREHOUSE, wh_apps, "bureau_score"),
            ("days_late_max", WAREHOUSE, wh_repay, "days_late_max"),
            ("defaulted_12m", WAREHOUSE, wh_repay, "missed_payments"),
        ];
        if v2 {
            pairs.push(("missed_payments", WAREHOUSE, wh_repay, "missed_payments"));
            pairs.push(("zip3_default_rate", WAREHOUSE, wh_apps, "zip3"));
        }
        columns(&pairs)
    };
    let clean_apps_lineage = columns(&[
        (
            "application_id",
            RISK_DB,
            "public.applications",
            "application_id",
        ),
        ("amount", RISK_DB, "public.applications", "amount"),
        ("term_months", RISK_DB, "public.applications", "term_months"),
        ("zip3", RISK_DB, "public.applications", "zip"),
        (
            "bureau_score",
            RISK_DB,
            "public.bureau_scores",
            "bureau_score",
        ),
    ]);
    let raw_apps = || dataset(RISK_DB, "public.applications", applications.clone());
    let raw_bureau = || dataset(RISK_DB, "public.bureau_scores", bureau.clone());
    let raw_repay = || dataset(RISK_DB, "public.repayments", repayments.clone());
    let apps_out = || {
        let mut f = clean_apps.clone();
        f["columnLineage"] = clean_apps_lineage.clone();
        dataset(WAREHOUSE, wh_apps, f)
    };
    let apps_in = || dataset(WAREHOUSE, wh_apps, clean_apps.clone());
    let repay_out = || dataset(WAREHOUSE, wh_repay, clean_repay.clone());
    let repay_in = || dataset(WAREHOUSE, wh_repay, clean_repay.clone());

    // Three nightly runs of the cleaning jobs; the last cleaning of repayments fails.
    for (day, start, end) in [
        ("28", "2026-09-28T01:00:00Z", "2026-09-28T01:06:12Z"),
        ("29", "2026-09-29T01:00:00Z", "2026-09-29T01:05:48Z"),
        ("30", "2026-09-30T01:00:00Z", "2026-09-30T01:07:03Z"),
    ] {
        emit(
            router,
            token,
            &mut n,
            JobRun {
                job: "etl.clean_applications",
                start,
                end,
                inputs: vec![raw_apps(), raw_bureau()],
                outputs: vec![apps_out()],
                failure: None,
                mlflow_run: None,
            },
        )
        .await?;
        let fail = (day == "30").then_some(
            "psycopg.errors.QueryCanceled: canceling statement due to statement timeout",
        );
        emit(
            router,
            token,
            &mut n,
            JobRun {
                job: "etl.clean_repayments",
                start,
                end,
                inputs: vec![raw_repay()],
                outputs: vec![repay_out()],
                failure: fail,
                mlflow_run: None,
            },
        )
        .await?;
    }
    // The feature table, twice: v2 adds two features.
    for (version, start, end, fields) in [
        (
            "v1",
            "2026-09-29T02:00:00Z",
            "2026-09-29T02:18:40Z",
            &feature_fields_v1[..],
        ),
        (
            "v2",
            "2026-09-30T02:00:00Z",
            "2026-09-30T02:21:05Z",
            &feature_fields_v2[..],
        ),
    ] {
        let mut f = schema(fields);
        f["columnLineage"] = feature_lineage(version == "v2");
        f["version"] = json!({ "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json", "datasetVersion": version });
        emit(
            router,
            token,
            &mut n,
            JobRun {
                job: "features.build_credit_features",
                start,
                end,
                inputs: vec![apps_in(), repay_in()],
                outputs: vec![dataset(FEATURES, features, f)],
                failure: None,
                mlflow_run: None,
            },
        )
        .await?;
    }
    let features_in = || dataset(FEATURES, features, schema(&feature_fields_v2));
    emit(
        router,
        token,
        &mut n,
        JobRun {
            job: "training.train_credit_model",
            start: "2026-10-01T08:00:00Z",
            end: "2026-10-01T08:40:00Z",
            inputs: vec![features_in()],
            outputs: vec![],
            failure: None,
            mlflow_run: credit_run,
        },
    )
    .await?;
    emit(
        router,
        token,
        &mut n,
        JobRun {
            job: "evaluation.evaluate_credit_model",
            start: "2026-10-02T06:00:00Z",
            end: "2026-10-02T06:09:30Z",
            inputs: vec![
                features_in(),
                dataset(
                    WAREHOUSE,
                    "ml.credit_holdout",
                    schema(&[("application_id", "BIGINT"), ("defaulted_12m", "BOOLEAN")]),
                ),
            ],
            outputs: vec![dataset(
                WAREHOUSE,
                "ml.credit_evaluation",
                schema(&[
                    ("model_version", "TEXT"),
                    ("auc", "DOUBLE"),
                    ("ks", "DOUBLE"),
                    ("evaluated_at", "TIMESTAMP"),
                ]),
            )],
            failure: None,
            mlflow_run: None,
        },
    )
    .await?;
    emit(
        router,
        token,
        &mut n,
        JobRun {
            job: "scoring.batch_score_credit",
            start: "2026-10-03T03:00:00Z",
            end: "2026-10-03T03:12:44Z",
            inputs: vec![apps_in(), features_in()],
            outputs: vec![dataset(
                WAREHOUSE,
                "ml.credit_scores",
                schema(&[
                    ("application_id", "BIGINT"),
                    ("pd_12m", "DOUBLE"),
                    ("model_version", "TEXT"),
                    ("scored_at", "TIMESTAMP"),
                ]),
            )],
            failure: None,
            mlflow_run: None,
        },
    )
    .await?;

    // Churn: sessions → features → training.
    let sessions = schema(&[
        ("subscriber_id", "BIGINT"),
        ("session_start", "TIMESTAMP"),
        ("minutes", "INT"),
        ("platform", "TEXT"),
    ]);
    emit(
        router,
        token,
        &mut n,
        JobRun {
            job: "etl.sessionize_events",
            start: "2026-09-30T00:30:00Z",
            end: "2026-09-30T00:52:10Z",
            inputs: vec![
                dataset("kafka://events.northwind:9092", "app.events", json!({})),
                dataset(
                    GROWTH_DB,
                    "public.subscriptions",
                    schema(&[
                        ("subscriber_id", "BIGINT"),
                        ("plan", "TEXT"),
                        ("renews_at", "DATE"),
                    ]),
                ),
            ],
            outputs: vec![dataset(WAREHOUSE, "staging.sessions", sessions.clone())],
            failure: None,
            mlflow_run: None,
        },
    )
    .await?;
    emit(
        router,
        token,
        &mut n,
        JobRun {
            job: "features.build_churn_features",
            start: "2026-09-30T03:00:00Z",
            end: "2026-09-30T03:14:00Z",
            inputs: vec![dataset(WAREHOUSE, "staging.sessions", sessions)],
            outputs: vec![dataset(
                FEATURES,
                "subscriber-activity-2026-09",
                schema(&[
                    ("subscriber_id", "BIGINT"),
                    ("sessions_30d", "INT"),
                    ("minutes_30d", "INT"),
                    ("churned_next_month", "BOOLEAN"),
                ]),
            )],
            failure: None,
            mlflow_run: None,
        },
    )
    .await?;
    emit(
        router,
        token,
        &mut n,
        JobRun {
            job: "training.train_churn_model",
            start: "2026-10-01T09:00:00Z",
            end: "2026-10-01T09:25:00Z",
            inputs: vec![dataset(FEATURES, "subscriber-activity-2026-09", json!({}))],
            outputs: vec![],
            failure: None,
            mlflow_run: churn_run,
        },
    )
    .await?;
    Ok(())
}

/// Seeds three A/B tests through the API as a product manager would: a running
/// champion–challenger test of the credit-default model with 14 days of data, a decided
/// product test, and a test whose split is broken (sample-ratio mismatch). Skipped when any
/// A/B test exists.
pub async fn seed_ab_tests(router: &Router, pool: &sqlx::SqlitePool) -> Result<(), AppError> {
    if !app::store::ab_tests::ids(pool).await?.is_empty() {
        return Ok(());
    }
    let token = accounts::create_token(
        pool,
        "system:demo",
        "pm",
        "demo-abtests",
        accounts::Issue::operator(),
    )
    .await?;
    let result = send_ab_tests(router, &token.token).await;
    accounts::revoke_token(pool, "system:demo", token.id).await?;
    result
}

/// Days from 2026-11-10, as `YYYY-MM-DD`.
fn demo_day(i: u32) -> String {
    let (m, d) = if 10 + i <= 30 {
        (11, 10 + i)
    } else {
        (12, 10 + i - 30)
    };
    format!("2026-{m:02}-{d:02}")
}

/// One day of rows: assignments, a conversion metric and a latency guardrail per variant.
/// `arms` are (variant, units, conversion rate, mean latency).
/// With `covariate`, the latency rows carry each user's pre-period latency (correlation 0.6)
/// for CUPED.
fn ab_day(
    day: &str,
    arms: &[(&str, f64, f64, f64)],
    rng: &mut Rng,
    conversion: &str,
    covariate: bool,
) -> Vec<Value> {
    let mut rows = Vec::new();
    for (v, units, rate, latency) in arms {
        let units = (units * (1.0 + rng.noise(0.03))).round();
        let conv = (units * rate * (1.0 + rng.noise(0.08))).round();
        let mean = latency * (1.0 + rng.noise(0.01));
        let sd = latency * 0.35;
        rows.push(json!({ "day": day, "variant": v, "units": units }));
        rows.push(json!({ "day": day, "metric": conversion, "variant": v, "units": units, "conversions": conv }));
        let mut latency_row = json!({ "day": day, "metric": "p50_latency_ms", "variant": v, "n": units,
            "sum": units * mean, "sum_squares": units * mean * mean + (units - 1.0) * sd * sd });
        if covariate {
            // Last month's latency of the same users: one mean for both arms (randomised).
            let mx = 180.0 * (1.0 + rng.noise(0.005));
            latency_row["sum_x"] = json!(units * mx);
            latency_row["sum_x2"] = json!(units * mx * mx + (units - 1.0) * sd * sd);
            latency_row["sum_xy"] = json!(units * mx * mean + (units - 1.0) * 0.6 * sd * sd);
        }
        rows.push(latency_row);
    }
    rows
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
async fn send_ab_tests(router: &Router, token: &str) -> Result<(), AppError> {
    let mut rng = Rng(0x5eed_ab7e);
    let latency_guardrail = json!({ "name": "p50_latency_ms", "type": "continuous", "direction": "decrease",
        "role": "guardrail", "tolerance": 0.03 });
    // 1. Running champion–challenger test of the credit model: challenger ahead, not yet sure.
    let champion = send(router, token, "/api/v1/experiments", &json!({
        "name": "credit-default v4 challenger",
        "hypothesis": "Model v4 (more bureau features) approves more good applicants without slowing scoring.",
        "status": "running", "start_date": demo_day(0), "owner": "pm",
        "variants": [
            { "name": "champion", "weight": 50, "model_version": "credit-default@3" },
            { "name": "challenger", "weight": 50, "model_version": "credit-default@4" }
        ],
        "metrics": [{ "name": "approved_and_repaid", "type": "binomial" }, latency_guardrail],
        "correction": "holm", "mde": 0.03
    }), StatusCode::CREATED).await?;
    let mut rows = Vec::new();
    for i in 0..14 {
        rows.extend(ab_day(
            &demo_day(i),
            &[
                ("champion", 1700.0, 0.112, 180.0),
                ("challenger", 1700.0, 0.117, 182.0),
            ],
            &mut rng,
            "approved_and_repaid",
            true,
        ));
    }
    send(
        router,
        token,
        &format!("/api/v1/experiments/{}/results", champion["id"]),
        &json!({ "rows": rows }),
        StatusCode::CREATED,
    )
    .await?;

    // 2. A decided product test: the new checkout flow won clearly.
    let checkout = send(
        router,
        token,
        "/api/v1/experiments",
        &json!({
            "name": "one-page checkout",
            "hypothesis": "A single-page checkout lifts completed orders.",
            "status": "running", "start_date": demo_day(0), "owner": "pm",
            "variants": [{ "name": "control", "weight": 50 }, { "name": "one-page", "weight": 50 }],
            "metrics": [{ "name": "checkout_conversion", "type": "binomial" }, latency_guardrail],
            "correction": "holm"
        }),
        StatusCode::CREATED,
    )
    .await?;
    let mut rows = Vec::new();
    for i in 0..14 {
        rows.extend(ab_day(
            &demo_day(i),
            &[
                ("control", 3400.0, 0.081, 240.0),
                ("one-page", 3400.0, 0.0885, 238.0),
            ],
            &mut rng,
            "checkout_conversion",
            false,
        ));
    }
    let id = checkout["id"].clone();
    send(
        router,
        token,
        &format!("/api/v1/experiments/{id}/results"),
        &json!({ "rows": rows }),
        StatusCode::CREATED,
    )
    .await?;
    send(router, token, &format!("/api/v1/experiments/{id}/decision"), &json!({
        "decision": "ship", "comment": "Clear lift on completed orders, latency unchanged. Rolling out to 100%."
    }), StatusCode::CREATED).await?;

    // 3. A broken split: the treatment's assignment dropped users, so nothing can be read.
    let broken = send(router, token, "/api/v1/experiments", &json!({
        "name": "recommendations carousel",
        "hypothesis": "Showing personalised recommendations on the home page lifts add-to-cart.",
        "status": "running", "start_date": demo_day(4), "owner": "pm",
        "variants": [{ "name": "control", "weight": 50 }, { "name": "carousel", "weight": 50 }],
        "metrics": [{ "name": "add_to_cart", "type": "binomial" }, latency_guardrail],
    }), StatusCode::CREATED).await?;
    let mut rows = Vec::new();
    for i in 4..14 {
        rows.extend(ab_day(
            &demo_day(i),
            &[
                ("control", 2000.0, 0.21, 200.0),
                ("carousel", 1860.0, 0.225, 215.0),
            ],
            &mut rng,
            "add_to_cart",
            false,
        ));
    }
    send(
        router,
        token,
        &format!("/api/v1/experiments/{}/results", broken["id"]),
        &json!({ "rows": rows }),
        StatusCode::CREATED,
    )
    .await?;
    Ok(())
}

/// Seeds two fairness reports through the API as a data scientist would upload them: the
/// credit model v4 on its hold-out set (passes the four-fifths rule) and the churn model on
/// its evaluation set (fails for one age band). Skipped when any report exists.
pub async fn seed_fairness(router: &Router, pool: &sqlx::SqlitePool) -> Result<(), AppError> {
    if !app::store::fairness::list(pool).await?.is_empty() {
        return Ok(());
    }
    let token = accounts::create_token(
        pool,
        "system:demo",
        "scientist",
        "demo-fairness",
        accounts::Issue::operator(),
    )
    .await?;
    let result = send_fairness(router, &token.token).await;
    accounts::revoke_token(pool, "system:demo", token.id).await?;
    result
}

/// A prediction file: `groups` are (attribute value pairs, rows, base rate, approval
/// probability for label 1 and label 0); prediction 1 means approve.
fn predictions(rng: &mut Rng, groups: &[(&str, &str, usize, f64, f64, f64)]) -> String {
    let mut out = String::from("applicant_id,label,prediction,score,sex,age_band\n");
    let mut id = 0;
    for (sex, age, rows, base, p1, p0) in groups {
        for _ in 0..*rows {
            id += 1;
            let label = rng.next_f64() < *base;
            let approve = rng.next_f64() < if label { *p1 } else { *p0 };
            let score = ((if approve { 0.62 } else { 0.38 }) + rng.noise(0.2)).clamp(0.0, 1.0);
            out.push_str(&format!(
                "{id},{},{},{score:.4},{sex},{age}\n",
                label as u8, approve as u8
            ));
        }
    }
    out
}

async fn post_csv(router: &Router, token: &str, path: &str, body: String) -> Result<(), AppError> {
    let req = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(body))
        .map_err(|_| AppError::internal())?;
    let res = router
        .clone()
        .oneshot(req)
        .await
        .map_err(|_| AppError::internal())?;
    if res.status() != StatusCode::CREATED {
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        tracing::error!(%path, %status, body = %String::from_utf8_lossy(&bytes), "demo upload failed");
        return Err(AppError::internal());
    }
    Ok(())
}

async fn send_fairness(router: &Router, token: &str) -> Result<(), AppError> {
    let mut rng = Rng(0xfa1e_0001);
    let map = "label=label&prediction=prediction&score=score&attributes=sex,age_band&reference=sex:male,age_band:25-44";
    // Credit v4: approval rates within a few points across groups.
    let credit = predictions(
        &mut rng,
        &[
            ("female", "18-24", 420, 0.78, 0.82, 0.30),
            ("female", "25-44", 1300, 0.82, 0.86, 0.28),
            ("female", "45+", 900, 0.84, 0.85, 0.27),
            ("male", "18-24", 480, 0.77, 0.83, 0.31),
            ("male", "25-44", 1500, 0.83, 0.87, 0.29),
            ("male", "45+", 1000, 0.85, 0.86, 0.26),
        ],
    );
    post_csv(router, token, &format!("/api/v1/fairness/reports?model_version=credit-default@4&dataset=credit-applications-2026q3-holdout&{map}"), credit).await?;
    // Churn retention offers: the youngest band is offered far less often.
    let churn = predictions(
        &mut rng,
        &[
            ("female", "18-24", 500, 0.30, 0.35, 0.10),
            ("female", "25-44", 1400, 0.28, 0.70, 0.22),
            ("female", "45+", 900, 0.25, 0.72, 0.20),
            ("male", "18-24", 520, 0.31, 0.33, 0.09),
            ("male", "25-44", 1500, 0.27, 0.71, 0.21),
            ("male", "45+", 880, 0.24, 0.70, 0.19),
        ],
    );
    post_csv(router, token, &format!("/api/v1/fairness/reports?model_version=churn-prediction@2&dataset=customers-2026-10-eval&{map}"), churn).await
}

/// The registry and its governance: credit-default v1–v4 and churn-prediction v1–v2 linked to
/// the demo training runs, `staging` moved directly through v1 → v2 → v3, `production` given
/// to credit-default v2 by an approved promotion whose missing fairness report was waived, and
/// a pending promotion of v4 that fails one check (no decided A/B test against v2 yet).
pub async fn seed_registry(router: &Router, pool: &sqlx::SqlitePool) -> Result<(), AppError> {
    let existing = store::registry::model_count(pool).await?;
    if existing > 0 {
        return Ok(());
    }
    let mut tokens = Vec::new();
    for user in ["scientist", "reviewer", "reviewer2"] {
        // The reviewers approve and waive with these, which only a token its own user created
        // may do: each demo user creates (and afterwards revokes) their own.
        tokens.push((
            user,
            accounts::create_token(pool, user, user, "demo-registry", accounts::Issue::owner())
                .await?,
        ));
    }
    let result = send_registry(
        router,
        pool,
        &tokens[0].1.token,
        &tokens[1].1.token,
        &tokens[2].1.token,
    )
    .await;
    for (user, t) in tokens {
        accounts::revoke_token(pool, user, t.id).await?;
    }
    result
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
async fn send_registry(
    router: &Router,
    pool: &sqlx::SqlitePool,
    scientist: &str,
    reviewer: &str,
    reviewer2: &str,
) -> Result<(), AppError> {
    let runs_of =
        |experiment: &'static str| store::tracking::run_ids_of_experiment(pool, experiment);
    let models = [
        (
            "credit-default",
            "Probability of default for consumer loan applications.",
            4,
        ),
        (
            "churn-prediction",
            "Which customers to offer a retention discount.",
            2,
        ),
    ];
    for (name, description, versions) in models {
        call(router, scientist, "registered-models/create", json!({ "name": name, "description": description, "tags": [{ "key": "team", "value": if name.starts_with("credit") { "risk" } else { "growth" } }] })).await?;
        let runs = runs_of(name).await?;
        for v in 0..versions {
            let run_id = runs.get(v).cloned();
            let experiment_id: i64 = match &run_id {
                Some(r) => {
                    store::tracking::run_info(&mut *pool.acquire().await?, r)
                        .await?
                        .experiment_id
                }
                None => 0,
            };
            // Each version is a real model, stored and sealed as the MLflow client does it.
            let model_id = crate::demo_artifacts::log_model(
                router,
                scientist,
                name,
                v + 1,
                experiment_id,
                run_id.as_deref(),
            )
            .await?;
            call(
                router,
                scientist,
                "model-versions/create",
                json!({
                    "name": name, "source": format!("models:/{model_id}"), "model_id": model_id,
                    "run_id": run_id, "description": format!("Candidate {} of {name}", v + 1),
                }),
            )
            .await?;
        }
    }
    for v in ["1", "2", "3"] {
        call(
            router,
            scientist,
            "registered-models/alias",
            json!({ "name": "credit-default", "alias": "staging", "version": v }),
        )
        .await?;
    }
    call(
        router,
        scientist,
        "registered-models/alias",
        json!({ "name": "churn-prediction", "alias": "staging", "version": "2" }),
    )
    .await?;

    let v1 = |path: &str| format!("/api/v1/promotions{path}");
    // Production gets v2: the fairness report predates Gatehouse, so a reviewer waives it.
    let r = send(
        router,
        scientist,
        &v1(""),
        &json!({ "model": "credit-default", "version": 2, "alias": "production",
        "justification": "First model to pass the Q3 back-test; replaces the rules engine." }),
        StatusCode::OK,
    )
    .await?;
    let id = r["request"]["request"]["request_id"]
        .as_i64()
        .ok_or_else(AppError::internal)?;
    send(router, reviewer, &v1(&format!("/{id}/waive")), &json!({ "check": "fairness",
        "reason": "Fairness review done before Gatehouse (RISK-2026-14, signed by the ethics board)." }), StatusCode::OK).await?;
    send(
        router,
        reviewer,
        &v1(&format!("/{id}/approve")),
        &json!({ "comment": "Back-test and RISK-2026-14 reviewed." }),
        StatusCode::OK,
    )
    .await?;
    send(
        router,
        reviewer2,
        &v1(&format!("/{id}/approve")),
        &json!({ "comment": "Agreed; monitoring dashboards are in place." }),
        StatusCode::OK,
    )
    .await?;
    // v4 asks for production; the A/B test against v2's successor is still running.
    send(
        router,
        scientist,
        &v1(""),
        &json!({ "model": "credit-default", "version": 4, "alias": "production",
        "justification": "Higher AUC and a passing fairness report on the 2026Q3 holdout." }),
        StatusCode::OK,
    )
    .await?;
    Ok(())
}
