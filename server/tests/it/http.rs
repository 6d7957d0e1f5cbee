//! Probes, metrics, request ids, body limits and malformed input.

use crate::common::{spawn_app, spawn_app_with};
use app::domain::roles::Role;
use app::service::state::Config;
use reqwest::StatusCode;
use server::ServeSettings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(
        c.get(app.url("/healthz")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let r = c.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-request-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app_with(
        Config::default(),
        ServeSettings {
            metrics_token: Some("scraper-secret".into()),
            ..Default::default()
        },
    )
    .await;
    let c = app.client();
    c.get(app.url("/healthz")).send().await.unwrap();
    c.get(app.url("/api/v1/me")).send().await.unwrap();
    // Not public: no credentials, a wrong secret and a viewer are refused.
    let r = c.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let viewer = app.signed_in("vic", &[Role::Viewer]).await;
    let r = viewer.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let auditor = app.signed_in("aud", &[Role::Auditor]).await;
    let r = auditor.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = c
        .get(app.url("/metrics"))
        .bearer_auth("scraper-secret")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "gatehouse_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"/api/v1/me\",status=\"401\""),
        "{text}"
    );
    assert!(text.contains("gatehouse_http_request_duration_seconds_bucket"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_json() {
    let app = spawn_app_with(
        Config::default(),
        ServeSettings {
            max_body_bytes: 1024,
            ..Default::default()
        },
    )
    .await;
    let r = app
        .client()
        .post(app.url("/api/sign_in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=a&password={}", "x".repeat(4096)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");
    assert_eq!(app.audit_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_4xx_json_without_internals() {
    let app = spawn_app().await;
    let c = app.client();
    let r = c
        .post(app.url("/api/sign_in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("%%%")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"].is_string() && body["message"].is_string());

    let r = c
        .post(app.url("/api/sign_in"))
        .form(&[("username", ""), ("password", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["field"],
        "username"
    );

    // Unknown API paths answer JSON, under /api/v1 and anywhere else under /api.
    for path in [
        "/api/v1/nope",
        "/api/2.0/unknown-service/artifacts/0/x",
        "/api/nope",
    ] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["error"],
            "not_found",
            "{path}"
        );
    }
    // Server functions keep their own paths.
    let r = c.post(app.url("/api/session")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let admin = app.signed_in("adm", &[Role::Admin]).await;
    let r = admin
        .post(app.url("/api/revoke_token"))
        .form(&[("id", "not-a-number")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let text = r.text().await.unwrap();
    assert!(
        !text.to_lowercase().contains("sqlite") && !text.contains("SELECT"),
        "{text}"
    );
    let r = admin
        .post(app.url("/api/revoke_token"))
        .form(&[("id", "999")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_and_revoke_their_own_tokens() {
    let app = spawn_app().await;
    let viewer = app.signed_in("vic", &[Role::Viewer]).await;
    // A user name in the form is not a way to issue someone else's token: it is ignored.
    let r = viewer
        .post(app.url("/api/create_token"))
        .form(&[
            ("username", "adm"),
            ("name", "ci"),
            ("expires_in_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let created: serde_json::Value = r.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let me: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "vic");
    let listed: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = &listed["tokens"][0];
    assert_eq!(t["name"], "ci");
    assert_eq!(t["self_issued"], true);
    assert!(t["expires_at"].as_str().is_some_and(|e| e > "2026"), "{t}");

    for (form, field) in [
        (vec![("name", "ci")], "name"),
        (
            vec![("name", "x"), ("expires_in_days", "0")],
            "expires_in_days",
        ),
        (
            vec![("name", "y"), ("expires_in_days", "soon")],
            "expires_in_days",
        ),
    ] {
        let r = viewer
            .post(app.url("/api/create_token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["field"], field);
    }
    // Over REST, too; a user name in the body is refused outright.
    let r = app
        .client()
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "name": "for-adm", "username": "adm" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .client()
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "name": "second" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let second = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();

    // Someone else's token is not found for a non-admin; an admin revokes anyone's.
    let other = app.signed_in("pat", &[Role::Scientist]).await;
    let r = other
        .post(app.url("/api/revoke_token"))
        .form(&[("id", second.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let admin = app.signed_in("adm", &[Role::Admin]).await;
    let r = admin
        .delete(app.url(&format!("/api/v1/tokens/{second}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let id = created["id"].as_i64().unwrap().to_string();
    let r = viewer
        .post(app.url("/api/revoke_token"))
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let actions: Vec<(String, String, String)> = app.audit_actions().await;
    assert!(actions
        .iter()
        .any(|(actor, a, _)| actor == "vic" && a == "api_token.create"));
    assert!(actions
        .iter()
        .any(|(actor, a, _)| actor == "adm" && a == "api_token.revoke"));
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    app.user("vic", &[Role::Viewer]).await;
    let issue = app::service::accounts::Issue {
        by_owner: true,
        expires_in_days: Some(1),
    };
    let t = app::service::accounts::create_token(&app.pool, "vic", "vic", "short", issue)
        .await
        .unwrap();
    let me = |tok: String| {
        let c = app.client();
        let url = app.url("/api/v1/me");
        async move { c.get(url).bearer_auth(tok).send().await.unwrap().status() }
    };
    assert_eq!(me(t.token.clone()).await, StatusCode::OK);
    sqlx::query("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(t.id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(me(t.token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let c = app.client();
    for path in [
        "/api/v1/me",
        "/healthz",
        "/api/2.0/mlflow/runs/get",
        "/api/docs",
    ] {
        let r = c.get(app.url(path)).send().await.unwrap();
        for (name, value) in server::middleware::SECURITY_HEADERS {
            assert_eq!(
                r.headers().get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{path}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn pages_allow_only_their_own_scripts_by_a_fresh_nonce() {
    let app = spawn_app().await;
    let anonymous = app.client();
    let signed_in = app.signed_in("nonce-reader", &[Role::Viewer]).await;
    let mut nonces = std::collections::HashSet::new();
    // Signed-in pages as well, several times each: the policy once went out without the
    // nonce on some of them, depending on how the render was scheduled.
    let pages = [
        (&anonymous, "/login"),
        (&anonymous, "/login"),
        (&anonymous, "/no/such/page"),
    ]
    .into_iter()
    .chain(
        [
            (&signed_in, "/"),
            (&signed_in, "/runs"),
            (&signed_in, "/promotions"),
        ]
        .repeat(5),
    );
    for (c, path) in pages {
        let r = c.get(app.url(path)).send().await.unwrap();
        let expected = if path == "/no/such/page" { 404 } else { 200 };
        assert_eq!(r.status(), expected, "{path}");
        for (name, value) in server::middleware::SECURITY_HEADERS {
            if name != "content-security-policy" {
                assert_eq!(
                    r.headers().get(name).and_then(|v| v.to_str().ok()),
                    Some(value)
                );
            }
        }
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"))
            .to_owned();
        assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let scripts_policy = csp
            .split(';')
            .find(|d| d.trim_start().starts_with("script-src"))
            .unwrap_or_default();
        assert!(!scripts_policy.contains("unsafe-inline"), "{csp}");
        let html = r.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts >= 2, "{path}: the theme and hydration scripts");
        assert_eq!(
            html.matches(&format!("<script nonce=\"{nonce}\"")).count()
                + html
                    .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                    .count(),
            scripts,
            "{path}: every inline script carries the response's nonce"
        );
        assert!(nonces.insert(nonce), "a nonce is never reused");
    }
}
