//! The fairness API against a real temporary database through the real router.

use crate::common::{spawn_app, TestApp};
use app::domain::roles::Role;
use reqwest::StatusCode;
use serde_json::Value;
use std::io::Write;

const CSV: &str = include_str!("../../../app/fixtures/fairness/plain.csv");
const FAIRLEARN: &str = include_str!("../../../app/fixtures/fairness/plain.json");

struct Api {
    app: TestApp,
    client: reqwest::Client,
    sci: String,
    viewer: String,
}

impl Api {
    async fn new() -> Api {
        let app = spawn_app().await;
        app.user("sci", &[Role::Scientist]).await;
        app.user("vic", &[Role::Viewer]).await;
        let token = |u: &'static str| {
            let pool = app.pool.clone();
            async move {
                app::service::accounts::create_token(
                    &pool,
                    "test",
                    u,
                    "api",
                    app::service::accounts::Issue::operator(),
                )
                .await
                .unwrap()
                .token
            }
        };
        let (sci, viewer) = (token("sci").await, token("vic").await);
        let client = app.client();
        Api {
            app,
            client,
            sci,
            viewer,
        }
    }

    async fn post(
        &self,
        token: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(self.app.url(path))
            .bearer_auth(token)
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn reports(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM fairness_reports")
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}

const MAP: &str =
    "label=label&prediction=pred&attributes=sex,region&reference=sex:male,region:north";

#[tokio::test]
async fn stateless_analysis_matches_fairlearn_and_stores_nothing() {
    let api = Api::new().await;
    let before = api.app.audit_count().await;
    let (s, r) = api
        .post(
            &api.viewer,
            &format!("/api/v1/fairness/analyze?{MAP}"),
            CSV.as_bytes().to_vec(),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let want: Value = serde_json::from_str(FAIRLEARN).unwrap();
    let got = &r["by_attribute"]["region"];
    for g in ["north", "south", "east"] {
        for k in [
            "selection_rate",
            "true_positive_rate",
            "false_positive_rate",
            "precision",
            "accuracy",
        ] {
            let (a, b) = (
                got["groups"][g][k].as_f64().unwrap(),
                want["attributes"]["region"]["groups"][g][k]
                    .as_f64()
                    .unwrap(),
            );
            assert!((a - b).abs() < 1e-12, "{g} {k}: {a} vs {b}");
        }
        assert!(got["groups"][g]["count"].is_number());
    }
    for k in [
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
    ] {
        let (a, b) = (
            got["aggregates"][k].as_f64().unwrap(),
            want["attributes"]["region"]["aggregates"][k]
                .as_f64()
                .unwrap(),
        );
        assert!((a - b).abs() < 1e-12, "{k}");
    }
    assert_eq!(got["disparate_impact"]["reference_group"], "north");
    assert!(got["disparate_impact"]["groups"]["south"]["ratio_vs_reference"].is_number());
    assert!(r["overall"]["selection_rate"].is_number());
    assert_eq!(r["file_bytes"], CSV.len());
    assert_eq!(api.reports().await, 0);
    assert_eq!(api.app.audit_count().await, before);

    // gzip, declared or not, gives the same report.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(CSV.as_bytes()).unwrap();
    let packed = gz.finish().unwrap();
    let (s, z) = api
        .post(
            &api.viewer,
            &format!("/api/v1/fairness/analyze?{MAP}"),
            packed.clone(),
            &[("content-type", "text/csv"), ("content-encoding", "gzip")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{z}");
    assert_eq!(z["by_attribute"], r["by_attribute"]);
    let (s, z) = api
        .post(
            &api.viewer,
            &format!("/api/v1/fairness/analyze?{MAP}"),
            packed,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{z}");
    assert_eq!(z["by_attribute"], r["by_attribute"]);

    let r = api
        .client
        .post(api.app.url(&format!("/api/v1/fairness/analyze?{MAP}")))
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_stored_report_names_its_model_and_file_and_is_audited() {
    let api = Api::new().await;
    let path = format!("/api/v1/fairness/reports?model_version=credit-default@4&dataset=holdout-2026q3&{MAP}&favorable=0");
    let (s, _) = api
        .post(&api.viewer, &path, CSV.as_bytes().to_vec(), &[])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "viewers only read");
    let (s, r) = api
        .post(
            &api.sci,
            &path,
            CSV.as_bytes().to_vec(),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    assert_eq!(r["rows"], 2000);
    assert_eq!(r["report"]["favorable"], 0);
    assert!(r["sentence"]
        .as_str()
        .unwrap()
        .starts_with(if r["verdict"] == "pass" {
            "Pass:"
        } else {
            "Fail:"
        }));
    let digest: String =
        sqlx::query_scalar("SELECT file_sha256 FROM fairness_reports WHERE report_id = $1")
            .bind(id)
            .fetch_one(&api.app.pool)
            .await
            .unwrap();
    use sha2::Digest;
    assert_eq!(digest, hex::encode(sha2::Sha256::digest(CSV.as_bytes())));
    let actions: Vec<String> = api
        .app
        .audit_actions()
        .await
        .into_iter()
        .map(|a| a.1)
        .collect();
    assert!(
        actions.contains(&"fairness.report".to_owned()),
        "{actions:?}"
    );

    let r = api
        .client
        .get(api.app.url(&format!("/api/v1/fairness/reports/{id}")))
        .bearer_auth(&api.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["header"]["model_version"], "credit-default@4");
    assert_eq!(v["mapping"]["attributes"][1], "region");
    let r = api
        .client
        .get(
            api.app
                .url(&format!("/api/v1/fairness/reports/{id}/export.csv")),
        )
        .bearer_auth(&api.viewer)
        .send()
        .await
        .unwrap();
    let csv = r.text().await.unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 2 + 3,
        "header + sex groups + region groups"
    );

    // Multipart, as the browser form sends it: fields before the file.
    let form = reqwest::multipart::Form::new()
        .text("model_version", "credit-default@3")
        .text("dataset", "holdout-2026q3")
        .text("label", "label")
        .text("prediction", "pred")
        .text("attributes", "sex")
        .part(
            "file",
            reqwest::multipart::Part::bytes(CSV.as_bytes().to_vec()).file_name("preds.csv"),
        );
    let r = api
        .client
        .post(api.app.url("/api/v1/fairness/reports"))
        .bearer_auth(&api.sci)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(api.reports().await, 2);
}

#[tokio::test]
async fn bad_files_name_the_column_and_line_and_store_nothing() {
    let api = Api::new().await;
    let base = "/api/v1/fairness/reports?model_version=m@1&dataset=d";
    let before = api.app.audit_count().await;
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            format!("{base}&label=label&prediction=prediction&attributes=sex"),
            CSV,
            "prediction (line 1)",
            "column 'prediction' (prediction) is not in the header",
        ),
        (
            format!("{base}&label=label&prediction=pred&attributes=sex"),
            "label,pred,sex\n1,1,f\n2,0,m\n",
            "label (line 3)",
            "'2' is not 0 or 1",
        ),
        (
            format!("{base}&label=label&prediction=pred&attributes=sex"),
            "label,pred,sex\n1,1,f\n1,0\n",
            "row (line 3)",
            "2 fields, the header has 3",
        ),
        (
            format!("{base}&label=label&prediction=pred&threshold=0.5&attributes=sex"),
            CSV,
            "threshold",
            "threshold",
        ),
        (
            format!("{base}&label=label&prediction=pred&attributes=sex"),
            "",
            "file",
            "empty",
        ),
        (
            format!("{base}&label=label&prediction=pred&attributes=sex"),
            "label,pred,sex\n",
            "file",
            "no data rows",
        ),
        (
            format!("{base}&label=label&prediction=pred&attributes=sex&reference=sex:other"),
            CSV,
            "reference",
            "reference group 'other' of attribute 'sex' has no rows",
        ),
        (
            "/api/v1/fairness/reports?dataset=d&label=label&prediction=pred&attributes=sex"
                .to_owned(),
            CSV,
            "model_version",
            "model version",
        ),
    ];
    for (path, body, field, text) in cases {
        let (s, e) = api
            .post(
                &api.sci,
                &path,
                body.as_bytes().to_vec(),
                &[("content-type", "text/csv")],
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {e}");
        assert_eq!(e["field"], field, "{e}");
        assert!(e["message"].as_str().unwrap().contains(text), "{e}");
    }
    assert_eq!(api.reports().await, 0);
    assert_eq!(api.app.audit_count().await, before);
}

#[tokio::test]
async fn the_browser_form_uploads_and_lands_on_the_report_or_back_on_the_form() {
    let api = Api::new().await;
    let browser = api.app.signed_in("rita", &[Role::Reviewer]).await;
    let form = |prediction: &str| {
        reqwest::multipart::Form::new()
            .text("model_version", "credit-default@4")
            .text("dataset", "holdout")
            .text("label", "label")
            .text("prediction", prediction.to_owned())
            .text("attributes", "sex,region")
            .text("intersectional", "true")
            .part(
                "file",
                reqwest::multipart::Part::bytes(CSV.as_bytes().to_vec()).file_name("preds.csv"),
            )
    };
    let origin = api.app.url("");
    let r = browser
        .post(api.app.url("/fairness/upload"))
        .header("origin", origin.trim_end_matches('/'))
        .multipart(form("pred"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/fairness/"), "{to}");
    let html = browser
        .get(api.app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Intersectional groups"),
        "the report page with intersectional groups"
    );
    assert_eq!(api.reports().await, 1);

    let r = browser
        .post(api.app.url("/fairness/upload"))
        .header("origin", origin.trim_end_matches('/'))
        .multipart(form("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/fairness?error="), "{to}");
    let html = browser
        .get(api.app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("nope") && html.contains("is not in the header"),
        "the form shows why"
    );
    assert_eq!(
        api.reports().await,
        1,
        "nothing stored from the failed upload"
    );
}

#[tokio::test]
async fn a_models_stored_policy_applies_to_its_reports() {
    let api = Api::new().await;
    api.app.user("ada", &[Role::Admin]).await;
    let admin = app::service::accounts::create_token(
        &api.app.pool,
        "test",
        "ada",
        "api",
        app::service::accounts::Issue::operator(),
    )
    .await
    .unwrap()
    .token;
    let put = |token: String, model: &'static str, body: Value| {
        let (client, url) = (
            api.client.clone(),
            api.app.url(&format!("/api/v1/fairness/policies/{model}")),
        );
        async move {
            let r = client
                .put(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let strict = serde_json::json!({ "rules": [{ "metric": "true_positive_rate", "min_ratio": 0.95, "max_ratio": 1.05 }], "min_group_rows": 50 });
    let (s, _) = put(api.sci.clone(), "credit-default", strict.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "admins set policies");
    let (s, e) = put(admin.clone(), "credit-default", serde_json::json!({ "rules": [{ "metric": "vibes", "min_ratio": 0.8, "max_ratio": 1.25 }], "min_group_rows": 30 })).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("rules[0].metric"))
    );
    let (s, _) = put(admin.clone(), "credit-default", strict).await;
    assert_eq!(s, StatusCode::OK);
    let (s, r) = api
        .post(
            &api.sci,
            &format!("/api/v1/fairness/reports?model_version=credit-default@5&dataset=d&{MAP}"),
            CSV.as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(
        r["report"]["policy"]["rules"][0]["metric"],
        "true_positive_rate"
    );
    assert_eq!(r["report"]["policy"]["min_group_rows"], 50);
    // Another model keeps the default four-fifths rule.
    let (_, r) = api
        .post(
            &api.sci,
            &format!("/api/v1/fairness/reports?model_version=churn@1&dataset=d&{MAP}"),
            CSV.as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(
        r["report"]["policy"]["rules"][0]["metric"],
        "favorable_rate"
    );
    let actions: Vec<String> = api
        .app
        .audit_actions()
        .await
        .into_iter()
        .map(|a| a.1)
        .collect();
    assert!(actions.contains(&"fairness.policy".to_owned()));
}

/// A gzip bomb: a small body that inflates to one endless row. The server stops at the row
/// limit, answers 413 naming it, echoes none of the input, and its memory stays flat.
#[tokio::test]
async fn a_decompression_bomb_is_refused_with_413_and_no_echo() {
    let api = Api::new().await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b'A'; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&block).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 128 * 1024, "{} bytes", bomb.len());
    let rss = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .unwrap()
    };
    let before = rss();
    for path in [
        format!("/api/v1/fairness/analyze?{MAP}"),
        format!("/api/v1/fairness/reports?model_version=m@1&dataset=d&{MAP}"),
    ] {
        let (s, v) = api
            .post(
                &api.sci,
                &path,
                bomb.clone(),
                &[("content-type", "text/csv"), ("content-encoding", "gzip")],
            )
            .await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {v}");
        assert_eq!(v["error"], "payload_too_large");
        assert_eq!(v["limit_bytes"], 65536);
        let text = v.to_string();
        assert!(text.len() < 400, "a short answer: {text}");
        assert!(
            !text.contains("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "{text}"
        );
    }
    // The server runs in this process: 64 MiB inflated per request must not have been held.
    let grown = rss().saturating_sub(before);
    assert!(grown < 32 * 1024, "RSS grew by {grown} kB");
    assert_eq!(api.reports().await, 0);
}

#[tokio::test]
async fn uploads_past_their_limits_answer_413_naming_them() {
    let app = crate::common::spawn_app_with(
        Default::default(),
        server::ServeSettings {
            max_upload_bytes: 4096,
            upload_limits: app::service::fairness::Limits {
                max_inflated_bytes: 20_000,
                max_row_bytes: 1024,
            },
            ..Default::default()
        },
    )
    .await;
    app.user("sci", &[Role::Scientist]).await;
    let token = app::service::accounts::create_token(
        &app.pool,
        "test",
        "sci",
        "api",
        app::service::accounts::Issue::operator(),
    )
    .await
    .unwrap()
    .token;
    let post = |body: Vec<u8>, gzip: bool| {
        let mut r = app
            .client()
            .post(app.url(&format!("/api/v1/fairness/analyze?{MAP}")))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(body);
        if gzip {
            r = r.header("content-encoding", "gzip");
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // As sent: more than 4096 bytes.
    let (s, v) = post(CSV.as_bytes().to_vec(), false).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(v["message"].as_str().unwrap().contains("4096 bytes"), "{v}");
    // Inflated: 34 KB of CSV in well under 4 KB of gzip, past 20,000 bytes.
    let mut csv = String::from("label,pred,sex,region\n");
    for _ in 0..2000 {
        csv.push_str("1,1,female,north\n");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(csv.as_bytes()).unwrap();
    let packed = gz.finish().unwrap();
    assert!(packed.len() < 4096 && csv.len() > 20_000);
    let (s, v) = post(packed, true).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["limit_bytes"], 20_000);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("20000 bytes once decompressed"),
        "{v}"
    );
}
