//! The demo's model files: each demo model version is a real MLflow model (a pyfunc
//! logistic scorecard, "models from code", with its weights as an artifact), logged through
//! the same API the MLflow client uses: a logged model is created, its files are uploaded
//! through the artifact proxy, and it is finalized, which records its digest.
//! `mlflow.pyfunc.load_model("models:/credit-default@production")` loads it.

use super::{deliver, send};
use app::error::AppError;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};

const SCORECARD: &str = include_str!("../../fixtures/demo/model/scorecard.py");
const REQUIREMENTS: &str = include_str!("../../fixtures/demo/model/requirements.txt");
const PYTHON_ENV: &str = include_str!("../../fixtures/demo/model/python_env.yaml");
const CONDA: &str = include_str!("../../fixtures/demo/model/conda.yaml");
const MLMODEL: &str = include_str!("../../fixtures/demo/model/MLmodel");

/// The `MLmodel` file as MLflow writes it, from the template: without a run, the `run_id`
/// line is left out.
fn mlmodel(
    root: &str,
    model_id: &str,
    run_id: Option<&str>,
    inputs: &str,
    created: &str,
) -> String {
    MLMODEL
        .lines()
        .filter(|l| run_id.is_some() || !l.starts_with("run_id:"))
        .map(|l| {
            l.replace("{artifact_root}", root)
                .replace("{model_id}", model_id)
                .replace("{run_id}", run_id.unwrap_or_default())
                .replace("{inputs}", inputs)
                .replace("{created}", created)
        })
        .map(|l| l + "\n")
        .collect()
}

/// A demo model's features with their weights, and two example rows.
struct Card {
    features: [(&'static str, &'static str); 3],
    intercept: f64,
    weights: [f64; 3],
    example: [[f64; 3]; 2],
}

fn card(model: &str, version: usize) -> Card {
    // Each version's weights differ a little, so each version has its own digest.
    let v = version as f64;
    if model.starts_with("credit") {
        Card {
            features: [
                ("debt_to_income", "double"),
                ("utilization", "double"),
                ("delinquencies", "long"),
            ],
            intercept: -2.1 - 0.05 * v,
            weights: [3.2 + 0.1 * v, 1.4 - 0.05 * v, 0.8 + 0.02 * v],
            example: [[0.31, 0.2, 0.0], [0.55, 0.9, 2.0]],
        }
    } else {
        Card {
            features: [
                ("tenure_months", "long"),
                ("support_tickets", "long"),
                ("discount_used", "double"),
            ],
            intercept: 0.4 + 0.03 * v,
            weights: [-0.06 - 0.005 * v, 0.35, -0.9 + 0.1 * v],
            example: [[3.0, 4.0, 0.0], [48.0, 0.0, 1.0]],
        }
    }
}

