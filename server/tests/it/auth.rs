//! Sign-in, sign-out, sessions, tokens, and 401/403 on pages, server functions and REST routes.

use crate::common::{spawn_app, spawn_app_with, PASSWORD};
use app::domain::roles::Role;
use app::service::state::Config;
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
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE id_hash = $1")
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
    // The server derives it from an https public URL (see browser_origins and main).
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

async fn try_password(
    app: &crate::common::TestApp,
    c: &reqwest::Client,
    user: &str,
    password: &str,
) -> reqwest::Response {
    c.post(app.url("/api/sign_in"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn throttle_counts(app: &crate::common::TestApp) -> Vec<(String, String, i64)> {
    sqlx::query_as("SELECT scope, key, failures FROM login_throttle ORDER BY scope, key")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// Reports the failure windows as if the window had closed.
async fn report_windows(app: &crate::common::TestApp) -> usize {
    let later = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    app::service::sign_in_throttle::report_failed_sign_ins(&app.pool, Default::default(), later)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_get_the_same_message_and_one_audit_entry_per_window() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    let c = app.client();
    let before = app.audit_count().await;
    let wrong = try_password(&app, &c, "alice", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong: serde_json::Value = wrong.json().await.unwrap();
    let unknown: serde_json::Value = try_password(&app, &c, "nobody", "not the password")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wrong["message"], unknown["message"]);
    assert_eq!(wrong["error"], "unauthorized");
    assert_eq!(app.audit_count().await, before, "no entry per attempt");
    assert_eq!(report_windows(&app).await, 2);
    let failed: Vec<(String, String)> = sqlx::query_as(
        "SELECT object_id, details FROM audit_log WHERE action = 'auth.sign_in_failures' ORDER BY object_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].0, "*", "names that are no account are one entry");
    assert_eq!(failed[1].0, "alice");
    let d: serde_json::Value = serde_json::from_str(&failed[1].1).unwrap();
    assert_eq!(d["failures"], 1);
    assert_eq!(d["addresses"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(report_windows(&app).await, 0, "reported once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_slow_the_next_attempt_without_locking_the_account() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    let c = app.client();
    for _ in 0..3 {
        let r = try_password(&app, &c, "alice", "guess guess guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The fourth attempt waits a second, even with the right password; waiting is not a
    // failure and is not counted. The last failure is moved to the next second before each
    // try, so a slow machine cannot let the second pass between two tries (the wait is then
    // one or two whole seconds, by where in the second the check falls).
    for _ in 0..5 {
        sqlx::query("UPDATE login_throttle SET last_failure = $1")
            .bind(time::OffsetDateTime::now_utc().unix_timestamp() + 1)
            .execute(&app.pool)
            .await
            .unwrap();
        let r = app.sign_in(&c, "alice").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait = r.headers()["retry-after"].to_str().unwrap().to_string();
        assert!(wait == "1" || wait == "2", "{wait}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "too_many_requests");
    }
    let counts = throttle_counts(&app).await;
    assert!(counts.iter().all(|(_, _, n)| *n == 3), "{counts:?}");
    // Once the delay has passed, the right password signs in and clears the account's count.
    sqlx::query("UPDATE login_throttle SET last_failure = last_failure - 2")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app.sign_in(&c, "alice").await;
    assert!(r.status().is_success(), "{}", r.status());
    let left: Vec<String> = throttle_counts(&app)
        .await
        .into_iter()
        .map(|(scope, _, _)| scope)
        .collect();
    assert_eq!(left, ["address"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_from_another_address_cannot_lock_the_user_out() {
    let app = spawn_app_with(
        Config {
            client_ip_header: Some("x-forwarded-for".into()),
            ..Config::default()
        },
        ServeSettings::default(),
    )
    .await;
    app.user("alice", &[Role::Viewer]).await;
    let from = |addr: &str| {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("origin", app.base.parse().unwrap());
        // A proxy appends the address it saw: the last entry is the one to trust.
        h.insert(
            "x-forwarded-for",
            format!("10.9.9.9, {addr}").parse().unwrap(),
        );
        app.client_with(h)
    };
    let attacker = from("203.0.113.9");
    let mut refused = 0;
    for _ in 0..40 {
        let r = try_password(&app, &attacker, "alice", "guess guess guess").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert!(refused >= 30, "most guesses wait: {refused}");
    let victim = from("198.51.100.7");
    let r = app.sign_in(&victim, "alice").await;
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_address_is_ignored_unless_a_proxy_header_is_configured() {
    let app = spawn_app().await;
    app.user("alice", &[Role::Viewer]).await;
    for i in 0..4 {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("origin", app.base.parse().unwrap());
        h.insert("x-forwarded-for", format!("203.0.113.{i}").parse().unwrap());
        let r = try_password(&app, &app.client_with(h), "alice", "guess guess guess").await;
        let want = if i < 3 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(r.status(), want, "attempt {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_slowed_per_address_across_accounts() {
    let mut throttle = app::domain::throttle::Policy::default();
    throttle.address.free = 3;
    let app = spawn_app_with(
        Config {
            throttle,
            ..Config::default()
        },
        ServeSettings::default(),
    )
    .await;
    app.user("bob", &[Role::Viewer]).await;
    let c = app.client();
    for name in ["x1", "x2", "x3"] {
        try_password(&app, &c, name, "guess guess guess").await;
    }
    let r = app.sign_in(&c, "bob").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// 300 anonymous attempts with made-up names: a bounded number of counters, no audit entry
/// per attempt, and one entry for the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_guessing_does_not_fill_the_audit_trail() {
    let app = spawn_app().await;
    let before = app.audit_count().await;
    let c = app.client();
    for i in 0..300 {
        try_password(&app, &c, &format!("made-up-{i}"), "guess guess guess").await;
    }
    assert_eq!(app.audit_count().await, before);
    assert!(throttle_counts(&app).await.len() <= 2 * 25 + 1);
    assert_eq!(report_windows(&app).await, 1);
    assert_eq!(app.audit_count().await, before + 1);
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
async fn idle_sessions_end_and_active_ones_go_on() {
    let app = spawn_app().await;
    let c = app.signed_in("alice", &[Role::Viewer]).await;
    let me = || async { c.get(app.url("/api/v1/me")).send().await.unwrap().status() };
    // Active a minute ago and more: the request refreshes the session's last activity.
    let ago = |d: time::Duration| {
        app::domain::audit_chain::format_ts(time::OffsetDateTime::now_utc() - d)
    };
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(ago(time::Duration::minutes(90)))
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(me().await, StatusCode::OK);
    let seen: String = sqlx::query_scalar("SELECT last_seen_at FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let minute_ago = app::domain::audit_chain::format_ts(
        time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
    );
    assert!(seen > minute_ago, "{seen} is the last request");
    // Idle for longer than two hours: over, although the 12-hour lifetime is not.
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(ago(time::Duration::hours(3)))
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(me().await, StatusCode::UNAUTHORIZED);
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
    let created = app::service::accounts::create_token(
        &app.pool,
        "admin",
        "auditbot",
        "nightly",
        app::service::accounts::Issue::operator(),
    )
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
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE id = $1")
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

    app::service::accounts::revoke_token(&app.pool, "admin", created.id)
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
    assert!(r.text().await.unwrap().contains("Basic"));
    // Only the hash is stored.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&created.token)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// MLflow's clients send `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD` as Basic
/// authentication; with an API token as the password they are let in as that token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_authentication_takes_an_api_token_as_the_password() {
    let app = spawn_app().await;
    app.user("trainer", &[Role::Scientist]).await;
    app.user("other", &[Role::Scientist]).await;
    let t = app::service::accounts::create_token(
        &app.pool,
        "admin",
        "trainer",
        "mlflow",
        app::service::accounts::Issue::operator(),
    )
    .await
    .unwrap();
    let c = app.client();
    let me = |user: &'static str, password: String| {
        c.get(app.url("/api/v1/me"))
            .basic_auth(user, Some(password))
            .send()
    };
    let r = me("trainer", t.token.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (body["username"].as_str(), body["via"].as_str()),
        (Some("trainer"), Some("token"))
    );
    // Another user's name with the token, a password instead of a token, an empty password.
    for (user, password, says) in [
        ("other", t.token.clone(), "does not belong"),
        (
            "trainer",
            "trainer-password".to_string(),
            "invalid, expired or revoked",
        ),
        ("trainer", String::new(), "Basic"),
    ] {
        let r = me(user, password).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{user}");
        assert!(r.text().await.unwrap().contains(says), "{user}: {says}");
    }
    // A write through the MLflow API with Basic authentication is the token's user's.
    let r = c
        .post(app.url("/api/2.0/mlflow/experiments/create"))
        .basic_auth("trainer", Some(&t.token))
        .json(&serde_json::json!({ "name": "basic-auth" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'mlflow.experiment.create' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, "trainer/token:mlflow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_scoped_to_a_viewer_cannot_read_the_audit_trail() {
    let app = spawn_app().await;
    app.user("reader", &[Role::Viewer]).await;
    let t = app::service::accounts::create_token(
        &app.pool,
        "admin",
        "reader",
        "ro",
        app::service::accounts::Issue::operator(),
    )
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
    app.user("adm", &[Role::Admin]).await;
    let cookie = session_of(&app).await;
    // Another site, the same host on another scheme or port, or no origin at all.
    let https = app.base.replace("http://", "https://");
    let other_port = format!("{}1", app.base);
    for origin in [
        Some("http://evil.example"),
        Some(https.as_str()),
        Some(other_port.as_str()),
        Some("null"),
        None,
    ] {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(o) = origin {
            headers.insert("origin", o.parse().unwrap());
        }
        let r = app
            .client_with(headers)
            .post(app.url("/api/create_token"))
            .header("cookie", &cookie)
            .form(&[("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{origin:?}");
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // A same-origin Referer stands in for a missing Origin.
    let bare = app.client_with(Default::default());
    let r = bare
        .post(app.url("/api/create_token"))
        .header("cookie", &cookie)
        .header("referer", app.url("/account"))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// A fresh session of `adm`, as a `Cookie` header value.
async fn session_of(app: &crate::common::TestApp) -> String {
    let fresh = app.client();
    let r = app.sign_in(&fresh, "adm").await;
    assert!(r.status().is_success());
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gatehouse_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned()
}

/// Login CSRF: a form on another site must not sign a visitor into someone's account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_from_another_origin_is_refused() {
    let app = spawn_app().await;
    app.user("victim-of-csrf", &[Role::Viewer]).await;
    for origin in [Some("http://evil.example"), None] {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(o) = origin {
            headers.insert("origin", o.parse().unwrap());
        }
        let c = app.client_with(headers);
        let r = app.sign_in(&c, "victim-of-csrf").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{origin:?}");
        assert!(r.headers().get("set-cookie").is_none());
    }
    let r = app.sign_in(&app.client(), "victim-of-csrf").await;
    assert!(r.status().is_success());
}

/// An admin deactivates a user: sign-in, sessions and API tokens stop at once, what the user
/// did stays; reactivated, the user signs in again and the tokens work (the old sessions do not).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivated_users_lose_access_at_once_and_keep_their_record() {
    let app = spawn_app().await;
    let adm = app.signed_in("adm", &[Role::Admin]).await;
    let leaver = app.signed_in("leaver", &[Role::Scientist]).await;
    let peer = app.signed_in("peer", &[Role::Scientist]).await;
    let t = app::service::accounts::create_token(
        &app.pool,
        "admin",
        "leaver",
        "ci",
        app::service::accounts::Issue::operator(),
    )
    .await
    .unwrap();
    let r = leaver
        .post(app.url("/api/2.0/mlflow/experiments/create"))
        .bearer_auth(&t.token)
        .json(&serde_json::json!({ "name": "before-leaving" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let me = |c: &reqwest::Client| c.get(app.url("/api/v1/me")).send();
    let by_token = || {
        app.client()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&t.token)
            .send()
    };
    assert_eq!(me(&leaver).await.unwrap().status(), StatusCode::OK);
    let set = |c: &reqwest::Client, user: &str, active: bool| {
        c.post(app.url("/api/set_user_active"))
            .form(&[
                ("username", user.to_string()),
                ("active", active.to_string()),
            ])
            .send()
    };
    // Only an admin may, and not on their own account.
    assert_eq!(
        set(&peer, "leaver", false).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let r = set(&adm, "adm", false).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("your own account"));

    assert_eq!(
        set(&adm, "leaver", false).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        me(&leaver).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(by_token().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert!(!app
        .sign_in(&app.client(), "leaver")
        .await
        .status()
        .is_success());
    let r = set(&adm, "leaver", false).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_log WHERE actor = 'adm' AND action = 'user.deactivate' AND object_id = 'leaver'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&details).unwrap()["sessions_ended"],
        1
    );
    // What the user did stays.
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE actor = 'leaver/token:ci' AND action = 'mlflow.experiment.create'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(n, 1);

    assert_eq!(
        set(&adm, "leaver", true).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(by_token().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        me(&leaver).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(app
        .sign_in(&app.client(), "leaver")
        .await
        .status()
        .is_success());
    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(_, action, object)| object == "leaver" && action.starts_with("user."))
        .map(|(_, action, _)| action)
        .collect();
    assert_eq!(
        actions,
        ["user.create", "user.deactivate", "user.reactivate"]
    );
}
