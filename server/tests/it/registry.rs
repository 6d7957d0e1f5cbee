//! The model registry: MLflow-shaped endpoints, protected aliases, alias history, lineage.

use crate::common::{spawn_app, TestApp};
use app::domain::roles::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Api {
    app: TestApp,
    client: reqwest::Client,
    tokens: std::collections::HashMap<&'static str, String>,
}

impl Api {
    async fn new() -> Api {
        let app = spawn_app().await;
        for (u, r) in [
            ("sci", Role::Scientist),
            ("rev", Role::Reviewer),
            ("adm", Role::Admin),
            ("view", Role::Viewer),
        ] {
            app.user(u, &[r]).await;
        }
        let mut tokens = std::collections::HashMap::new();
        for u in ["sci", "rev", "adm", "view"] {
            let t = app::service::accounts::create_token(
                &app.pool,
                u,
                u,
                "t",
                app::service::accounts::Issue::owner(),
            )
            .await
            .unwrap()
            .token;
            tokens.insert(u, t);
        }
        let client = app.client();
        Api {
            app,
            client,
            tokens,
        }
    }

    async fn call(
        &self,
        user: &str,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let token = &self.tokens[user];
        let mut r = self
            .client
            .request(method.clone(), self.app.url(path))
            .bearer_auth(token);
        if method == Method::GET {
            let q: Vec<(String, String)> = body
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| v.to_string()),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            r = r.query(&q);
        } else {
            r = r.json(&body);
        }
        let r = r.send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, user: &str, method: Method, path: &str, body: Value) -> Value {
        let (s, v) = self.call(user, method, path, body).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v
    }

    /// A finished MLflow run with an AUC and a training dataset with a digest.
    async fn run(&self) -> String {
        let m = "/api/2.0/mlflow";
        let e = self
            .ok(
                "sci",
                Method::POST,
                &format!("{m}/experiments/create"),
                json!({ "name": "credit" }),
            )
            .await;
        let r = self
            .ok(
                "sci",
                Method::POST,
                &format!("{m}/runs/create"),
                json!({ "experiment_id": e["experiment_id"], "start_time": 1 }),
            )
            .await;
        let run_id = r["run"]["info"]["run_id"].as_str().unwrap().to_string();
        self.ok(
            "sci",
            Method::POST,
            &format!("{m}/runs/log-batch"),
            json!({ "run_id": run_id, "metrics": [{ "key": "auc", "value": 0.83, "timestamp": 1, "step": 0 }] }),
        )
        .await;
        run_id
    }
}

const M: &str = "/api/2.0/mlflow";