fn cell(kind: &str, x: f64) -> Value {
    if kind == "long" {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// The model's files, as `mlflow.pyfunc.log_model(python_model="scorecard.py",
/// artifacts={"weights": …}, input_example=…)` writes them.
fn files(
    model: &str,
    version: usize,
    root: &str,
    model_id: &str,
    run_id: Option<&str>,
    created: &str,
) -> Vec<(String, Vec<u8>)> {
    let c = card(model, version);
    let columns: Vec<&str> = c.features.iter().map(|(n, _)| *n).collect();
    let rows: Vec<Vec<Value>> = c
        .example
        .iter()
        .map(|r| {
            r.iter()
                .zip(c.features.iter())
                .map(|(x, (_, k))| cell(k, *x))
                .collect()
        })
        .collect();
    let weights = json!({
        "intercept": c.intercept,
        "weights": c.features.iter().zip(c.weights.iter()).map(|((n, _), w)| (n.to_string(), json!(w))).collect::<serde_json::Map<_, _>>(),
    });
    let inputs: Vec<Value> = c
        .features
        .iter()
        .map(|(n, k)| json!({ "type": k, "name": n, "required": true }))
        .collect();
    let inputs = serde_json::to_string(&inputs)
        .unwrap_or_default()
        .replace("'", "''");
    let mlmodel = mlmodel(root, model_id, run_id, &inputs, created);
    let example = json!({ "columns": columns, "data": rows });
    let serving = json!({ "dataframe_split": example });
    vec![
        ("MLmodel".into(), mlmodel.into_bytes()),
        ("scorecard.py".into(), SCORECARD.as_bytes().to_vec()),
        (
            "artifacts/weights.json".into(),
            weights.to_string().into_bytes(),
        ),
        ("requirements.txt".into(), REQUIREMENTS.as_bytes().to_vec()),
        ("python_env.yaml".into(), PYTHON_ENV.as_bytes().to_vec()),
        ("conda.yaml".into(), CONDA.as_bytes().to_vec()),
        (
            "input_example.json".into(),
            example.to_string().into_bytes(),
        ),
        (
            "serving_input_example.json".into(),
            serde_json::to_string_pretty(&serving)
                .unwrap_or_default()
                .into_bytes(),
        ),
    ]
}

async fn put(router: &Router, token: &str, path: &str, bytes: Vec<u8>) -> Result<(), AppError> {
    let uri = format!("/api/2.0/mlflow-artifacts/artifacts/{path}");
    deliver(
        router,
        token,
        Request::put(uri),
        Body::from(bytes),
        StatusCode::OK,
    )
    .await
    .map(|_| ())
}

async fn patch(router: &Router, token: &str, path: &str, body: &Value) -> Result<(), AppError> {
    let req = Request::patch(path).header(header::CONTENT_TYPE, "application/json");
    deliver(
        router,
        token,
        req,
        Body::from(body.to_string()),
        StatusCode::OK,
    )
    .await
    .map(|_| ())
}

/// Logs version `version` (1-based) of the demo model `model`, produced by `run_id` in
/// `experiment_id`, and answers its logged model id.
pub async fn log_model(
    router: &Router,
    token: &str,
    model: &str,
    version: usize,
    experiment_id: i64,
    run_id: Option<&str>,
) -> Result<String, AppError> {
    let created = send(
        router,
        token,
        "/api/2.0/mlflow/logged-models",
        &json!({ "experiment_id": experiment_id.to_string(), "name": "model", "model_type": "scorecard",
            "source_run_id": run_id, "params": [{ "key": "features", "value": "3" }] }),
        StatusCode::OK,
    )
    .await?;
    let model_id = created["model"]["info"]["model_id"]
        .as_str()
        .ok_or_else(AppError::internal)?
        .to_string();
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.000000",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let root = format!("{experiment_id}/models/{model_id}/artifacts");
    for (path, bytes) in files(model, version, &root, &model_id, run_id, &stamp) {
        put(router, token, &format!("{root}/{path}"), bytes).await?;
    }
    patch(
        router,
        token,
        &format!("/api/2.0/mlflow/logged-models/{model_id}"),
        &json!({ "model_id": model_id, "status": "LOGGED_MODEL_READY" }),
    )
    .await?;
    if let Some(run) = run_id {
        // The run's own files: the scorecard's weights as a table, and a short card.
        let c = card(model, version);
        let mut csv = String::from("feature,type,weight\n");
        for ((f, k), w) in c.features.iter().zip(c.weights.iter()) {
            csv.push_str(&format!("{f},{k},{w:.4}\n"));
        }
        csv.push_str(&format!("(intercept),,{:.4}\n", c.intercept));
        let md = format!(
            "# {model} v{version}\n\nA logistic scorecard over {}.\nIts weights are in `evaluation/feature_weights.csv`; the model itself is logged model `{model_id}`.\n",
            c.features.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
        );
        let run_root = format!("{experiment_id}/{run}/artifacts");
        put(
            router,
            token,
            &format!("{run_root}/evaluation/feature_weights.csv"),
            csv.into_bytes(),
        )
        .await?;
        put(
            router,
            token,
            &format!("{run_root}/model_card.md"),
            md.into_bytes(),
        )
        .await?;
        send(
            router,
            token,
            "/api/2.0/mlflow/runs/outputs",
            &json!({ "run_id": run, "models": [{ "model_id": model_id, "step": 0 }] }),
            StatusCode::OK,
        )
        .await?;
    }
    Ok(model_id)
}

#[cfg(test)]
mod tests {
    use super::mlmodel;

    #[test]
    fn the_mlmodel_file_names_the_model_and_its_run_only_when_there_is_one() {
        let root = "3/models/m-1/artifacts";
        let inputs = r#"[{"type": "double", "name": "x", "required": true}]"#;
        let with_run = mlmodel(
            root,
            "m-1",
            Some("abc"),
            inputs,
            "2026-12-04 10:00:00.000000",
        );
        let v: serde_yaml::Value = serde_yaml::from_str(&with_run).expect("MLmodel is YAML");
        assert_eq!(
            v["artifact_path"],
            "mlflow-artifacts:/3/models/m-1/artifacts"
        );
        assert_eq!(v["model_id"], "m-1");
        assert_eq!(v["run_id"], "abc");
        assert_eq!(v["signature"]["inputs"], inputs);
        assert_eq!(v["utc_time_created"], "2026-12-04 10:00:00.000000");
        assert_eq!(
            v["flavors"]["python_function"]["model_code_path"],
            "scorecard.py"
        );
        let without = mlmodel(root, "m-1", None, inputs, "2026-12-04 10:00:00.000000");
        assert!(!without.contains("run_id"), "{without}");
        assert_eq!(without.lines().count() + 1, with_run.lines().count());
    }
}
