//! The A/B test API against a real temporary database through the real router.

use crate::common::{spawn_app, TestApp};
use app::domain::roles::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Api {
    app: TestApp,
    client: reqwest::Client,
    tokens: std::collections::HashMap<&'static str, String>,
}

impl Api {
    async fn new() -> Api {
        let app = spawn_app().await;
        app.user("pat", &[Role::ProductManager]).await;
        app.user("sam", &[Role::Scientist]).await;
        app.user("vic", &[Role::Viewer]).await;
        let mut tokens = std::collections::HashMap::new();
        for user in ["pat", "sam", "vic"] {
            let t = app::service::accounts::create_token(
                &app.pool,
                "test",
                user,
                "api",
                app::service::accounts::Issue::operator(),
            )
            .await
            .unwrap()
            .token;
            tokens.insert(user, t);
        }
        let client = app.client();
        Api {
            app,
            client,
            tokens,
        }
    }

    async fn token(&self, user: &str) -> String {
        self.tokens[user].clone()
    }

    async fn call(
        &self,
        user: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let token = self.token(user).await;
        let mut req = self
            .client
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, user: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(user, reqwest::Method::POST, path, Some(body))
            .await
    }

    async fn get(&self, user: &str, path: &str) -> (StatusCode, Value) {
        self.call(user, reqwest::Method::GET, path, None).await
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}

fn definition(name: &str) -> Value {
    json!({
        "name": name,
        "hypothesis": "The new ranker lifts checkout conversion",
        "status": "running",
        "start_date": "2026-11-01",
        "variants": [
            { "name": "control", "weight": 50, "model_version": "ranker@3" },
            { "name": "challenger", "weight": 50, "model_version": "ranker@4" }
        ],
        "metrics": [
            { "name": "checkout", "type": "binomial" },
            { "name": "latency_ms", "type": "continuous", "direction": "decrease", "role": "guardrail", "tolerance": 0.02 }
        ]
    })
}

fn day(d: &str, xc: f64, xt: f64, n: f64) -> Vec<Value> {
    let lat = |mean: f64| json!({ "n": n, "sum": n * mean, "sum_squares": n * mean * mean + (n - 1.0) * 400.0 });
    let mut rows = vec![
        json!({ "day": d, "variant": "control", "units": n }),
        json!({ "day": d, "variant": "challenger", "units": n }),
        json!({ "day": d, "metric": "checkout", "variant": "control", "units": n, "conversions": xc }),
        json!({ "day": d, "metric": "checkout", "variant": "challenger", "units": n, "conversions": xt }),
    ];
    for (v, mean) in [("control", 120.0), ("challenger", 120.5)] {
        let mut r = lat(mean);
        r["day"] = json!(d);
        r["metric"] = json!("latency_ms");
        r["variant"] = json!(v);
        rows.push(r);
    }
    rows
}

#[tokio::test]
async fn define_send_results_read_the_verdict_and_decide() {
    let api = Api::new().await;
    let audit_before = api.app.audit_count().await;
    let (s, created) = api
        .post("pat", "/api/v1/experiments", &definition("ranker v4"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();

    let mut rows = Vec::new();
    for (i, d) in ["2026-11-01", "2026-11-02", "2026-11-03"]
        .iter()
        .enumerate()
    {
        rows.extend(day(d, 1000.0 + i as f64, 1120.0 + i as f64, 10000.0));
    }
    let (s, b) = api
        .post(
            "sam",
            &format!("/api/v1/experiments/{id}/results"),
            &json!({ "rows": rows }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["stored"], 18);

    let (s, got) = api.get("vic", &format!("/api/v1/experiments/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    let a = &got["analysis"];
    assert_eq!(a["verdict"]["decision"], "ship", "{}", a["verdict"]);
    let sentence = a["verdict"]["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("Ship: checkout +12.0% (95% CI"),
        "{sentence}"
    );
    assert!(
        sentence.ends_with("no guardrail worse; 3 days, 60,000 users."),
        "{sentence}"
    );
    let c = &a["metrics"][0]["comparisons"][0];
    assert_eq!(c["variant"], "challenger");
    for k in [
        "control_mean",
        "treatment_mean",
        "abs_diff",
        "rel_lift",
        "p_value",
        "chance_to_win",
    ] {
        assert!(c[k].is_number(), "{k} in {c}");
    }
    assert_eq!(c["control_units"], 30000.0);
    assert!(a["srm"]["p_value"].as_f64().unwrap() > 0.5);

    // A viewer may not decide; a product manager records it, and it is audited.
    let (s, _) = api
        .post(
            "vic",
            &format!("/api/v1/experiments/{id}/decision"),
            &json!({ "decision": "ship", "comment": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api
        .post(
            "sam",
            &format!("/api/v1/experiments/{id}/decision"),
            &json!({ "decision": "ship", "comment": "x" }),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "scientists define tests, product managers decide"
    );
    let (s, b) = api
        .post(
            "pat",
            &format!("/api/v1/experiments/{id}/decision"),
            &json!({ "decision": "ship", "comment": "Clear win, latency flat" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, got) = api.get("vic", &format!("/api/v1/experiments/{id}")).await;
    assert_eq!(got["status"], "decided");
    assert_eq!(got["decisions"][0]["decision"], "ship");
    assert_eq!(got["decisions"][0]["verdict"], "ship");
    let actions: Vec<String> = api
        .app
        .audit_actions()
        .await
        .into_iter()
        .map(|a| a.1)
        .collect();
    for a in [
        "experiment.create",
        "experiment.results",
        "experiment.decide",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
    assert_eq!(api.app.audit_count().await - audit_before, 3);

    let (s, list) = api.get("vic", "/api/v1/experiments").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["experiments"][0]["verdict"], "ship");
    assert_eq!(list["experiments"][0]["days"], 3);
}

#[tokio::test]
async fn cumulative_uploads_are_stored_as_daily_differences() {
    let api = Api::new().await;
    let (_, created) = api
        .post("pat", "/api/v1/experiments", &definition("cumulative"))
        .await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/experiments/{id}/results");
    let cum = |d: &str, n: f64, x: f64| json!({ "day": d, "metric": "checkout", "variant": "control", "units": n, "conversions": x });
    let (s, b) = api.post("pat", &path, &json!({ "cumulative": true, "rows": [cum("2026-11-01", 100.0, 10.0), cum("2026-11-02", 250.0, 30.0)] })).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let daily: Vec<(String, f64, f64)> =
        sqlx::query_as("SELECT day, a, b FROM ab_results WHERE test_id = $1 ORDER BY day")
            .bind(id)
            .fetch_all(&api.app.pool)
            .await
            .unwrap();
    assert_eq!(
        daily,
        vec![
            ("2026-11-01".into(), 100.0, 10.0),
            ("2026-11-02".into(), 150.0, 20.0)
        ]
    );
    // A running total that goes down is rejected, naming the row; nothing is stored.
    let (s, b) = api
        .post(
            "pat",
            &path,
            &json!({ "cumulative": true, "rows": [cum("2026-11-03", 200.0, 30.0)] }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["field"], "rows[0]");
    assert_eq!(api.count("ab_results").await, 2);
}

#[tokio::test]
async fn bad_results_name_the_row_metric_variant_and_field_and_store_nothing() {
    let api = Api::new().await;
    let (_, created) = api
        .post("pat", "/api/v1/experiments", &definition("bad input"))
        .await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/experiments/{id}/results");
    let good = json!({ "day": "2026-11-01", "metric": "checkout", "variant": "control", "units": 100, "conversions": 10 });
    let audit_before = api.app.audit_count().await;
    let cases = [
        (
            json!({ "day": "2026-11-01", "metric": "checkout", "variant": "ghost", "units": 100, "conversions": 10 }),
            "rows[1].variant",
            "'ghost'",
        ),
        (
            json!({ "day": "2026-11-01", "metric": "checkout", "variant": "challenger", "units": 100, "conversions": 101 }),
            "rows[1].conversions",
            "exceed units",
        ),
        (
            json!({ "day": "2026-11-01", "metric": "checkout", "variant": "challenger", "units": -1, "conversions": 0 }),
            "rows[1].units",
            "negative",
        ),
        (
            json!({ "day": "2026-11-01", "metric": "latency_ms", "variant": "challenger", "n": 10, "sum": 100 }),
            "rows[1].sum_squares",
            "missing",
        ),
        (
            json!({ "day": "2026-11-01", "metric": "latency_ms", "variant": "challenger", "n": 10, "sum": 100, "sum_squares": 5 }),
            "rows[1].sum_squares",
            "smaller than sum",
        ),
        (
            json!({ "day": "2026-13-01", "metric": "checkout", "variant": "challenger", "units": 1, "conversions": 0 }),
            "rows[1].day",
            "not a date",
        ),
        (
            json!({ "day": "2026-11-01", "metric": "revenue", "variant": "challenger", "units": 1, "conversions": 0 }),
            "rows[1].metric",
            "'revenue'",
        ),
    ];
    for (row, field, text) in cases {
        let (s, b) = api
            .post("pat", &path, &json!({ "rows": [good.clone(), row] }))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["field"], field, "{b}");
        assert!(b["message"].as_str().unwrap().contains(text), "{b}");
    }
    assert_eq!(
        api.count("ab_results").await,
        0,
        "nothing stored from a rejected request"
    );
    assert_eq!(api.app.audit_count().await, audit_before, "nothing audited");
}

#[tokio::test]
async fn definitions_are_checked_and_names_unique() {
    let api = Api::new().await;
    let (s, _) = api
        .post("vic", "/api/v1/experiments", &definition("x"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let mut d = definition("one arm");
    d["variants"] = json!([{ "name": "control", "weight": 1 }]);
    let (s, b) = api.post("pat", "/api/v1/experiments", &d).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["field"], "variants");
    let mut d = definition("bad weight");
    d["variants"][1]["weight"] = json!(-2);
    let (s, b) = api.post("pat", "/api/v1/experiments", &d).await;
    assert_eq!(
        (s, b["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("variants[1].weight"))
    );
    let mut d = definition("bad type");
    d["metrics"][0]["type"] = json!("ratio");
    let (s, b) = api.post("pat", "/api/v1/experiments", &d).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, _) = api
        .post("sam", "/api/v1/experiments", &definition("dup"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "scientists may define tests");
    let (s, b) = api
        .post("pat", "/api/v1/experiments", &definition("dup"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(api.count("ab_tests").await, 1);
}

#[tokio::test]
async fn stateless_analysis_has_the_documented_shape_and_stores_nothing() {
    let api = Api::new().await;
    let req = json!({
        "alpha": 0.05, "control": "control",
        "variants": [{ "name": "control", "weight": 1, "units": 10000 }, { "name": "b", "weight": 1, "units": 10000 }],
        "metrics": [
            { "name": "conversion", "type": "binomial", "data": [
                { "variant": "control", "units": 10000, "conversions": 1000 },
                { "variant": "b", "units": 10000, "conversions": 1100 } ] },
            { "name": "revenue", "type": "continuous", "direction": "higher", "data": [
                { "variant": "control", "n": 10000, "sum": 250000, "sum_squares": 8000000 },
                { "variant": "b", "n": 10000, "sum": 255000, "sum_squares": 8200000 } ] }
        ]
    });
    let before = api.app.audit_count().await;
    let (s, a) = api.post("vic", "/api/v1/ab/analyze", &req).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    for k in ["chi2", "p_value", "detected"] {
        assert!(!a["srm"][k].is_null(), "srm.{k}");
    }
    let c = &a["metrics"][0]["comparisons"][0];
    // statsmodels proportions_ztest([1100, 1000], [10000, 10000]): p = 0.021075189273797826.
    assert!(
        (c["p_value"].as_f64().unwrap() - 0.021075189273797826).abs() < 1e-12,
        "{c}"
    );
    for k in [
        "variant",
        "control_mean",
        "treatment_mean",
        "abs_diff",
        "abs_diff_ci",
        "rel_lift",
        "rel_lift_ci",
        "p_value",
        "chance_to_win",
    ] {
        assert!(!c[k].is_null(), "{k} in {c}");
    }
    assert_eq!(c["abs_diff_ci"].as_array().unwrap().len(), 2);
    assert!(a["verdict"]["decision"].is_string());
    assert_eq!(a["metrics"][1]["comparisons"][0]["test"], "welch");
    assert_eq!(
        api.app.audit_count().await,
        before,
        "nothing audited or stored"
    );

    let mut bad = req.clone();
    bad["metrics"][0]["data"][1]["conversions"] = json!(20000);
    let (s, e) = api.post("vic", "/api/v1/ab/analyze", &bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["field"], "metrics[0].data[1].conversions");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("metric 'conversion', variant 'b'"),
        "{e}"
    );
    let mut bad = req.clone();
    bad["metrics"][0]["data"][0]["conversions"] = json!(0);
    let (s, e) = api.post("vic", "/api/v1/ab/analyze", &bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["message"].as_str().unwrap().contains("mean of zero"),
        "{e}"
    );

    let r = api
        .client
        .post(api.app.url("/api/v1/ab/analyze"))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "signed-in roles only");
}

#[tokio::test]
async fn export_and_share_links() {
    let api = Api::new().await;
    let (_, created) = api
        .post("pat", "/api/v1/experiments", &definition("export"))
        .await;
    let id = created["id"].as_i64().unwrap();
    api.post(
        "pat",
        &format!("/api/v1/experiments/{id}/results"),
        &json!({ "rows": day("2026-11-01", 1000.0, 1100.0, 10000.0) }),
    )
    .await;
    let token = api.token("vic").await;
    let r = api
        .client
        .get(api.app.url(&format!("/api/v1/experiments/{id}/export.csv")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header + two metrics: {csv}");
    assert!(
        lines[1].starts_with("export,checkout,goal,challenger,10000,10000,0.1,0.11,"),
        "{csv}"
    );

    let (s, b) = api
        .post(
            "pat",
            &format!("/api/v1/experiments/{id}/share"),
            &json!({ "days": 3 }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert!(b["url"].as_str().unwrap().starts_with("/shared/ab/"));
    let (s, links) = api
        .get("pat", &format!("/api/v1/experiments/{id}/share"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let link = links["links"][0]["id"].as_i64().unwrap();
    let (s, _) = api
        .post(
            "pat",
            &format!("/api/v1/experiments/{id}/share"),
            &json!({ "days": 365 }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api
        .call(
            "pat",
            reqwest::Method::DELETE,
            &format!("/api/v1/experiments/{id}/share/{link}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api
        .call(
            "pat",
            reqwest::Method::DELETE,
            &format!("/api/v1/experiments/{id}/share/{link}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "already revoked");
}