#[tokio::test]
async fn models_and_versions_have_mlflow_shapes() {
    let api = Api::new().await;
    let run_id = api.run().await;
    let created = api
        .ok("sci", Method::POST, &format!("{M}/registered-models/create"), json!({ "name": "credit-default", "description": "PD model", "tags": [{ "key": "team", "value": "risk" }] }))
        .await;
    assert_eq!(created["registered_model"]["name"], "credit-default");
    assert_eq!(
        created["registered_model"]["tags"],
        json!([{ "key": "team", "value": "risk" }])
    );
    // A second create says RESOURCE_ALREADY_EXISTS, as register_model expects.
    let (s, v) = api
        .call(
            "sci",
            Method::POST,
            &format!("{M}/registered-models/create"),
            json!({ "name": "credit-default" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error_code"], "RESOURCE_ALREADY_EXISTS");

    let v1 = api
        .ok(
            "sci",
            Method::POST,
            &format!("{M}/model-versions/create"),
            json!({ "name": "credit-default", "source": "s3://models/credit/1", "run_id": run_id }),
        )
        .await;
    assert_eq!(v1["model_version"]["version"], "1");
    assert_eq!(v1["model_version"]["status"], "READY");
    assert_eq!(v1["model_version"]["run_id"], run_id);
    let v2 = api
        .ok("sci", Method::POST, &format!("{M}/model-versions/create"), json!({ "name": "credit-default", "source": "s3://models/credit/2", "tags": [{ "key": "candidate", "value": "yes" }] }))
        .await;
    assert_eq!(v2["model_version"]["version"], "2");

    let got = api
        .ok(
            "view",
            Method::GET,
            &format!("{M}/model-versions/get"),
            json!({ "name": "credit-default", "version": "2" }),
        )
        .await;
    assert_eq!(
        got["model_version"]["tags"],
        json!([{ "key": "candidate", "value": "yes" }])
    );
    let found = api
        .ok(
            "view",
            Method::GET,
            &format!("{M}/model-versions/search"),
            json!({ "filter": "name='credit-default'" }),
        )
        .await;
    let versions: Vec<&str> = found["model_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2", "1"]);
    let by_run = api
        .ok(
            "view",
            Method::GET,
            &format!("{M}/model-versions/search"),
            json!({ "filter": format!("run_id = '{run_id}'") }),
        )
        .await;
    assert_eq!(by_run["model_versions"].as_array().unwrap().len(), 1);
    let (s, v) = api
        .call(
            "view",
            Method::GET,
            &format!("{M}/model-versions/search"),
            json!({ "filter": "stage = 'x'" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("stage"), "{v}");

    let m = api
        .ok(
            "view",
            Method::GET,
            &format!("{M}/registered-models/get"),
            json!({ "name": "credit-default" }),
        )
        .await;
    assert_eq!(m["registered_model"]["latest_versions"][0]["version"], "2");

    // Bad input names its field; an unknown run is refused before anything is stored.
    let (s, v) = api
        .call(
            "sci",
            Method::POST,
            &format!("{M}/model-versions/create"),
            json!({ "name": "credit-default", "source": "x", "run_id": "nope" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().starts_with("run_id"), "{v}");
    let (s, _) = api
        .call(
            "view",
            Method::GET,
            &format!("{M}/model-versions/get"),
            json!({ "name": "credit-default", "version": "9" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = api
        .call(
            "sci",
            Method::POST,
            &format!("{M}/registered-models/create"),
            json!({ "name": "a/b" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // Viewers and reviewers cannot write to the registry.
    for who in ["view", "rev"] {
        let (s, v) = api
            .call(
                who,
                Method::POST,
                &format!("{M}/model-versions/create"),
                json!({ "name": "credit-default", "source": "x" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {v}");
    }
    let actions: Vec<String> = api
        .app
        .audit_actions()
        .await
        .into_iter()
        .map(|(_, a, _)| a)
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "registry.version.create")
            .count(),
        2
    );
    assert!(actions.contains(&"registry.model.create".to_string()));
}

#[tokio::test]
async fn protected_aliases_move_only_through_promotions_and_history_is_kept() {
    let api = Api::new().await;
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/registered-models/create"),
        json!({ "name": "churn" }),
    )
    .await;
    for i in 1..=2 {
        api.ok(
            "sci",
            Method::POST,
            &format!("{M}/model-versions/create"),
            json!({ "name": "churn", "source": format!("s3://m/{i}") }),
        )
        .await;
    }
    // Non-protected aliases: set, read, move, delete.
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/registered-models/alias"),
        json!({ "name": "churn", "alias": "staging", "version": "1" }),
    )
    .await;
    let before_move = app::service::now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/registered-models/alias"),
        json!({ "name": "churn", "alias": "staging", "version": "2" }),
    )
    .await;
    let got = api
        .ok(
            "view",
            Method::GET,
            &format!("{M}/registered-models/alias"),
            json!({ "name": "churn", "alias": "staging" }),
        )
        .await;
    assert_eq!(got["model_version"]["version"], "2");
    assert_eq!(got["model_version"]["aliases"], json!(["staging"]));

    // "production" is refused to everyone, with a message that says how to ask.
    for who in ["sci", "adm", "rev"] {
        let (s, v) = api
            .call(
                who,
                Method::POST,
                &format!("{M}/registered-models/alias"),
                json!({ "name": "churn", "alias": "production", "version": "2" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {v}");
        if who == "sci" {
            assert_eq!(v["error_code"], "PERMISSION_DENIED");
            assert!(
                v["message"]
                    .as_str()
                    .unwrap()
                    .contains("/api/v1/promotions"),
                "{v}"
            );
        }
    }
    let (s, _) = api
        .call(
            "view",
            Method::GET,
            &format!("{M}/registered-models/alias"),
            json!({ "name": "churn", "alias": "production" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Stages are another way around the gate: refused too.
    let (s, _) = api
        .call(
            "sci",
            Method::POST,
            &format!("{M}/model-versions/transition-stage"),
            json!({ "name": "churn", "version": "2", "stage": "Production" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // History and "what served at time T".
    let h = api
        .ok(
            "view",
            Method::GET,
            "/api/v1/models/churn/aliases/staging/history",
            json!({}),
        )
        .await;
    let moves: Vec<(Value, Value)> = h["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["version"].clone(), m["previous_version"].clone()))
        .collect();
    assert_eq!(moves, [(json!(1), Value::Null), (json!(2), json!(1))]);
    let then = api
        .ok(
            "view",
            Method::GET,
            "/api/v1/models/churn/aliases/staging",
            json!({ "at": before_move.to_string() }),
        )
        .await;
    assert_eq!(then["version"], 1);
    let now = api
        .ok(
            "view",
            Method::GET,
            "/api/v1/models/churn/aliases/staging",
            json!({}),
        )
        .await;
    assert_eq!(now["version"], 2);
    let long_ago = api
        .ok(
            "view",
            Method::GET,
            "/api/v1/models/churn/aliases/staging",
            json!({ "at": "2000-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(long_ago["version"], Value::Null);
    let (s, v) = api
        .call(
            "view",
            Method::GET,
            "/api/v1/models/churn/aliases/staging",
            json!({ "at": "yesterday" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    api.ok(
        "sci",
        Method::DELETE,
        &format!("{M}/registered-models/alias"),
        json!({ "name": "churn", "alias": "staging" }),
    )
    .await;
    let h = api
        .ok(
            "view",
            Method::GET,
            "/api/v1/models/churn/aliases/staging/history",
            json!({}),
        )
        .await;
    assert_eq!(h["moves"].as_array().unwrap().len(), 3);
    assert_eq!(h["moves"][2]["version"], Value::Null);

    // The history table is append-only.
    let err = sqlx::query("DELETE FROM alias_history")
        .execute(&api.app.pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[tokio::test]
async fn model_versions_and_deployments_join_the_lineage_graph() {
    let api = Api::new().await;
    let run_id = api.run().await;
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/registered-models/create"),
        json!({ "name": "credit" }),
    )
    .await;
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/model-versions/create"),
        json!({ "name": "credit", "source": "s3://m/1", "run_id": run_id }),
    )
    .await;
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/registered-models/alias"),
        json!({ "name": "credit", "alias": "canary", "version": "1" }),
    )
    .await;
    let g = api
        .ok(
            "view",
            Method::GET,
            "/api/v1/lineage",
            json!({ "nodeId": format!("run:{run_id}"), "depth": "3" }),
        )
        .await;
    let ids: Vec<&str> = g["graph"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"model:credit:1"), "{ids:?}");
    assert!(ids.contains(&"deployment:credit@canary"), "{ids:?}");
    let version = g["graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "model:credit:1")
        .unwrap();
    let out: Vec<&str> = version["outEdges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["destination"].as_str().unwrap())
        .collect();
    assert_eq!(out, ["deployment:credit@canary"]);
}

/// Model names may hold spaces, `?`, `#` and `%`; every link the pages build from one is
/// percent-encoded, and the page it leads to decodes it exactly once.
#[tokio::test]
async fn model_names_with_url_delimiters_link_to_their_own_pages() {
    let api = Api::new().await;
    let name = "churn v2? #1 50%41";
    let enc = "churn%20v2%3F%20%231%2050%2541";
    let run_id = api.run().await;
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/registered-models/create"),
        json!({ "name": name }),
    )
    .await;
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/model-versions/create"),
        json!({ "name": name, "source": "s3://m/1", "run_id": run_id }),
    )
    .await;
    api.ok(
        "sci",
        Method::POST,
        &format!("{M}/registered-models/alias"),
        json!({ "name": name, "alias": "canary", "version": "1" }),
    )
    .await;
    let page = |path: String| {
        let r = api
            .client
            .get(api.app.url(&path))
            .bearer_auth(&api.tokens["view"])
            .send();
        async move {
            let r = r.await.unwrap();
            let s = r.status();
            let body = r.text().await.unwrap();
            assert_eq!(s, StatusCode::OK, "{path}: {body}");
            body
        }
    };
    let list = page("/models".into()).await;
    assert!(
        list.contains(&format!("href=\"/models/{enc}\"")),
        "no encoded link in the models list"
    );
    let model = page(format!("/models/{enc}")).await;
    assert!(model.contains(&format!("<h1>{name}</h1>")), "{model}");
    let lineage_href = format!("/lineage?node=model%3A{enc}%3A1");
    assert!(
        model.contains(&format!("href=\"{lineage_href}\"")),
        "no encoded lineage link on the model page"
    );
    assert!(model.contains(&format!("action=\"/models/{enc}\"")));
    let pack = format!("/api/v1/models/{enc}/versions/1/evidence-pack");
    assert!(model.contains(&format!("href=\"{pack}\"")));
    let graph = page(lineage_href).await;
    assert!(
        graph.contains("canary"),
        "the lineage page shows the deployment"
    );
    let r = api
        .client
        .get(api.app.url(&pack))
        .bearer_auth(&api.tokens["view"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
