//! Demo tracking data: two experiments with 40 runs, sent through the MLflow-compatible REST
//! API exactly as the MLflow client would send them, with a demo scientist's API token that is
//! revoked afterwards. Deterministic: a fixed seed and fixed timestamps.

use app::error::AppError;
use app::server::accounts;
use app::server::db::tracking;
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

async fn call(router: &Router, token: &str, path: &str, body: Value) -> Result<Value, AppError> {
    let req = Request::post(format!("/api/2.0/mlflow/{path}"))
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
    if status != StatusCode::OK {
        tracing::error!(%path, %status, body = %v, "demo request failed");
        return Err(AppError::internal());
    }
    Ok(v)
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
    let existing: i64 =
        sqlx::query_scalar("SELECT count(*) FROM experiments WHERE experiment_id != 0")
            .fetch_one(pool)
            .await?;
    if existing > 0 {
        return Ok(());
    }
    let token = accounts::create_token(pool, "system:demo", "scientist", "demo-ingest").await?;
    let result = send_demo(router, &token.token).await;
    // The token existed only for this ingestion: revoke it whatever happened.
    accounts::revoke_token(pool, "system:demo", token.id).await?;
    result
}

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
