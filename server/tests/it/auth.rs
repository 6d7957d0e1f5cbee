//! Sign-in, sign-out, sessions, tokens, and 401/403 on pages, server functions and REST routes.

use crate::common::{spawn_app, spawn_app_with, PASSWORD};
use app::domain::roles::Role;
use app::server::state::Config;
use reqwest::StatusCode;
use server::ServeSettings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sets_a_hardened_session_cookie_and_is_audited() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    let c = app.client();
    let res = app.sign_in(&c, "alice").await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .expect("cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("gatehouse_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "not configured for TLS: {cookie}"
    );
    let me: serde_json::Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["via"], "session");
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&("alice".into(), "auth.sign_in".into(), "alice".into())),
        "{actions:?}"
    );
    // Only the hash of the session id is stored.
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE id_hash = ?")
        .bind(&value)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookie_when_configured_for_tls() {
    let app = spawn_app_with(
        Config {
            cookie_secure: true,
            ..Config::default()
        },
        ServeSettings::default(),
    )
    .await;
    app.user("alice", &[Role::Viewer]).await;
    let res = app.sign_in(&app.client(), "alice").await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_form_sign_in_redirects_to_next_and_errors_back_to_the_form() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    let c = app.client();
    let res = c
        .post(app.url("/api/sign_in"))
        .header("accept", "text/html")
        .header("referer", app.url("/login?next=/runs"))
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("next", "/runs"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/runs");

    let res = c
        .post(app.url("/api/sign_in"))
        .header("accept", "text/html")
        .header("referer", app.url("/login"))
        .form(&[
            ("username", "alice"),
            ("password", "wrong password!"),
            ("next", "https://evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let loc = res.headers()["location"].to_str().unwrap();
    assert!(loc.contains("/login") && loc.contains("__err="), "{loc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_redirects_are_refused() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    let res = app
        .client()
        .post(app.url("/api/sign_in"))
        .header("accept", "text/html")
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("next", "//evil.example/x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_get_the_same_message_and_are_audited() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    let c = app.client();
    let wrong = c
        .post(app.url("/api/sign_in"))
        .form(&[("username", "alice"), ("password", "not the password")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong: serde_json::Value = wrong.json().await.unwrap();
    let unknown: serde_json::Value = c
        .post(app.url("/api/sign_in"))
        .form(&[("username", "nobody"), ("password", "not the password")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wrong["message"], unknown["message"]);
    assert_eq!(wrong["error"], "unauthorized");
    let failed: Vec<_> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(_, a, _)| a == "auth.sign_in_failed")
        .collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[1].2, "nobody");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_per_account() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    let c = app.client();
    for _ in 0..5 {
        let r = c
            .post(app.url("/api/sign_in"))
            .form(&[("username", "alice"), ("password", "guess guess guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while the account is throttled.
    let r = app.sign_in(&c, "alice").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_per_address() {
    let app = spawn_app_with(
        Config {
            max_failures_per_address: 3,
            ..Config::default()
        },
        ServeSettings::default(),
    )
    .await;
    app.user("bob", &[Role::Viewer]).await;
    let c = app.client();
    for name in ["x1", "x2", "x3"] {
        c.post(app.url("/api/sign_in"))
            .form(&[("username", name), ("password", "guess guess guess")])
            .send()
            .await
            .unwrap();
    }
    let r = app.sign_in(&c, "bob").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session_and_is_audited() {
    let app = spawn_app().await;
    let c = app.signed_in("alice", &[Role::Viewer]).await;
    let r = c.post(app.url("/api/sign_out")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|(a, act, _)| a == "alice" && act == "auth.sign_out"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_refused() {
    let app = spawn_app().await;
    let c = app.signed_in("alice", &[Role::Viewer]).await;
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        StatusCode::OK
    );
    sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000000Z'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let page = c.get(app.url("/audit")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_redirect_to_sign_in_and_forbid_without_the_role() {
    let app = spawn_app().await;
    let anon = app.client();
    let r = anon.get(app.url("/audit?actor=x")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=/audit%3Factor%3Dx");

    let viewer = app.signed_in("vic", &[Role::Viewer]).await;
    let r = viewer.get(app.url("/audit")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(html.contains("Forbidden"), "{html}");

    let r = viewer.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Overview") && !html.contains("href=\"/audit\""),
        "viewer must not see the Audit link"
    );

    let auditor = app.signed_in("aud", &[Role::Auditor]).await;
    let r = auditor.get(app.url("/audit")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("auth.sign_in"), "audit page lists sign-ins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_pages_are_404() {
    let app = spawn_app().await;
    let c = app.signed_in("vic", &[Role::Viewer]).await;
    let r = c.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_401_and_403_as_json() {
    let app = spawn_app().await;
    let r = app
        .client()
        .post(app.url("/api/audit_page"))
        .form(&[("filter[actor]", ""), ("verify", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");

    let viewer = app.signed_in("vic", &[Role::Viewer]).await;
    let r = viewer
        .post(app.url("/api/audit_page"))
        .form(&[("filter[actor]", ""), ("verify", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_routes_answer_401_and_403_as_json() {
    let app = spawn_app().await;
    let r = app
        .client()
        .get(app.url("/api/v1/audit/verify"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "unauthorized"
    );
    let viewer = app.signed_in("vic", &[Role::Viewer, Role::Scientist]).await;
    let r = viewer
        .get(app.url("/api/v1/audit/verify"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "forbidden"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_authenticate_with_the_owners_roles_until_revoked() {
    let app = spawn_app().await;
    app.user("auditbot", &[Role::Auditor]).await;
    let created = app::server::accounts::create_token(&app.pool, "admin", "auditbot", "nightly")
        .await
        .unwrap();
    assert!(created.token.starts_with("gh_"));
    let c = app.client();
    let r = c
        .get(app.url("/api/v1/audit/verify"))
        .bearer_auth(&created.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let report: serde_json::Value = r.json().await.unwrap();
    assert_eq!(report["ok"], true);
    let last_used: Option<String> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE id = ?")
            .bind(created.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(last_used.is_some());
    let me: serde_json::Value = c
        .get(app.url("/api/v1/me"))
        .bearer_auth(&created.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["via"], "token");

    app::server::accounts::revoke_token(&app.pool, "admin", created.id)
        .await
        .unwrap();
    let r = c
        .get(app.url("/api/v1/me"))
        .bearer_auth(&created.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(app.url("/api/v1/me"))
        .bearer_auth("gh_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Only the hash is stored.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE token_hash = ?")
        .bind(&created.token)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_scoped_to_a_viewer_cannot_read_the_audit_trail() {
    let app = spawn_app().await;
    app.user("reader", &[Role::Viewer]).await;
    let t = app::server::accounts::create_token(&app.pool, "admin", "reader", "ro")
        .await
        .unwrap();
    let r = app
        .client()
        .get(app.url("/api/v1/audit"))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_cookie_writes_are_refused() {
    let app = spawn_app().await;
    let c = app.signed_in("adm", &[Role::Admin]).await;
    let r = c
        .post(app.url("/api/create_token"))
        .header("origin", "http://evil.example")
        .form(&[("username", "adm"), ("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}
