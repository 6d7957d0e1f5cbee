//! The MLflow-compatible tracking API: every endpoint, its errors and limits, auth and audit.

use crate::common::{spawn_app, TestApp};
use app::domain::roles::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Api {
    app: TestApp,
    client: reqwest::Client,
    token: String,
}

impl Api {
    async fn new() -> Api {
        let app = spawn_app().await;
        app.user("sci", &[Role::Scientist]).await;
        let token = app::service::accounts::create_token(
            &app.pool,
            "test",
            "sci",
            "mlflow",
            app::service::accounts::Issue::operator(),
        )
        .await
        .unwrap()
        .token;
        let client = app.client();
        Api { app, client, token }
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(self.app.url(&format!("/api/2.0/mlflow/{path}")))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .client
            .get(self.app.url(&format!("/api/2.0/mlflow/{path}")))
            .bearer_auth(&self.token)
            .query(query)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.post(path, body).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v
    }

    async fn experiment(&self, name: &str) -> String {
        self.ok("experiments/create", json!({ "name": name })).await["experiment_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn run(&self, exp: &str, name: &str) -> String {
        let v = self.ok("runs/create", json!({ "experiment_id": exp, "run_name": name, "start_time": 1_700_000_000_000i64 })).await;
        v["run"]["info"]["run_id"].as_str().unwrap().to_owned()
    }
}

fn error_code(v: &Value) -> &str {
    v["error_code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experiments_lifecycle() {
    let api = Api::new().await;
    let id = api.experiment("churn").await;
    let (s, v) = api
        .post("experiments/create", json!({ "name": "churn" }))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&v), "RESOURCE_ALREADY_EXISTS");
    let (s, v) = api.post("experiments/create", json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&v), "INVALID_PARAMETER_VALUE");

    let (_, v) = api.get("experiments/get", &[("experiment_id", &id)]).await;
    assert_eq!(v["experiment"]["name"], "churn");
    assert_eq!(v["experiment"]["lifecycle_stage"], "active");
    let (s, v) = api
        .get("experiments/get", &[("experiment_id", "999")])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "RESOURCE_DOES_NOT_EXIST");

    api.ok(
        "experiments/set-experiment-tag",
        json!({ "experiment_id": id, "key": "owner", "value": "risk" }),
    )
    .await;
    api.ok(
        "experiments/update",
        json!({ "experiment_id": id, "new_name": "churn-v2" }),
    )
    .await;
    let (_, v) = api
        .get(
            "experiments/get-by-name",
            &[("experiment_name", "churn-v2")],
        )
        .await;
    assert_eq!(v["experiment"]["experiment_id"], id.as_str());
    assert_eq!(
        v["experiment"]["tags"],
        json!([{ "key": "owner", "value": "risk" }])
    );
    let (s, _) = api
        .get("experiments/get-by-name", &[("experiment_name", "churn")])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    api.experiment("credit").await;
    let v = api
        .ok(
            "experiments/search",
            json!({ "filter": "name LIKE 'c%'", "max_results": 1 }),
        )
        .await;
    assert_eq!(v["experiments"].as_array().unwrap().len(), 1);
    let token = v["next_page_token"].as_str().unwrap().to_owned();
    let v2 = api
        .ok(
            "experiments/search",
            json!({ "filter": "name LIKE 'c%'", "max_results": 1, "page_token": token }),
        )
        .await;
    assert_eq!(v2["experiments"].as_array().unwrap().len(), 1);
    assert!(v2.get("next_page_token").is_none());

    api.ok("experiments/delete", json!({ "experiment_id": id }))
        .await;
    let v = api.ok("experiments/search", json!({})).await;
    let names: Vec<&str> = v["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"churn-v2") && names.contains(&"Default"),
        "{names:?}"
    );
    let v = api
        .ok("experiments/search", json!({ "view_type": "DELETED_ONLY" }))
        .await;
    assert_eq!(v["experiments"][0]["name"], "churn-v2");
    let (s, _) = api
        .post("runs/create", json!({ "experiment_id": id }))
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "no runs in a deleted experiment"
    );
    api.ok("experiments/restore", json!({ "experiment_id": id }))
        .await;
    api.run(&id, "after-restore").await;

    let actions: Vec<String> = api
        .app
        .audit_actions()
        .await
        .into_iter()
        .map(|(_, a, _)| a)
        .collect();
    for a in [
        "mlflow.experiment.create",
        "mlflow.experiment.set_tag",
        "mlflow.experiment.rename",
        "mlflow.experiment.delete",
        "mlflow.experiment.restore",
    ] {
        assert!(actions.contains(&a.to_string()), "{a} audited: {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_log_and_read_back() {
    let api = Api::new().await;
    let exp = api.experiment("credit").await;
    let run = api.run(&exp, "baseline").await;

    api.ok(
        "runs/log-parameter",
        json!({ "run_id": run, "key": "lr", "value": "0.1" }),
    )
    .await;
    // Optional fields a run does not have yet are absent, not null, as in MLflow.
    let (_, v) = api.get("runs/get", &[("run_id", &run)]).await;
    assert!(v["run"]["info"]["start_time"].is_i64(), "{v}");
    assert!(v["run"]["info"].get("end_time").is_none(), "{v}");
    let (_, v) = api.get("runs/get", &[("run_id", &"f".repeat(32))]).await;
    assert_eq!(v["error_code"], "RESOURCE_DOES_NOT_EXIST");
    api.ok(
        "runs/log-parameter",
        json!({ "run_id": run, "key": "lr", "value": "0.1" }),
    )
    .await;
    let (s, v) = api
        .post(
            "runs/log-parameter",
            json!({ "run_id": run, "key": "lr", "value": "0.2" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Changing param values is not allowed"),
        "{v}"
    );

    for (step, value) in [
        (0, json!(0.9)),
        (1, json!(0.5)),
        (2, json!("NaN")),
        (3, json!(0.25)),
    ] {
        api.ok("runs/log-metric", json!({ "run_id": run, "key": "loss", "value": value, "timestamp": "1700000000100", "step": step })).await;
    }
    api.ok(
        "runs/log-metric",
        json!({ "run_id": run, "key": "peak", "value": "Infinity", "timestamp": 1, "step": 0 }),
    )
    .await;
    api.ok(
        "runs/set-tag",
        json!({ "run_id": run, "key": "team", "value": "risk" }),
    )
    .await;
    api.ok(
        "runs/set-tag",
        json!({ "run_id": run, "key": "tmp", "value": "x" }),
    )
    .await;
    api.ok("runs/delete-tag", json!({ "run_id": run, "key": "tmp" }))
        .await;
    let (s, v) = api
        .post("runs/delete-tag", json!({ "run_id": run, "key": "tmp" }))
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST")
    );
    api.ok(
        "runs/log-batch",
        json!({
            "run_id": run,
            "metrics": [{ "key": "auc", "value": 0.81, "timestamp": 5, "step": 1 }, { "key": "auc", "value": 0.79, "timestamp": 6, "step": 0 }],
            "params": [{ "key": "depth", "value": "6" }],
            "tags": [{ "key": "mlflow.runName", "value": "renamed" }]
        }),
    )
    .await;
    api.ok(
        "runs/log-inputs",
        json!({ "run_id": run, "datasets": [{ "tags": [{ "key": "mlflow.data.context", "value": "training" }],
            "dataset": { "name": "credit-train", "digest": "abc123", "source_type": "s3", "source": "{\"uri\": \"s3://b/k\"}", "schema": "{}" } }] }),
    )
    .await;
    let v = api
        .ok(
            "runs/update",
            json!({ "run_id": run, "status": "FINISHED", "end_time": 1_700_000_999_000i64 }),
        )
        .await;
    assert_eq!(v["run_info"]["status"], "FINISHED");

    api.ok(
        "runs/log-metric",
        json!({ "run_id": run, "key": "exact", "value": 0.1f64 + 0.2f64, "timestamp": 1, "step": 0 }),
    )
    .await;
    let (_, v) = api.get("runs/get", &[("run_id", &run)]).await;
    let r = &v["run"];
    assert_eq!(r["info"]["run_name"], "renamed");
    let exact = r["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "exact")
        .map(|m| m["value"].as_f64());
    assert_eq!(exact, Some(Some(0.1f64 + 0.2f64)), "every f64 round-trips");
    assert_eq!(
        r["inputs"]["dataset_inputs"][0]["tags"],
        json!([{ "key": "mlflow.data.context", "value": "training" }])
    );
    assert_eq!(r["info"]["end_time"], 1_700_000_999_000i64);
    let metrics: Vec<(String, Value)> = r["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["key"].as_str().unwrap().to_owned(), m["value"].clone()))
        .collect();
    assert!(
        metrics.contains(&("loss".into(), json!(0.25))),
        "latest by step: {metrics:?}"
    );
    assert!(
        metrics.contains(&("auc".into(), json!(0.81))),
        "latest by step, not by arrival: {metrics:?}"
    );
    assert!(
        metrics.contains(&("peak".into(), json!("Infinity"))),
        "{metrics:?}"
    );
    assert_eq!(
        r["data"]["params"],
        json!([{ "key": "depth", "value": "6" }, { "key": "lr", "value": "0.1" }])
    );
    let tags = r["data"]["tags"].as_array().unwrap();
    assert!(
        tags.contains(&json!({ "key": "team", "value": "risk" }))
            && !tags.iter().any(|t| t["key"] == "tmp")
    );
    assert_eq!(
        r["inputs"]["dataset_inputs"][0]["dataset"]["digest"],
        "abc123"
    );
    assert!(
        r["inputs"]["dataset_inputs"][0]["dataset"]
            .get("profile")
            .is_none(),
        "absent profile is left out: {r}"
    );

    let (_, v) = api
        .get(
            "metrics/get-history",
            &[("run_id", &run), ("metric_key", "loss")],
        )
        .await;
    let values: Vec<Value> = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].clone())
        .collect();
    assert_eq!(
        values,
        vec![json!(0.9), json!(0.5), json!("NaN"), json!(0.25)]
    );
    let (_, v) = api
        .get(
            "metrics/get-history",
            &[
                ("run_id", &run),
                ("metric_key", "loss"),
                ("max_results", "3"),
            ],
        )
        .await;
    assert_eq!(v["metrics"].as_array().unwrap().len(), 3);
    assert_eq!(v["next_page_token"], "3");
    let (s, _) = api
        .get(
            "metrics/get-history",
            &[("run_id", "nope"), ("metric_key", "loss")],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    api.ok("runs/delete", json!({ "run_id": run })).await;
    let (s, v) = api
        .post(
            "runs/log-metric",
            json!({ "run_id": run, "key": "x", "value": 1, "timestamp": 1 }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    api.ok("runs/restore", json!({ "run_id": run })).await;

    // One audit entry per request, never per metric point.
    let batch_entries = api
        .app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(_, a, _)| a == "mlflow.run.log_batch")
        .count();
    assert_eq!(batch_entries, 1);
    assert!(api
        .app
        .audit_actions()
        .await
        .iter()
        .all(|(actor, a, _)| !a.starts_with("mlflow.") || actor == "sci/token:mlflow"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_batch_limits_and_atomicity() {
    let api = Api::new().await;
    let exp = api.experiment("limits").await;
    let run = api.run(&exp, "r").await;
    let metrics: Vec<Value> = (0..1001)
        .map(|i| json!({ "key": "m", "value": i, "timestamp": 1, "step": i }))
        .collect();
    let (s, v) = api
        .post(
            "runs/log-batch",
            json!({ "run_id": run, "metrics": metrics }),
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE")
    );
    let params: Vec<Value> = (0..101)
        .map(|i| json!({ "key": format!("p{i}"), "value": "v" }))
        .collect();
    let (s, _) = api
        .post("runs/log-batch", json!({ "run_id": run, "params": params }))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let tags: Vec<Value> = (0..101)
        .map(|i| json!({ "key": format!("t{i}"), "value": "v" }))
        .collect();
    let (s, _) = api
        .post("runs/log-batch", json!({ "run_id": run, "tags": tags }))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api
        .post(
            "runs/log-parameter",
            json!({ "run_id": run, "key": "long", "value": "x".repeat(6001) }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // A batch whose second param conflicts stores nothing at all.
    api.ok(
        "runs/log-parameter",
        json!({ "run_id": run, "key": "fixed", "value": "1" }),
    )
    .await;
    let (s, v) = api
        .post(
            "runs/log-batch",
            json!({ "run_id": run, "metrics": [{ "key": "good", "value": 1, "timestamp": 1 }], "params": [{ "key": "new", "value": "a" }, { "key": "fixed", "value": "2" }] }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"].as_str().unwrap().contains("params[1]"),
        "names the row: {v}"
    );
    let (_, v) = api.get("runs/get", &[("run_id", &run)]).await;
    assert_eq!(
        v["run"]["data"]["params"],
        json!([{ "key": "fixed", "value": "1" }])
    );
    assert_eq!(v["run"]["data"]["metrics"], json!([]));

    let (s, v) = api
        .post("runs/log-batch", json!({ "run_id": "missing" }))
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST")
    );
    let r = api
        .client
        .post(api.app.url("/api/2.0/mlflow/runs/log-batch"))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_code"],
        "INVALID_PARAMETER_VALUE"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_runs_filters_orders_and_pages() {
    let api = Api::new().await;
    let exp = api.experiment("search").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let run = api.run(&exp, &format!("run-{i}")).await;
        api.ok(
            "runs/log-batch",
            json!({ "run_id": run,
                "metrics": [{ "key": "auc", "value": 0.6 + 0.05 * i as f64, "timestamp": 1, "step": 0 }],
                "params": [{ "key": "opt", "value": if i % 2 == 0 { "Adam" } else { "sgd" } }, { "key": "depth", "value": i.to_string() }],
                "tags": [{ "key": "team", "value": "credit" }] }),
        )
        .await;
        ids.push(run);
    }
    api.ok(
        "runs/update",
        json!({ "run_id": ids[4], "status": "FAILED" }),
    )
    .await;
    let names = |v: &Value| -> Vec<String> {
        v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["info"]["run_name"].as_str().unwrap().to_owned())
            .collect()
    };

    let v = api.ok("runs/search", json!({ "experiment_ids": [exp], "filter": "metrics.auc >= 0.7", "order_by": ["metrics.auc DESC"] })).await;
    assert_eq!(names(&v), vec!["run-4", "run-3", "run-2"]);
    let v = api.ok("runs/search", json!({ "experiment_ids": [exp], "filter": "params.opt LIKE 'Ad%'", "order_by": ["params.depth ASC"] })).await;
    assert_eq!(names(&v), vec!["run-0", "run-2", "run-4"]);
    let v = api
        .ok(
            "runs/search",
            json!({ "experiment_ids": [exp], "filter": "params.opt LIKE 'ad%'" }),
        )
        .await;
    assert!(names(&v).is_empty(), "LIKE is case-sensitive");
    let v = api
        .ok(
            "runs/search",
            json!({ "experiment_ids": [exp], "filter": "params.opt ILIKE 'ad%'" }),
        )
        .await;
    assert_eq!(names(&v).len(), 3);
    let v = api.ok("runs/search", json!({ "experiment_ids": [exp], "filter": "attributes.status = 'FAILED' and tags.team = 'credit'" })).await;
    assert_eq!(names(&v), vec!["run-4"]);
    let v = api.ok("runs/search", json!({ "experiment_ids": [exp], "filter": "params.depth IN ('1', '3')", "order_by": ["attributes.run_name"] })).await;
    assert_eq!(names(&v), vec!["run-1", "run-3"]);
    let v = api.ok("runs/search", json!({ "experiment_ids": [exp], "filter": "params.depth NOT IN ('1', '3')", "order_by": ["attributes.run_name DESC"] })).await;
    assert_eq!(names(&v), vec!["run-4", "run-2", "run-0"]);

    let v = api
        .ok(
            "runs/search",
            json!({ "experiment_ids": [exp], "order_by": ["params.depth ASC"], "max_results": 2 }),
        )
        .await;
    assert_eq!(names(&v), vec!["run-0", "run-1"]);
    let v = api.ok("runs/search", json!({ "experiment_ids": [exp], "order_by": ["params.depth ASC"], "max_results": 2, "page_token": v["next_page_token"] })).await;
    assert_eq!(names(&v), vec!["run-2", "run-3"]);

    api.ok("runs/delete", json!({ "run_id": ids[0] })).await;
    let v = api
        .ok("runs/search", json!({ "experiment_ids": [exp] }))
        .await;
    assert_eq!(names(&v).len(), 4);
    let v = api
        .ok(
            "runs/search",
            json!({ "experiment_ids": [exp], "run_view_type": "ALL" }),
        )
        .await;
    assert_eq!(names(&v).len(), 5);

    let (s, v) = api
        .post(
            "runs/search",
            json!({ "experiment_ids": [exp], "filter": "metrics.auc > 0.5 OR params.x = '1'" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("OR"), "{v}");
    let (s, _) = api
        .post(
            "runs/search",
            json!({ "experiment_ids": [exp], "max_results": 50_001 }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api
        .post(
            "runs/search",
            json!({ "experiment_ids": [exp], "order_by": ["metrics.auc sideways"] }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_without_the_sort_value_come_last_on_every_page_in_either_direction() {
    let api = Api::new().await;
    let exp = api.experiment("order").await;
    // (metric m, param p, param g): NaN and a missing metric both sort after every value.
    let data: [(Option<Value>, Option<&str>, &str); 7] = [
        (Some(json!(0.5)), Some("b"), "a"),
        (Some(json!(0.5)), Some("a"), "b"),
        (Some(json!("NaN")), Some("z"), "a"),
        (None, Some("y"), "b"),
        (Some(json!(0.9)), None, "a"),
        (None, None, "a"),
        (Some(json!(0.1)), Some("c"), "b"),
    ];
    let mut runs = Vec::new();
    for (i, (m, p, g)) in data.iter().enumerate() {
        let id = api.run(&exp, &format!("r{i}")).await;
        let mut params = vec![json!({ "key": "g", "value": g })];
        params.extend(p.map(|p| json!({ "key": "p", "value": p })));
        let metrics: Vec<Value> = m
            .iter()
            .map(|v| json!({ "key": "m", "value": v, "timestamp": 1, "step": 0 }))
            .collect();
        api.ok(
            "runs/log-batch",
            json!({ "run_id": id, "metrics": metrics, "params": params }),
        )
        .await;
        let value = m.as_ref().and_then(Value::as_f64);
        runs.push((format!("r{i}"), id, value, p.map(str::to_owned), *g));
    }
    // Every page of two, followed by its token, as the MLflow client pages.
    let all_pages = |filter: &'static str, order: Vec<&'static str>| {
        let (api, exp) = (&api, exp.clone());
        async move {
            let mut names = Vec::new();
            let mut token = Value::Null;
            loop {
                let mut body =
                    json!({ "experiment_ids": [exp], "order_by": order, "max_results": 2 });
                if !filter.is_empty() {
                    body["filter"] = json!(filter);
                }
                if !token.is_null() {
                    body["page_token"] = token.clone();
                }
                let v = api.ok("runs/search", body).await;
                for r in v["runs"].as_array().unwrap() {
                    names.push(r["info"]["run_name"].as_str().unwrap().to_owned());
                }
                token = v["next_page_token"].clone();
                if token.is_null() || token == json!("") {
                    return names;
                }
            }
        }
    };
    // The expected order: valued runs by value (ties by run id), then the others by run id
    // (every run started at the same time).
    let expected = |ascending: bool, only_g: Option<&str>| -> Vec<String> {
        let mut chosen: Vec<_> = runs
            .iter()
            .filter(|r| only_g.is_none_or(|g| r.4 == g))
            .collect();
        chosen.sort_by(|a, b| match (a.2, b.2) {
            (Some(x), Some(y)) => {
                let by = if ascending {
                    x.total_cmp(&y)
                } else {
                    y.total_cmp(&x)
                };
                by.then(a.1.cmp(&b.1))
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.1.cmp(&b.1),
        });
        chosen.iter().map(|r| r.0.clone()).collect()
    };
    assert_eq!(
        all_pages("", vec!["metrics.m DESC"]).await,
        expected(false, None)
    );
    assert_eq!(
        all_pages("", vec!["metrics.m ASC"]).await,
        expected(true, None)
    );
    assert_eq!(
        all_pages("params.g = 'a'", vec!["metrics.m DESC"]).await,
        expected(false, Some("a"))
    );
    assert_eq!(
        all_pages("params.g = 'b'", vec!["metrics.m ASC"]).await,
        expected(true, Some("b"))
    );
    // A second key orders the ties of the first, and the runs without the first value.
    assert_eq!(
        all_pages("", vec!["metrics.m DESC", "params.p ASC"]).await,
        vec!["r4", "r1", "r0", "r6", "r3", "r2", "r5"]
    );
    // Sorted by a param: the runs without it last, by run id.
    let mut without: Vec<(&String, &str)> = vec![(&runs[4].1, "r4"), (&runs[5].1, "r5")];
    without.sort();
    let mut want = vec!["r2", "r3", "r6", "r0", "r1"];
    want.extend(without.iter().map(|w| w.1));
    assert_eq!(all_pages("", vec!["params.p DESC"]).await, want);
    // An equality filter with a range filter beside it, sorted by a metric, by a param and
    // newest first (on PostgreSQL, the set of runs both match probed along the sort order).
    assert_eq!(
        all_pages("params.g = 'a' and metrics.m > 0.2", vec!["metrics.m DESC"]).await,
        vec!["r4", "r0"]
    );
    assert_eq!(
        all_pages("params.g = 'b' and metrics.m < 0.6", vec!["metrics.m ASC"]).await,
        vec!["r6", "r1"]
    );
    assert_eq!(
        all_pages("metrics.m > 0.2 and params.g = 'a'", vec!["params.p ASC"]).await,
        vec!["r0", "r4"]
    );
    let mut newest = [(&runs[0].1, "r0"), (&runs[4].1, "r4")];
    newest.sort();
    assert_eq!(
        all_pages("params.g = 'a' and metrics.m > 0.2", vec![]).await,
        newest.iter().map(|w| w.1).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_need_viewer_and_writes_need_scientist() {
    let api = Api::new().await;
    let anon = api.app.client();
    let r = anon
        .post(api.app.url("/api/2.0/mlflow/experiments/create"))
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_code"],
        "UNAUTHENTICATED"
    );

    api.app.user("vera", &[Role::Viewer]).await;
    let viewer = app::service::accounts::create_token(
        &api.app.pool,
        "test",
        "vera",
        "ro",
        app::service::accounts::Issue::operator(),
    )
    .await
    .unwrap()
    .token;
    let r = anon
        .post(api.app.url("/api/2.0/mlflow/experiments/create"))
        .bearer_auth(&viewer)
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_code"],
        "PERMISSION_DENIED"
    );
    let r = anon
        .get(
            api.app
                .url("/api/2.0/mlflow/experiments/get?experiment_id=0"),
        )
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["experiment"]["name"],
        "Default"
    );

    let r = anon.get(api.app.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = anon
        .get(api.app.url("/api/2.0/mlflow/artifacts/list"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_code"],
        "RESOURCE_DOES_NOT_EXIST"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_are_sent_through_the_api_once() {
    let app = spawn_app().await;
    app::service::demo::seed(&app.pool).await.unwrap();
    let router = app.router();
    server::demo::seed_tracking(&router, &app.pool)
        .await
        .unwrap();
    server::demo::seed_tracking(&router, &app.pool)
        .await
        .unwrap();
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM runs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(runs, 40);
    let metric_keys: i64 = sqlx::query_scalar("SELECT count(DISTINCT key) FROM latest_metrics")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(metric_keys, 8);
    let creates = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(actor, a, _)| a == "mlflow.run.create" && actor == "scientist/token:demo-ingest")
        .count();
    assert_eq!(creates, 40);
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(live, 0, "the ingestion token is revoked");
    assert!(app::store::audit::verify(&app.pool).await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_pages_render_the_logged_data() {
    let api = Api::new().await;
    let exp = api.experiment("pages").await;
    let mut ids = Vec::new();
    for (i, depth) in ["4", "8"].iter().enumerate() {
        let run = api.run(&exp, &format!("depth-{depth}")).await;
        let metrics: Vec<Value> = (0..5).map(|s| json!({ "key": "val_loss", "value": 1.0 / (s as f64 + 1.0 + i as f64), "timestamp": 1, "step": s })).collect();
        api.ok(
            "runs/log-batch",
            json!({ "run_id": run, "metrics": metrics, "params": [{ "key": "max_depth", "value": depth }, { "key": "seed", "value": "7" }] }),
        )
        .await;
        ids.push(run);
    }
    let viewer = api.app.signed_in("vic", &[Role::Viewer]).await;
    let html = viewer
        .get(api.app.url("/runs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("pages") && html.contains(&format!("/runs/experiment/{exp}")),
        "experiment listed"
    );

    let r = viewer
        .get(api.app.url(&format!(
            "/runs/experiment/{exp}?filter=params.max_depth%20%3D%20%278%27"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("depth-8") && !html.contains("depth-4"),
        "filtered table"
    );

    let html = viewer
        .get(api.app.url(&format!(
            "/runs/experiment/{exp}?filter=metrics.x%20%3E%20%27a%27"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("needs a number"),
        "a bad filter explains itself"
    );

    let html = viewer
        .get(
            api.app
                .url(&format!("/runs/compare?run={}&run={}", ids[0], ids[1])),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Hydration markers sit between static and dynamic text; drop them to read the text.
    let text = html.replace("<!-- -->", "").replace("<!>", "");
    let diff = text.find("Parameters that differ").unwrap();
    let identical = text
        .find("Show identical params (1)")
        .unwrap_or_else(|| panic!("{}", &text[diff..diff + 2000]));
    assert!(diff < identical, "differences come first");
    assert!(
        html.contains("max_depth") && html.contains("<svg"),
        "history chart drawn"
    );
    assert!(html.contains("★"), "best run marked");
    assert!(
        text.contains("Values of val_loss") && text.contains("0.333333"),
        "exact values listed under the chart"
    );
    // Parallel coordinates over the differing param and the metric, and a scatter of the
    // numeric param against it, each with its exact values.
    assert!(
        text.contains("Differing params and val_loss")
            && text.contains("Values of val_loss against max_depth"),
        "parallel coordinates and scatter drawn"
    );
    assert!(
        html.matches("<svg").count() >= 3,
        "history, parallel and scatter charts"
    );
    let r = viewer
        .get(api.app.url(&format!(
            "/runs/compare?run={}&run={}&pc_metric=nope",
            ids[0], ids[1]
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("the metric"));

    let r = viewer
        .get(api.app.url(&format!("/runs/compare?run={}", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let html = viewer
        .get(api.app.url(&format!("/runs/run/{}", ids[1])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("depth-8") && html.contains("val_loss") && html.contains("<svg"));
    let r = viewer
        .get(api.app.url("/runs/run/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = api
        .app
        .client()
        .get(api.app.url(&format!("/runs/run/{}", ids[1])))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "sub-pages need sign-in too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_run_is_set_audited_and_offered_for_comparison() {
    let api = Api::new().await;
    let exp = api.experiment("baseline").await;
    let (first, second) = (api.run(&exp, "first").await, api.run(&exp, "second").await);
    let set = |c: &reqwest::Client, run: &str, on: bool| {
        c.post(api.app.url("/api/set_baseline"))
            .header("accept", "application/json")
            .form(&[
                ("run_id", run),
                ("baseline", if on { "true" } else { "false" }),
            ])
            .send()
    };

    let viewer = api.app.signed_in("vic", &[Role::Viewer]).await;
    let r = set(&viewer, &first, true).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "viewers cannot set it");

    let sci = api.app.signed_in("sam", &[Role::Scientist]).await;
    let r = set(&sci, &first, false).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "not the baseline yet");
    assert!(r.text().await.unwrap().contains("run_id"));
    let r = set(&sci, &"0".repeat(32), true).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = set(&sci, &first, true).await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    // Stored as the experiment tag that MLflow clients can read, and audited.
    let (_, v) = api.get("experiments/get", &[("experiment_id", &exp)]).await;
    assert!(
        v["experiment"]["tags"]
            .as_array()
            .unwrap()
            .contains(&json!({ "key": "gatehouse.baseline", "value": first })),
        "{v}"
    );
    let actions = api.app.audit_actions().await;
    assert!(actions
        .iter()
        .any(|(actor, a, id)| actor == "sam" && a == "run.baseline.set" && id == &first));

    let page = |path: String| {
        let viewer = viewer.clone();
        let url = api.app.url(&path);
        async move {
            let html = viewer.get(url).send().await.unwrap().text().await.unwrap();
            html.replace("<!-- -->", "").replace("<!>", "")
        }
    };
    let table = page(format!("/runs/experiment/{exp}")).await;
    assert!(table.contains("badge baseline"), "marked in the runs table");
    let detail = page(format!("/runs/run/{second}")).await;
    assert!(
        detail.contains(&format!("/runs/compare?run={first}&amp;run={second}")),
        "the run page links to a comparison with the baseline"
    );
    let r = api
        .post(
            "runs/create",
            json!({ "experiment_id": exp, "run_name": "third" }),
        )
        .await
        .1;
    let third = r["run"]["info"]["run_id"].as_str().unwrap().to_owned();
    let compare = page(format!("/runs/compare?run={second}&run={third}")).await;
    assert!(
        compare.contains("Add the baseline run (first)"),
        "the compare page offers the baseline"
    );

    // Moving the baseline records the previous one; clearing removes the tag.
    let r = set(&sci, &second, true).await.unwrap();
    assert!(r.status().is_success());
    let r = set(&sci, &second, false).await.unwrap();
    assert!(r.status().is_success());
    let (_, v) = api.get("experiments/get", &[("experiment_id", &exp)]).await;
    assert!(!v.to_string().contains("gatehouse.baseline"), "{v}");
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action LIKE 'run.baseline.%' ORDER BY seq",
    )
    .fetch_all(&api.app.pool)
    .await
    .unwrap();
    assert_eq!(details.len(), 3);
    assert!(
        details[1].contains(&first),
        "previous baseline recorded: {}",
        details[1]
    );
}

/// Every name follows one rule: bounded, no control or bidirectional formatting characters,
/// and a refusal that does not repeat the name.
#[tokio::test]
async fn names_are_checked_and_refusals_do_not_echo_them() {
    let api = Api::new().await;
    let before = api.app.audit_count().await;
    let long = "x".repeat(900_000);
    for (name, says) in [
        (long.as_str(), "900000 characters long; the limit is 256"),
        ("a\u{0}b", "U+0000"),
        ("invoice\u{202E}fdp.exe", "U+202E"),
        ("  ", "must not be empty"),
    ] {
        let (s, v) = api
            .post("experiments/create", json!({ "name": name }))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{says}: {v}");
        assert_eq!(v["error_code"], "INVALID_PARAMETER_VALUE");
        let m = v["message"].as_str().unwrap();
        assert!(m.contains(says), "{m}");
        assert!(m.len() < 200 && !m.contains("xxxxxxxxxx"), "{m}");
    }
    let exp = api.experiment("names").await;
    let (s, v) = api
        .post(
            "runs/create",
            json!({ "experiment_id": exp, "run_name": "good\u{2066}run", "start_time": 1 }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("U+2066"), "{v}");
    let long_model = "m".repeat(5000);
    let (s, v) = api
        .post("registered-models/create", json!({ "name": long_model }))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(
        m.contains("the limit is 256") && !m.contains("mmmmmmmmmm"),
        "{m}"
    );
    // Only the one good experiment was stored and audited.
    assert_eq!(api.app.audit_count().await, before + 1);
}
