//! Single sign-on through a real OpenID Connect provider the test starts (`sso/idp.rs`): people
//! are created at their first sign-in, their roles follow their groups at every sign-in and
//! each change is audited; the callback works once and only in the browser that started the
//! sign-in; deactivated people and unlinked local names stay out; an admin can turn password
//! sign-in off.

mod idp;

use crate::common::{free_port, spawn_app, spawn_app_with, TestApp};
use app::domain::roles::Role;
use app::domain::sso::RoleMap;
use app::service::sso::SsoSettings;
use app::service::state::Config;
use idp::Idp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::ServeSettings;
use std::time::Duration;

fn settings(issuer: &str) -> SsoSettings {
    SsoSettings {
        issuer: issuer.to_owned(),
        client_id: idp::CLIENT_ID.into(),
        client_secret: idp::CLIENT_SECRET.into(),
        scopes: vec!["profile".into(), "email".into(), "groups".into()],
        groups_claim: "groups".into(),
        username_claim: "preferred_username".into(),
        roles: RoleMap::parse("ml-reviewers=reviewer,staff=viewer", "").expect("role map"),
        display_name: "Test IdP".into(),
        clock_skew: Duration::from_secs(60),
        redirect_url: None,
    }
}

/// Gatehouse with single sign-on through a provider that knows `accounts`.
async fn with_idp(accounts: Value) -> (TestApp, Idp) {
    let port = free_port();
    let config = Config {
        sso: Some(settings(&format!("http://127.0.0.1:{port}"))),
        ..Config::default()
    };
    let app = spawn_app_with(config, ServeSettings::default()).await;
    let idp = Idp::start(port, &app.url("/auth/oidc/callback"), &accounts).await;
    (app, idp)
}

