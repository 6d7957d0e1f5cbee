//! The promotion workflow through the API: separation of duties, N-of-M approvals, the check
//! table with waivers, policies as versioned text, rollback, withdrawal and the audit trail.

use crate::common::{spawn_app, spawn_demo_app, TestApp};
use app::domain::roles::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;

pub(crate) struct Api {
    pub(crate) app: TestApp,
    client: reqwest::Client,
    pub(crate) tokens: HashMap<&'static str, String>,
}

const USERS: [(&str, &[Role]); 6] = [
    ("sci", &[Role::Scientist]),
    ("both", &[Role::Scientist, Role::Reviewer]),
    ("rev1", &[Role::Reviewer]),
    ("rev2", &[Role::Reviewer]),
    ("adm", &[Role::Admin]),
    ("pm", &[Role::ProductManager]),
];

/// Only the metric threshold: the workflow without the other evidence.
pub(crate) const METRIC_ONLY: &str = "[approvals]\nmedium = 2\n[[metrics]]\nname = \"auc\"\nmin = 0.7\n[fairness]\nrequired = false\n[waivers]\nchecks = [\"metric:*\"]\nroles = [\"reviewer\"]\n";

impl Api {
    async fn new() -> Api {
        Api::on(spawn_app().await).await
    }

    /// The users and their tokens on `app`.
    pub(crate) async fn on(app: TestApp) -> Api {
        let mut tokens = HashMap::new();
        for (u, roles) in USERS {
            app.user(u, roles).await;
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

    pub(crate) async fn call(
        &self,
        user: &str,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut r = self
            .client
            .request(method.clone(), self.app.url(path))
            .bearer_auth(&self.tokens[user]);
        if method != Method::GET {
            r = r.json(&body);
        }
        let r = r.send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn ok(&self, user: &str, method: Method, path: &str, body: Value) -> Value {
        let (s, v) = self.call(user, method, path, body).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v
    }

    pub(crate) async fn put_policy(&self, scope: &str, text: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .put(self.app.url(&format!("/api/v1/policies/{scope}")))
            .bearer_auth(&self.tokens["adm"])
            .body(text.to_string())
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// `model` with `versions` versions, each linked to a run by `author` with the given AUC.
    pub(crate) async fn model(&self, model: &str, aucs: &[f64], author: &str) {
        let m = "/api/2.0/mlflow";
        let e = self
            .ok(
                author,
                Method::POST,
                &format!("{m}/experiments/create"),
                json!({ "name": format!("{model}-exp") }),
            )
            .await;
        self.ok(
            "sci",
            Method::POST,
            &format!("{m}/registered-models/create"),
            json!({ "name": model }),
        )
        .await;
        for auc in aucs {
            let r = self.ok(author, Method::POST, &format!("{m}/runs/create"), json!({ "experiment_id": e["experiment_id"], "start_time": app::service::now_ms() })).await;
            let run_id = r["run"]["info"]["run_id"].as_str().unwrap().to_string();
            self.ok(author, Method::POST, &format!("{m}/runs/log-batch"), json!({ "run_id": run_id, "metrics": [{ "key": "auc", "value": auc, "timestamp": 1, "step": 0 }] })).await;
            self.ok(author, Method::POST, &format!("{m}/runs/update"), json!({ "run_id": run_id, "status": "FINISHED", "end_time": app::service::now_ms() })).await;
            // The model's bytes, stored and sealed as the MLflow client does it.
            let lm = self.ok(author, Method::POST, &format!("{m}/logged-models"), json!({ "experiment_id": e["experiment_id"], "name": "model", "source_run_id": run_id })).await;
            let id = lm["model"]["info"]["model_id"]
                .as_str()
                .unwrap()
                .to_string();
            let exp = e["experiment_id"].as_str().unwrap();
            self.ok(
                author,
                Method::PUT,
                &format!(
                    "/api/2.0/mlflow-artifacts/artifacts/{exp}/models/{id}/artifacts/model.json"
                ),
                json!({ "auc": auc }),
            )
            .await;
            self.ok(
                author,
                Method::PATCH,
                &format!("{m}/logged-models/{id}"),
                json!({ "status": "LOGGED_MODEL_READY" }),
            )
            .await;
            self.ok(
                "sci",
                Method::POST,
                &format!("{m}/model-versions/create"),
                json!({ "name": model, "source": format!("models:/{id}"), "model_id": id }),
            )
            .await;
        }
    }

    pub(crate) async fn request(&self, user: &str, model: &str, version: i64) -> Value {
        self.ok(user, Method::POST, "/api/v1/promotions", json!({ "model": model, "version": version, "alias": "production", "justification": "Better AUC on the Q3 holdout" }))
            .await["request"]
            .clone()
    }

    pub(crate) async fn production(&self, model: &str) -> Value {
        self.ok(
            "sci",
            Method::GET,
            &format!("/api/v1/models/{model}/aliases/production"),
            json!({}),
        )
        .await["version"]
            .clone()
    }
}

fn status_of(view: &Value, check: &str) -> String {
    view["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == check)
        .unwrap_or_else(|| panic!("no check {check}: {view}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_requester_cannot_approve_and_two_reviewers_move_the_alias() {
    let api = Api::new().await;
    assert_eq!(api.put_policy("*", METRIC_ONLY).await.0, StatusCode::OK);
    api.model("credit", &[0.81], "sci").await;
    let r = api.request("both", "credit", 1).await;
    let id = r["request"]["request_id"].as_i64().unwrap();
    assert_eq!(status_of(&r, "metric:auc"), "pass");
    assert_eq!(r["approvals_needed"], 2);
    assert_eq!(r["can_withdraw"], true);
    assert!(
        r["approve_refusal"]
            .as_str()
            .unwrap()
            .contains("someone else"),
        "{r}"
    );

    // The requester holds the reviewer role too, and is still refused, through the API.
    let (s, v) = api
        .call(
            "both",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "lgtm" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("someone else"),
        "{v}"
    );
    // Scientists and product managers cannot approve at all.
    for who in ["sci", "pm"] {
        let (s, _) = api
            .call(
                who,
                Method::POST,
                &format!("/api/v1/promotions/{id}/approve"),
                json!({ "comment": "x" }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
    }
    // A review needs a comment.
    let (s, v) = api
        .call(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "comment", "{v}");

    let one = api
        .ok(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "Metrics hold" }),
        )
        .await;
    assert_eq!(
        one["outcome"],
        json!({ "status": "pending", "alias_moved": false })
    );
    assert_eq!(api.production("credit").await, Value::Null);
    let (s, _) = api
        .call(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "again" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The evidence changes after the first approval: the run logs a new AUC.
    let run_id = r["evidence"]["run"]["run_id"].as_str().unwrap().to_string();
    api.ok(
        "sci",
        Method::POST,
        "/api/2.0/mlflow/runs/log-batch",
        json!({ "run_id": run_id, "metrics": [{ "key": "auc", "value": 0.79, "timestamp": 2, "step": 1 }] }),
    )
    .await;
    let changed = api
        .ok(
            "rev2",
            Method::GET,
            &format!("/api/v1/promotions/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(changed["request"]["changed_since_request"], true);
    assert_eq!(changed["request"]["reviews"][0]["evidence_changed"], true);

    assert_eq!(
        changed["request"]["approvals"], 0,
        "the approval lapsed: {changed}"
    );
    // The request page says which approval lapsed.
    let html = api
        .client
        .get(api.app.url(&format!("/promotions/{id}")))
        .bearer_auth(&api.tokens["rev2"])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("0 of 2 approvals") && html.contains("1 lapsed (given on earlier evidence)"),
        "{html}"
    );
    assert!(html.contains("lapsed: the evidence changed since this approval"));
    assert_eq!(
        changed["request"]["approve_refusal"],
        Value::Null,
        "rev2 may approve"
    );

    // One approval on the new evidence is not two: rev1's approval no longer counts.
    let two = api
        .ok(
            "rev2",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "Agreed" }),
        )
        .await;
    assert_eq!(
        two["outcome"],
        json!({ "status": "pending", "alias_moved": false }),
        "{two}"
    );
    assert_eq!(two["request"]["approvals"], 1);
    assert_eq!(api.production("credit").await, Value::Null);
    // rev1 sees the new evidence and approves again; that completes the request.
    let again = api
        .ok(
            "rev1",
            Method::GET,
            &format!("/api/v1/promotions/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(again["request"]["approve_refusal"], Value::Null, "{again}");
    let three = api
        .ok(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "Still holds at 0.79" }),
        )
        .await;
    assert_eq!(
        three["outcome"],
        json!({ "status": "approved", "alias_moved": true })
    );
    assert_eq!(api.production("credit").await, 1);
    let h = api
        .ok(
            "sci",
            Method::GET,
            "/api/v1/models/credit/aliases/production/history",
            json!({}),
        )
        .await;
    assert_eq!(h["moves"][0]["promotion_id"], id);
    // Each review kept the digest of the evidence it was given on: both on today's.
    let reviews = three["request"]["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 2);
    for r in reviews {
        assert_eq!(r["evidence_changed"], false, "{r}");
        assert_eq!(
            r["review"]["evidence_sha256"],
            three["request"]["evidence_sha256"]
        );
    }
    // Closed requests take no more reviews.
    let (s, _) = api
        .call(
            "both",
            Method::POST,
            &format!("/api/v1/promotions/{id}/reject"),
            json!({ "comment": "late" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    let actions: Vec<(String, String, String)> = api.app.audit_actions().await;
    let of_request: Vec<&str> = actions
        .iter()
        .filter(|(_, a, o)| o == &id.to_string() && a.starts_with("promotion."))
        .map(|(_, a, _)| a.as_str())
        .collect();
    assert_eq!(
        of_request,
        [
            "promotion.request",
            "promotion.approve",
            "promotion.approve",
            "promotion.approve"
        ]
    );
    assert!(actions.iter().any(|(actor, a, o)| a == "registry.alias.set"
        && o == "credit@1"
        && actor.starts_with("rev1")));
}

#[tokio::test]
async fn the_run_author_may_not_approve_unless_the_policy_allows_it() {
    let api = Api::new().await;
    api.put_policy("*", METRIC_ONLY).await;
    api.model("churn", &[0.9], "both").await;
    let id = api.request("sci", "churn", 1).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    let (s, v) = api
        .call(
            "both",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "mine" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("trained the linked run"),
        "{v}"
    );
    api.put_policy(
        "model:churn",
        &format!("{METRIC_ONLY}[separation_of_duties]\nrun_author_may_approve = true\n"),
    )
    .await;
    api.ok(
        "both",
        Method::POST,
        &format!("/api/v1/promotions/{id}/approve"),
        json!({ "comment": "allowed now" }),
    )
    .await;
}

#[tokio::test]
async fn failing_and_missing_checks_block_until_waived_by_an_allowed_role() {
    let api = Api::new().await;
    // The default policy: AUC ≥ 0.7, a passing fairness report, training datasets with
    // digests, two approvals at medium risk, reviewers may waive.
    api.model("loans", &[0.65], "sci").await;
    let r = api.request("sci", "loans", 1).await;
    let id = r["request"]["request_id"].as_i64().unwrap();
    assert_eq!(status_of(&r, "metric:auc"), "fail");
    assert_eq!(status_of(&r, "fairness"), "missing");
    assert_eq!(status_of(&r, "lineage"), "missing");
    assert_eq!(status_of(&r, "artifact"), "pass");
    assert_eq!(r["policy"]["version"], 0);

    api.ok(
        "rev1",
        Method::POST,
        &format!("/api/v1/promotions/{id}/approve"),
        json!({ "comment": "ok" }),
    )
    .await;
    let two = api
        .ok(
            "rev2",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "ok" }),
        )
        .await;
    assert_eq!(two["outcome"]["alias_moved"], false, "checks still open");

    // Who may waive, and how.
    let waive = |who: &'static str, check: &'static str, reason: &'static str| {
        let api = &api;
        async move {
            api.call(
                who,
                Method::POST,
                &format!("/api/v1/promotions/{id}/waive"),
                json!({ "check": check, "reason": reason }),
            )
            .await
        }
    };
    let (s, v) = waive("adm", "fairness", "Reviewed by the ethics board, ref EB-12").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("Only reviewer"),
        "{v}"
    );
    let (s, v) = waive("sci", "fairness", "I am sure this is fine honestly").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the requester cannot waive: {v}");
    let (s, v) = waive("rev1", "fairness", "short").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "reason", "{v}");
    let (s, v) = waive("rev1", "coffee", "no such check at all here").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let w = api
        .ok(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/waive"),
            json!({ "check": "fairness", "reason": "Reviewed by the ethics board, ref EB-12" }),
        )
        .await;
    assert_eq!(status_of(&w["request"], "fairness"), "waived");
    let waived = w["request"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "fairness")
        .unwrap()
        .clone();
    assert_eq!(waived["waiver"]["by"], "rev1");
    let (s, _) = waive("rev2", "fairness", "Reviewed by the ethics board again").await;
    assert_eq!(s, StatusCode::CONFLICT);
    api.ok(
        "rev2",
        Method::POST,
        &format!("/api/v1/promotions/{id}/waive"),
        json!({ "check": "lineage", "reason": "Dataset registered before digests existed" }),
    )
    .await;
    assert_eq!(api.production("loans").await, Value::Null);
    let last = api
        .ok("rev2", Method::POST, &format!("/api/v1/promotions/{id}/waive"), json!({ "check": "metric:auc", "reason": "Known dip, accepted by risk committee RC-7" }))
        .await;
    assert_eq!(
        last["outcome"],
        json!({ "status": "approved", "alias_moved": true })
    );
    assert_eq!(api.production("loans").await, 1);
}

#[tokio::test]
async fn policies_are_versioned_text_and_a_bad_one_changes_nothing() {
    let api = Api::new().await;
    let (s, v) = api.put_policy("*", METRIC_ONLY).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["policy"]["version"], 1);
    let (s, v) = api.put_policy("*", "[approvals]\nmedium = 0\n").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("line 2"), "{v}");
    let (s, v) = api.put_policy("nowhere", METRIC_ONLY).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let all = api
        .ok("sci", Method::GET, "/api/v1/policies", json!({}))
        .await;
    assert_eq!(all["policies"].as_array().unwrap().len(), 1);
    // Only admins edit policies.
    let r = api
        .client
        .put(api.app.url("/api/v1/policies/*"))
        .bearer_auth(&api.tokens["rev1"])
        .body(METRIC_ONLY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A custom protected alias is refused outside a promotion once the policy says so.
    api.put_policy(
        "*",
        &format!("protected_aliases = [\"production\", \"champion\"]\n{METRIC_ONLY}"),
    )
    .await;
    api.model("m", &[0.8], "sci").await;
    let (s, v) = api
        .call(
            "sci",
            Method::POST,
            "/api/2.0/mlflow/registered-models/alias",
            json!({ "name": "m", "alias": "champion", "version": "1" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let actions = api.app.audit_actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|(_, a, _)| a == "policy.promotion.save")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_rollback_needs_one_approval_and_restores_the_previous_version() {
    let api = Api::new().await;
    api.put_policy("*", METRIC_ONLY).await;
    api.model("fraud", &[0.8, 0.85], "sci").await;
    for v in [1, 2] {
        let id = api.request("sci", "fraud", v).await["request"]["request_id"]
            .as_i64()
            .unwrap();
        api.ok(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "ok" }),
        )
        .await;
        api.ok(
            "rev2",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "ok" }),
        )
        .await;
    }
    assert_eq!(api.production("fraud").await, 2);
    let r = api
        .ok("sci", Method::POST, "/api/v1/promotions/rollback", json!({ "model": "fraud", "alias": "production", "justification": "v2 misbehaves on weekend traffic" }))
        .await;
    assert_eq!(r["request"]["request"]["kind"], "rollback");
    assert_eq!(r["request"]["request"]["version"], 1);
    assert_eq!(r["request"]["approvals_needed"], 1);
    let id = r["request"]["request"]["request_id"].as_i64().unwrap();
    let done = api
        .ok(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "roll back now" }),
        )
        .await;
    assert_eq!(done["outcome"]["alias_moved"], true);
    assert_eq!(api.production("fraud").await, 1);
    let (s, v) = api
        .call(
            "sci",
            Method::POST,
            "/api/v1/promotions/rollback",
            json!({ "model": "fraud", "alias": "canary", "justification": "nothing served there" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn requests_are_withdrawn_by_their_requester_only_and_bad_ones_are_named() {
    let api = Api::new().await;
    api.put_policy("*", METRIC_ONLY).await;
    api.model("ads", &[0.8], "sci").await;
    let id = api.request("sci", "ads", 1).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    let (s, _) = api
        .call(
            "both",
            Method::POST,
            &format!("/api/v1/promotions/{id}/withdraw"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api.call("sci", Method::POST, "/api/v1/promotions", json!({ "model": "ads", "version": 1, "alias": "production", "justification": "a second pending one" })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    api.ok(
        "sci",
        Method::POST,
        &format!("/api/v1/promotions/{id}/withdraw"),
        json!({}),
    )
    .await;
    let (s, _) = api
        .call(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "too late" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let queue = api
        .ok("rev1", Method::GET, "/api/v1/promotions", json!({}))
        .await;
    assert_eq!(queue["requests"].as_array().unwrap().len(), 0);
    let all = api
        .ok(
            "rev1",
            Method::GET,
            "/api/v1/promotions?status=all",
            json!({}),
        )
        .await;
    assert_eq!(all["requests"][0]["request"]["status"], "withdrawn");

    for (body, field) in [
        (
            json!({ "model": "ads", "version": 1, "alias": "production", "justification": "short" }),
            "justification",
        ),
        (
            json!({ "model": "ads", "version": 9, "alias": "production", "justification": "long enough text" }),
            "",
        ),
        (
            json!({ "model": "ads", "version": 1, "alias": "v1", "justification": "long enough text" }),
            "alias",
        ),
        (
            json!({ "model": "ads", "alias": "production", "justification": "long enough text" }),
            "version",
        ),
    ] {
        let (s, v) = api
            .call("sci", Method::POST, "/api/v1/promotions", body)
            .await;
        assert!(
            s == StatusCode::BAD_REQUEST || s == StatusCode::NOT_FOUND,
            "{v}"
        );
        if field.is_empty() {
            assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        } else {
            assert_eq!(v["field"], field, "{v}");
        }
    }
    // Viewers cannot request.
    let viewer = api.app.signed_in("vw", &[Role::Viewer]).await;
    let r = viewer.post(api.app.url("/api/v1/promotions")).json(&json!({ "model": "ads", "version": 1, "alias": "production", "justification": "long enough text" })).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_demo_registry_has_a_waived_approval_a_pending_failure_and_history() {
    let app = spawn_demo_app().await;
    let router = app.router();
    // Idempotent.
    server::demo::seed_registry(&router, &app.pool)
        .await
        .unwrap();
    let token = app::service::accounts::create_token(
        &app.pool,
        "reviewer",
        "reviewer",
        "t",
        app::service::accounts::Issue::owner(),
    )
    .await
    .unwrap()
    .token;
    let client = app.client();
    let get = |path: String| {
        let r = client.get(app.url(&path)).bearer_auth(&token);
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let prod = get("/api/v1/models/credit-default/aliases/production".to_string()).await;
    assert_eq!(prod["version"], 2, "{prod}");
    let staging = get("/api/v1/models/credit-default/aliases/staging/history".to_string()).await;
    assert_eq!(staging["moves"].as_array().unwrap().len(), 3);
    let approved = get("/api/v1/promotions?status=approved".to_string()).await;
    let first = &approved["requests"][0];
    assert_eq!(first["request"]["version"], 2);
    let pending = get("/api/v1/promotions".to_string()).await;
    let items = pending["requests"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{pending}");
    assert_eq!(items[0]["request"]["version"], 4);
    assert_eq!(
        items[0]["open_checks"].as_array().unwrap().len(),
        1,
        "{pending}"
    );
    let id = items[0]["request"]["request_id"].as_i64().unwrap();
    let view = get(format!("/api/v1/promotions/{id}")).await;
    assert_eq!(status_of(&view["request"], "ab_test"), "missing");
    assert_eq!(status_of(&view["request"], "fairness"), "pass");
    assert_eq!(status_of(&view["request"], "lineage"), "pass");
    assert_eq!(status_of(&view["request"], "metric:auc"), "pass");

    // The evidence pack of the promoted version: its request with the waiver, its fairness
    // and lineage, and audit entries that verify offline against the signed checkpoint.
    let pack = get("/api/v1/models/credit-default/versions/2/evidence-pack".to_string()).await;
    assert_eq!(pack["format"], "gatehouse.evidence-pack.v1");
    assert_eq!(pack["promotion_requests"].as_array().unwrap().len(), 1);
    assert_eq!(
        pack["promotion_requests"][0]["request"]["status"],
        "approved"
    );
    assert!(pack["run"]["info"]["run_id"].is_string(), "{}", pack["run"]);
    assert!(pack["lineage"]["graph"].as_array().unwrap().len() >= 2);
    let audit: app::service::audit_export::Export =
        serde_json::from_value(pack["audit"].clone()).unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "registry.version.create",
        "promotion.request",
        "promotion.waive",
        "promotion.approve",
        "registry.alias.set",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    app::service::audit_export::verify(&audit, None).unwrap();
}

#[tokio::test]
async fn stale_requests_expire_and_take_no_more_reviews() {
    let api = Api::new().await;
    api.put_policy("*", METRIC_ONLY).await;
    api.model("stale", &[0.8], "sci").await;
    let id = api.request("sci", "stale", 1).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    sqlx::query("UPDATE promotion_requests SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE request_id = $1")
        .bind(id)
        .execute(&api.app.pool)
        .await
        .unwrap();
    let (s, v) = api
        .call(
            "rev1",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "late" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["message"].as_str().unwrap().contains("expired"), "{v}");
    assert_eq!(
        app::service::promotions::expire(&api.app.pool)
            .await
            .unwrap(),
        1
    );
    let r = api
        .ok(
            "rev1",
            Method::GET,
            &format!("/api/v1/promotions/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(r["request"]["request"]["status"], "expired");
    assert_eq!(r["request"]["request"]["closed_by"], "system");
    let actions = api.app.audit_actions().await;
    assert!(actions
        .iter()
        .any(|(actor, a, o)| actor == "system" && a == "promotion.expire" && o == &id.to_string()));
}

/// Four-eyes cannot be met by one person: an admin holds no secret that acts as a reviewer.
#[tokio::test]
async fn an_admin_cannot_complete_a_promotion_alone() {
    let api = Api::new().await;
    assert_eq!(api.put_policy("*", METRIC_ONLY).await.0, StatusCode::OK);
    api.model("credit", &[0.65], "sci").await;
    let id = api.request("sci", "credit", 1).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    let approve = format!("/api/v1/promotions/{id}/approve");

    // The admin asks for tokens "for" the two reviewers: the server function issues the
    // admin's own, and REST refuses a user name outright.
    let admin = api.app.client();
    assert!(api.app.sign_in(&admin, "adm").await.status().is_success());
    let mut minted = Vec::new();
    for reviewer in ["rev1", "rev2"] {
        let r = admin
            .post(api.app.url("/api/create_token"))
            .form(&[("username", reviewer), ("name", &format!("imp-{reviewer}"))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let token = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let me: Value = api
            .client
            .get(api.app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["username"], "adm", "a token acts as its creator only");
        minted.push(token);
    }
    for token in &minted {
        let r = api
            .client
            .post(api.app.url(&approve))
            .bearer_auth(token)
            .json(&json!({ "comment": "lgtm" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let r = api
        .client
        .post(api.app.url("/api/v1/tokens"))
        .bearer_auth(&api.tokens["adm"])
        .json(&json!({ "name": "imp", "username": "rev1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Tokens an admin issued to the reviewers before tokens became self-service (or the
    // operator's CLI issues) still authenticate, but may not waive, approve or reject.
    let mut legacy = HashMap::new();
    for reviewer in ["rev1", "rev2"] {
        let t = app::service::accounts::create_token(
            &api.app.pool,
            "adm",
            reviewer,
            "imp",
            app::service::accounts::Issue::operator(),
        )
        .await
        .unwrap();
        legacy.insert(reviewer, t.token);
    }
    let as_legacy = |who: &'static str, path: String, body: Value| {
        let api = &api;
        let token = legacy[who].clone();
        async move {
            let r = api
                .client
                .post(api.app.url(&path))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = as_legacy(
        "rev1",
        format!("/api/v1/promotions/{id}/waive"),
        json!({ "check": "metric:auc", "reason": "Holdout drift explains the dip, see ticket 42" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("someone else"),
        "{v}"
    );
    for who in ["rev1", "rev2"] {
        let (s, v) = as_legacy(who, approve.clone(), json!({ "comment": "lgtm" })).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {v}");
    }
    let (s, _) = as_legacy(
        "rev2",
        format!("/api/v1/promotions/{id}/reject"),
        json!({ "comment": "no" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Nor can such a token mint one that would count as the reviewer's own.
    let r = api
        .client
        .post(api.app.url("/api/v1/tokens"))
        .bearer_auth(&legacy["rev1"])
        .json(&json!({ "name": "laundered" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The request page tells such a caller why.
    let r: Value = api
        .client
        .get(api.app.url(&format!("/api/v1/promotions/{id}")))
        .bearer_auth(&legacy["rev1"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        r["request"]["approve_refusal"]
            .as_str()
            .is_some_and(|m| m.contains("someone else")),
        "{r}"
    );
    assert_eq!(r["request"]["can_waive"], false);

    assert_eq!(api.production("credit").await, Value::Null);
    let view = api
        .ok(
            "sci",
            Method::GET,
            &format!("/api/v1/promotions/{id}"),
            json!({}),
        )
        .await;
    assert_eq!(view["request"]["request"]["status"], "pending");
    assert_eq!(view["request"]["approvals"], 0);
    assert!(view["request"]["reviews"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_artifact_check_binds_approvals_to_the_models_bytes() {
    let api = Api::new().await;
    assert_eq!(
        api.put_policy(
            "*",
            "[approvals]\nmedium = 2\n[artifact]\nrequired = true\n"
        )
        .await
        .0,
        StatusCode::OK
    );
    api.model("bytes", &[0.9], "sci").await;
    let r = api.request("sci", "bytes", 1).await;
    let id = r["request"]["request_id"].as_i64().unwrap();
    assert_eq!(status_of(&r, "artifact"), "pass", "{r}");
    let check = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "artifact")
        .unwrap()
        .clone();
    assert!(
        check["detail"].as_str().unwrap().contains("sha256:"),
        "{check}"
    );
    assert!(
        check["detail"].as_str().unwrap().contains("1 file"),
        "{check}"
    );
    api.ok(
        "rev1",
        Method::POST,
        &format!("/api/v1/promotions/{id}/approve"),
        json!({ "comment": "ok" }),
    )
    .await;

    // Someone swaps the bytes on disk behind the store's back: the next review re-hashes them,
    // the check fails and the alias does not move.
    let (model_id, exp): (String, i64) =
        sqlx::query_as("SELECT model_id, experiment_id FROM logged_models LIMIT 1")
            .fetch_one(&api.app.pool)
            .await
            .unwrap();
    let file = api
        .app
        .artifacts_dir
        .join(format!("{exp}/models/{model_id}/artifacts/model.json"));
    std::fs::write(&file, b"{\"auc\": 0.99}").unwrap();
    let two = api
        .ok(
            "rev2",
            Method::POST,
            &format!("/api/v1/promotions/{id}/approve"),
            json!({ "comment": "ok" }),
        )
        .await;
    assert_eq!(two["outcome"]["alias_moved"], false, "{two}");
    assert_eq!(status_of(&two["request"], "artifact"), "fail");
    let detail = two["request"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "artifact")
        .unwrap()["detail"]
        .clone();
    assert!(
        detail.as_str().unwrap().contains("changed: model.json"),
        "{detail}"
    );
    assert_eq!(api.production("bytes").await, Value::Null);

    // A version whose files live elsewhere has no artifact evidence.
    api.ok(
        "sci",
        Method::POST,
        "/api/2.0/mlflow/model-versions/create",
        json!({ "name": "bytes", "source": "s3://elsewhere/model" }),
    )
    .await;
    let r = api.request("sci", "bytes", 2).await;
    assert_eq!(status_of(&r, "artifact"), "missing");
}

#[tokio::test]
async fn the_queue_shows_each_reviewer_what_waits_for_them() {
    let api = Api::new().await;
    assert_eq!(api.put_policy("*", METRIC_ONLY).await.0, StatusCode::OK);
    api.model("credit", &[0.81], "sci").await;
    let id = api.request("both", "credit", 1).await["request"]["request_id"]
        .as_i64()
        .unwrap();
    let waiting = |who: &'static str| {
        let api = &api;
        async move {
            let v = api
                .ok(who, Method::GET, "/api/v1/promotions?waiting=me", json!({}))
                .await;
            let ids: Vec<i64> = v["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["request"]["request_id"].as_i64().unwrap())
                .collect();
            ids
        }
    };
    assert_eq!(waiting("rev1").await, [id]);
    assert_eq!(waiting("rev2").await, [id]);
    // Not the requester (a reviewer too), and nobody who may not approve.
    assert!(waiting("both").await.is_empty());
    assert!(waiting("sci").await.is_empty());
    assert!(waiting("adm").await.is_empty());
    api.ok(
        "rev1",
        Method::POST,
        &format!("/api/v1/promotions/{id}/approve"),
        json!({ "comment": "Metrics hold" }),
    )
    .await;
    assert!(
        waiting("rev1").await.is_empty(),
        "reviewed: no longer waiting"
    );
    assert_eq!(waiting("rev2").await, [id]);
    let (s, v) = api
        .call(
            "rev1",
            Method::GET,
            "/api/v1/promotions?waiting=you",
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("waiting"))
    );
}
