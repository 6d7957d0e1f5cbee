//! The demo's training runs (`fixtures/demo/tracking.yaml`): each run is created, given its
//! parameters and training dataset, loss curves over 30 epochs that converge towards its
//! quality, final metrics and an end time, through the MLflow REST API. The first run of each
//! experiment becomes its baseline.

use super::{call, fixture, with_token, Rng};
use app::error::AppError;
use app::store::{self, tracking};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("../../fixtures/demo/tracking.yaml");

/// 2026-10-01T08:00:00Z in milliseconds: demo runs start from here.
const BASE_MS: i64 = 1_790_841_600_000;

#[derive(Deserialize)]
struct Fixture {
    experiments: Vec<Experiment>,
}

#[derive(Deserialize)]
struct Experiment {
    name: String,
    description: String,
    team: String,
    dataset: Dataset,
    params: Vec<String>,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Dataset {
    name: String,
    digest: String,
    uri: String,
}

#[derive(Deserialize)]
struct Run {
    quality: f64,
    params: Vec<String>,
}

/// Seeds the demo experiments through the REST API; skipped when any experiment besides
/// `Default` already exists.
pub async fn seed_tracking(router: &Router, pool: &app::store::Pool) -> Result<(), AppError> {
    if store::tracking::experiment_count(pool).await? > 0 {
        return Ok(());
    }
    let demo: Fixture = fixture("tracking.yaml", FIXTURE)?;
    with_token(pool, "scientist", "demo-ingest", |token| async move {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut clock = BASE_MS;
        for exp in &demo.experiments {
            send_experiment(router, &token, exp, &mut rng, &mut clock).await?;
        }
        Ok(())
    })
    .await
}

async fn send_experiment(
    router: &Router,
    token: &str,
    exp: &Experiment,
    rng: &mut Rng,
    clock: &mut i64,
) -> Result<(), AppError> {
    let created = call(router, token, "experiments/create", json!({ "name": exp.name, "tags": [{ "key": "mlflow.note.content", "value": exp.description }] })).await?;
    let exp_id = created["experiment_id"].clone();
    let prefix = exp.name.split('-').next().unwrap_or("run");
    let mut first_run = None;
    for (i, run) in exp.runs.iter().enumerate() {
        let quality = run.quality + rng.noise(0.004);
        let start = *clock;
        *clock += 37 * 60 * 1000 + (rng.next_f64() * 20.0 * 60_000.0) as i64;
        let commit = format!("{:07x}", (rng.next_f64() * 2.68e8) as u64);
        let created = call(
            router,
            token,
            "runs/create",
            json!({ "experiment_id": exp_id, "run_name": format!("{prefix}-{:02}", i + 1), "user_id": "scientist", "start_time": start,
                "tags": [{ "key": "mlflow.source.git.commit", "value": commit },
                         { "key": "mlflow.source.name", "value": "train.py" },
                         { "key": "team", "value": exp.team }] }),
        )
        .await?;
        let run_id = created["run"]["info"]["run_id"].clone();
        first_run.get_or_insert_with(|| run_id.clone());
        let params: Vec<Value> = exp
            .params
            .iter()
            .zip(&run.params)
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect();
        call(
            router,
            token,
            "runs/log-batch",
            json!({ "run_id": run_id, "params": params }),
        )
        .await?;
        let d = &exp.dataset;
        call(
            router,
            token,
            "runs/log-inputs",
            json!({ "run_id": run_id, "datasets": [{ "tags": [{ "key": "mlflow.data.context", "value": "training" }],
                "dataset": { "name": d.name, "digest": d.digest, "source_type": "s3", "source": json!({ "uri": d.uri }).to_string() } }] }),
        )
        .await?;
        let (points, end) = metrics(start, quality, rng);
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
    // The first run is the baseline, named by the experiment tag the UI also sets.
    if let Some(run_id) = first_run {
        call(
            router,
            token,
            "experiments/set-experiment-tag",
            json!({ "experiment_id": exp_id, "key": tracking::BASELINE_TAG, "value": run_id }),
        )
        .await?;
    }
    Ok(())
}

/// A run's metrics: train and validation loss over 30 epochs that converge towards its
/// quality, then the final classification metrics; with the run's end time.
fn metrics(start: i64, quality: f64, rng: &mut Rng) -> (Vec<Value>, i64) {
    let mut points = Vec::new();
    for step in 0..30i64 {
        let t = start + step * 45_000;
        let decay = (-(step as f64) / 7.0).exp();
        let train = (1.0 - quality) * 0.9 + 0.55 * decay + rng.noise(0.006);
        let val = (1.0 - quality) + 0.5 * decay + rng.noise(0.01);
        points.push(json!({ "key": "train_loss", "value": train, "timestamp": t, "step": step }));
        points.push(json!({ "key": "val_loss", "value": val, "timestamp": t, "step": step }));
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
    (points, end)
}