async fn me(app: &TestApp, client: &reqwest::Client) -> (StatusCode, Value) {
    let r = client.get(app.url("/api/v1/me")).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn location(r: &reqwest::Response) -> &str {
    r.headers()[reqwest::header::LOCATION].to_str().unwrap()
}

/// The reason the sign-in page shows after a refused single sign-on (the cookie carrying it
/// is sent to `/login` only).
async fn shown_error(app: &TestApp, client: &reqwest::Client) -> String {
    let r = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    let Some(start) = page.find(r#"class="form-error">"#) else {
        return String::new();
    };
    let text = &page[start..];
    let text = &text[text.find('>').unwrap() + 1..text.find("</p>").unwrap()];
    text.replace("<!>", "")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

async fn details_of(app: &TestApp, action: &str, object: &str) -> Vec<(String, Value)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, details FROM audit_log WHERE action = $1 AND object_id = $2 ORDER BY seq",
    )
    .bind(action)
    .bind(object)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(a, d)| (a, serde_json::from_str(&d).unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_created_at_first_sign_in_and_their_roles_follow_their_groups() {
    let (app, idp) = with_idp(json!({
        "rita": ["ml-reviewers", "staff"],
        "olga": ["contractors"],
    }))
    .await;
    let start = app.url("/auth/oidc/login?next=/models/churn");
    let browser = app.client();
    let r = idp::sign_in(&browser, &start, "rita").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/models/churn");
    let (status, who) = me(&app, &browser).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(who["username"], "rita");
    assert_eq!(who["roles"], json!(["viewer", "reviewer"]));
    let created = details_of(&app, "user.create", "rita").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].0, "sso");
    assert_eq!(created[0].1["groups"], json!(["ml-reviewers", "staff"]));
    assert_eq!(created[0].1["issuer"], json!(idp.issuer));
    let signed = details_of(&app, "auth.sign_in", "rita").await;
    assert_eq!(signed[0].0, "rita");
    assert_eq!(signed[0].1["method"], "sso");
    // The account has no password: it signs in only through the provider.
    let local = app.client();
    assert_eq!(
        app.sign_in(&local, "rita").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Removed from the reviewers at the provider: the next sign-in removes the role, for every
    // session and token of the account.
    idp.set_groups("rita", &["staff"]);
    let again = app.client();
    let r = idp::sign_in(&again, &start, "rita").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &again).await.1["roles"], json!(["viewer"]));
    assert_eq!(me(&app, &browser).await.1["roles"], json!(["viewer"]));
    let changed = details_of(&app, "user.set_roles", "rita").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].0, "sso");
    assert_eq!(changed[0].1["removed"], json!(["reviewer"]));
    assert_eq!(changed[0].1["added"], json!([]));
    // Back in the group: the role comes back; the same groups again change nothing.
    idp.set_groups("rita", &["staff", "ml-reviewers"]);
    idp::sign_in(&app.client(), &start, "rita").await;
    idp::sign_in(&app.client(), &start, "rita").await;
    let changed = details_of(&app, "user.set_roles", "rita").await;
    assert_eq!(changed.len(), 2);
    assert_eq!(changed[1].1["added"], json!(["reviewer"]));
    assert_eq!(
        details_of(&app, "user.create", "rita").await.len(),
        1,
        "one account"
    );

    // Someone whose groups grant nothing is told why and gets no account.
    let outsider = app.client();
    let r = idp::sign_in(&outsider, &start, "olga").await;
    assert_eq!(
        (r.status(), location(&r)),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert_eq!(me(&app, &outsider).await.0, StatusCode::UNAUTHORIZED);
    let why = shown_error(&app, &outsider).await;
    assert!(why.contains("none of your groups (contractors)"), "{why}");
    assert!(shown_error(&app, &outsider).await.is_empty(), "shown once");
    assert!(details_of(&app, "user.create", "olga").await.is_empty());

    // Everyone loses the groups that granted a role: the roles go, and the sign-in is refused.
    idp.set_groups("rita", &["contractors"]);
    let r = idp::sign_in(&app.client(), &start, "rita").await;
    assert_eq!(location(&r), "/login");
    // Her open session keeps her name but no longer any access.
    assert_eq!(me(&app, &browser).await.0, StatusCode::FORBIDDEN);
    let removed = details_of(&app, "user.set_roles", "rita").await;
    assert_eq!(removed.last().unwrap().1["after"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_works_once_and_only_in_the_browser_that_started_it() {
    let (app, _idp) = with_idp(json!({ "rita": ["ml-reviewers"] })).await;
    let start = app.url("/auth/oidc/login");
    let browser = app.client();
    let callback = idp::to_callback(&browser, &start, "rita").await;
    // Another browser (an attacker's link carrying their own code) is refused.
    let other = app.client();
    let r = other.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), "/login");
    assert!(shown_error(&app, &other)
        .await
        .contains("not started in this browser"));
    assert_eq!(me(&app, &other).await.0, StatusCode::UNAUTHORIZED);
    // The browser that started it signs in; the same answer again does nothing more.
    let r = browser.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), "/");
    assert_eq!(me(&app, &browser).await.0, StatusCode::OK);
    let sessions = details_of(&app, "auth.sign_in", "rita").await.len();
    let replay = app.client();
    let r = replay.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), "/login");
    assert_eq!(
        details_of(&app, "auth.sign_in", "rita").await.len(),
        sessions
    );

    // A state this server never issued, with the cookie to match, is refused too.
    let forged = app.client();
    let url = app.url("/auth/oidc/callback?code=x&state=forged");
    let r = forged
        .get(&url)
        .header(reqwest::header::COOKIE, "gatehouse_sso=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/login");
    assert!(shown_error(&app, &forged)
        .await
        .contains("start the sign-in again"));
    // The provider's refusal is shown as the provider put it.
    let denied = app.client();
    let url = app.url("/auth/oidc/callback?error=access_denied&error_description=End-User%20aborted%20interaction");
    let r = denied.get(&url).send().await.unwrap();
    assert_eq!(location(&r), "/login");
    assert!(shown_error(&app, &denied)
        .await
        .contains("End-User aborted interaction"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivated_people_and_unlinked_local_names_stay_out() {
    let (app, _idp) = with_idp(json!({ "rita": ["ml-reviewers"], "sam": ["staff"] })).await;
    let start = app.url("/auth/oidc/login");
    // A local account of the same name is not taken over by the provider's person.
    app.user("rita", &[Role::Admin]).await;
    let c = app.client();
    let r = idp::sign_in(&c, &start, "rita").await;
    assert_eq!(location(&r), "/login");
    assert!(shown_error(&app, &c)
        .await
        .contains("already exists in Gatehouse"));
    assert_eq!(me(&app, &c).await.0, StatusCode::UNAUTHORIZED);

    let sam = app.client();
    idp::sign_in(&sam, &start, "sam").await;
    assert_eq!(me(&app, &sam).await.0, StatusCode::OK);
    let admin = app.signed_in("boss", &[Role::Admin]).await;
    let r = admin
        .post(app.url("/api/set_user_active"))
        .form(&[("username", "sam"), ("active", "false")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(me(&app, &sam).await.0, StatusCode::UNAUTHORIZED);
    let c = app.client();
    let r = idp::sign_in(&c, &start, "sam").await;
    assert_eq!(location(&r), "/login");
    assert!(shown_error(&app, &c).await.contains("deactivated"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_turns_password_sign_in_off_only_beside_a_provider() {
    let plain = spawn_app().await;
    let admin = plain.signed_in("boss", &[Role::Admin]).await;
    let off = [("enabled", "false")];
    let r = admin
        .post(plain.url("/api/set_local_sign_in"))
        .form(&off)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = plain
        .client()
        .get(plain.url("/auth/oidc/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The provider need not be up for the switch.
    let config = Config {
        sso: Some(settings(&format!("http://127.0.0.1:{}", free_port()))),
        ..Config::default()
    };
    let app = spawn_app_with(config, ServeSettings::default()).await;
    let admin = app.signed_in("boss", &[Role::Admin]).await;
    app.user("ada", &[Role::Scientist]).await;
    let r = admin
        .post(app.url("/api/set_local_sign_in"))
        .form(&off)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = app.sign_in(&app.client(), "ada").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert!(body.contains("turned off"), "{body}");
    let options: Value = app
        .client()
        .post(app.url("/api/sign_in_options"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (options["local"].as_bool(), options["sso"].as_str()),
        (Some(false), Some("Test IdP"))
    );
    // Sessions already open and API tokens go on working.
    assert_eq!(me(&app, &admin).await.0, StatusCode::OK);
    let on = [("enabled", "true")];
    let r = admin
        .post(app.url("/api/set_local_sign_in"))
        .form(&on)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(
        app.sign_in(&app.client(), "ada").await.status(),
        StatusCode::OK
    );
    let switched = details_of(&app, "settings.local_sign_in", "local_sign_in").await;
    let seen: Vec<_> = switched
        .iter()
        .map(|(a, d)| (a.as_str(), d["enabled"].as_bool()))
        .collect();
    assert_eq!(seen, vec![("boss", Some(false)), ("boss", Some(true))]);
}
