//! The authorisation matrix: every REST operation (read from the OpenAPI document the router
//! builds from its own route table), every server function (read from the server-function
//! registry) and every page (read from the app's route list) is called without a session and
//! as each role, and the answer is checked against what is documented for it. A route, server
//! function or page nobody described fails the test.

use crate::common::*;
use app::domain::authz::Action::{self, *};
use app::domain::roles::Role;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeMap;

/// Who may call a server function.
#[derive(Clone, Copy, Debug)]
enum Gate {
    /// Anyone; the answer for a caller without a session is the given status.
    Open(u16),
    /// A session whose roles grant the action.
    Needs(Action),
}

/// Every server function: its gate and arguments that get it past argument decoding, so the
/// gate is what answers. The endpoints come from the code; this table is what they are
/// documented to do.
fn server_fns() -> BTreeMap<&'static str, (Gate, &'static str)> {
    use Gate::*;
    BTreeMap::from([
        ("/api/session", (Open(200), "")),
        ("/api/demo_accounts", (Open(200), "")),
        ("/api/sign_in_options", (Open(200), "")),
        (
            "/api/sign_in",
            (Open(401), "username=nobody-here&password=wrong-password"),
        ),
        ("/api/sign_out", (Open(200), "")),
        ("/api/shared_ab_test", (Open(404), "token=no-such-link")),
        ("/api/ab_tests", (Needs(ReadWorkspace), "")),
        ("/api/ab_test", (Needs(ReadWorkspace), "id=1")),
        (
            "/api/create_ab_test",
            (Needs(ManageExperiments), "form[name]="),
        ),
        (
            "/api/upload_ab_results",
            (Needs(ManageExperiments), "id=1&csv="),
        ),
        (
            "/api/decide_ab_test",
            (Needs(DecideExperiment), "id=1&decision=ship"),
        ),
        (
            "/api/set_ab_status",
            (Needs(ManageExperiments), "id=1&status=running"),
        ),
        ("/api/share_ab_test", (Needs(ManageExperiments), "id=1")),
        (
            "/api/revoke_ab_share",
            (Needs(ManageExperiments), "id=1&link=1"),
        ),
        ("/api/admin_data", (Needs(ManageUsers), "")),
        (
            "/api/create_user",
            (Needs(ManageUsers), "username=&password="),
        ),
        (
            "/api/set_roles",
            (Needs(ManageUsers), "username=nobody-here"),
        ),
        (
            "/api/set_user_active",
            (Needs(ManageUsers), "username=nobody-here&active=false"),
        ),
        ("/api/sign_in_settings", (Needs(ManageUsers), "")),
        (
            "/api/set_local_sign_in",
            (Needs(ManageUsers), "enabled=true"),
        ),
        ("/api/webhooks_admin", (Needs(ManageWebhooks), "")),
        (
            "/api/redeliver_webhook",
            (Needs(ManageWebhooks), "delivery_id=no-such-delivery"),
        ),
        ("/api/my_tokens", (Needs(ManageOwnTokens), "")),
        ("/api/create_token", (Needs(ManageOwnTokens), "name=")),
        ("/api/revoke_token", (Needs(ManageOwnTokens), "id=999999")),
        ("/api/audit_page", (Needs(ReadAudit), "")),
        ("/api/fairness_reports", (Needs(ReadWorkspace), "")),
        ("/api/fairness_report", (Needs(ReadWorkspace), "id=1")),
        ("/api/explore_lineage", (Needs(ReadWorkspace), "")),
        ("/api/overview", (Needs(ReadWorkspace), "")),
        ("/api/registered_models", (Needs(ReadWorkspace), "")),
        (
            "/api/list_run_artifacts",
            (Needs(ReadWorkspace), "run_id=no-such-run"),
        ),
        (
            "/api/get_model_version",
            (Needs(ReadWorkspace), "name=no-such-model&version=1"),
        ),
        (
            "/api/registered_model",
            (Needs(ReadWorkspace), "name=no-such-model"),
        ),
        ("/api/promotion_queue", (Needs(ReadWorkspace), "")),
        ("/api/promotion_request", (Needs(ReadWorkspace), "id=1")),
        (
            "/api/request_promotion",
            (
                Needs(RequestPromotion),
                "model=m&version=1&alias=production",
            ),
        ),
        (
            "/api/request_rollback",
            (Needs(RequestPromotion), "model=m&alias=production"),
        ),
        (
            "/api/review_promotion",
            (Needs(ApprovePromotion), "id=1&decision=approve"),
        ),
        // Who may waive is the policy's to say; the gate is a signed-in reader.
        (
            "/api/waive_check",
            (Needs(ReadWorkspace), "id=1&check=fairness"),
        ),
        ("/api/withdraw_promotion", (Needs(RequestPromotion), "id=1")),
        ("/api/list_policies", (Needs(ReadWorkspace), "")),
        (
            "/api/save_policy",
            (Needs(ManagePolicies), "scope=default&text="),
        ),
        (
            "/api/alias_at",
            (Needs(ReadWorkspace), "name=m&alias=production&at="),
        ),
        ("/api/experiments", (Needs(ReadWorkspace), "")),
        (
            "/api/experiment_runs",
            (Needs(ReadWorkspace), "experiment_id=1"),
        ),
        (
            "/api/set_baseline",
            (Needs(IngestTracking), "run_id=no-such-run&baseline=true"),
        ),
        (
            "/api/run_detail",
            (Needs(ReadWorkspace), "run_id=no-such-run"),
        ),
        ("/api/compare_runs", (Needs(ReadWorkspace), "")),
    ])
}

/// Pages anyone may open; every other page sends a visitor without a session to sign in.
const PUBLIC_PAGES: [&str; 2] = ["/login", "/shared/ab/{token}"];

/// A session per role (and none), each from its own user.
async fn callers(app: &TestApp) -> Vec<(Option<Role>, Client)> {
    let mut out = vec![(None, app.client())];
    for role in Role::ALL {
        let c = app
            .signed_in(&format!("matrix-{}", role.as_str()), &[role])
            .await;
        out.push((Some(role), c));
    }
    out
}

/// The path with its parameters filled with plausible values.
fn fill(path: &str) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').or_else(|| seg.strip_prefix(':')) {
                None => seg.to_owned(),
                Some(p) => match p.trim_end_matches('}').trim_start_matches('*') {
                    "name" | "model" => "credit-default".into(),
                    "alias" => "production".into(),
                    "scope" => "default".into(),
                    "run_id" | "token" => "no-such-thing".into(),
                    _ => "1".into(),
                },
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Checks one answer against the roles allowed; returns a line for the failure list.
fn check(
    what: &str,
    caller: Option<Role>,
    allowed: Option<&[Role]>,
    status: StatusCode,
    body: &str,
) -> Option<String> {
    let who = caller.map_or("no session", |r| r.as_str());
    let fail = |expected: &str| {
        Some(format!(
            "{what} as {who}: expected {expected}, got {status} {}",
            body.chars().take(160).collect::<String>()
        ))
    };
    // 501 is an answer by design (MLflow's multipart transfers, off), not a failure.
    if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
        return fail("no server error");
    }
    match (allowed, caller) {
        // Open to everyone: never refused for want of a role.
        (None, _) if status == StatusCode::FORBIDDEN => fail("not 403"),
        (None, _) => None,
        (Some(_), None) if status != StatusCode::UNAUTHORIZED => fail("401"),
        (Some(roles), Some(r)) if !roles.contains(&r) && status != StatusCode::FORBIDDEN => {
            fail("403")
        }
        (Some(roles), Some(r))
            if roles.contains(&r)
                && (status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN) =>
        {
            fail("to pass the gate")
        }
        _ => None,
    }
}

/// A browser form answers with a redirect; read it as the status an API would have given:
/// to sign-in is 401, back to the form with the roles refusal is 403, anything else passed.
fn form_outcome(res: &reqwest::Response) -> StatusCode {
    if res.status() != StatusCode::SEE_OTHER {
        return res.status();
    }
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default();
    let refused = app::error::AppError::forbidden()
        .to_string()
        .replace(' ', "%20");
    if location.starts_with("/login") {
        StatusCode::UNAUTHORIZED
    } else if location.contains(&refused) {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    }
}

#[tokio::test]
async fn every_rest_operation_answers_each_role_as_documented() {
    let app = spawn_app().await;
    let doc: Value = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("openapi json");
    let callers = callers(&app).await;
    let mut failures = Vec::new();
    let mut operations = 0;
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            operations += 1;
            let roles: Vec<Role> = op["x-gatehouse-roles"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} documents no roles"))
                .iter()
                .map(|r| {
                    Role::ALL
                        .into_iter()
                        .find(|x| Some(x.as_str()) == r.as_str())
                        .unwrap_or_else(|| panic!("{method} {path}: unknown role {r}"))
                })
                .collect();
            let gated = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let allowed = gated.then_some(roles.as_slice());
            let media = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.keys().next().cloned());
            let url = app.url(&fill(path));
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
            for (role, client) in &callers {
                let mut req = client.request(m.clone(), &url).header("origin", &app.base);
                req = match media.as_deref() {
                    Some("application/json") => {
                        req.header("content-type", "application/json").body("{}")
                    }
                    Some("multipart/form-data") => req
                        .header("content-type", "multipart/form-data; boundary=x")
                        .body("--x--\r\n"),
                    Some(other) => req.header("content-type", other).body(""),
                    None => req,
                };
                let res = req.send().await.expect("request");
                let status = if media.as_deref() == Some("multipart/form-data") {
                    form_outcome(&res)
                } else {
                    res.status()
                };
                let body = res.text().await.unwrap_or_default();
                if let Some(f) = check(&format!("{method} {path}"), *role, allowed, status, &body) {
                    failures.push(f);
                }
            }
        }
    }
    assert!(operations > 80, "only {operations} operations documented");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_server_function_answers_each_role_as_documented() {
    let app = spawn_app().await;
    let table = server_fns();
    let registered: Vec<&'static str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .collect();
    let undocumented: Vec<_> = registered
        .iter()
        .filter(|p| !table.contains_key(*p))
        .collect();
    assert!(
        undocumented.is_empty(),
        "server functions without an entry in the matrix: {undocumented:?}"
    );
    let gone: Vec<_> = table.keys().filter(|p| !registered.contains(p)).collect();
    assert!(
        gone.is_empty(),
        "matrix entries for no server function: {gone:?}"
    );

    let callers = callers(&app).await;
    let mut failures = Vec::new();
    // Signing out ends the caller's session, so it goes last.
    let mut order: Vec<_> = table.iter().collect();
    order.sort_by_key(|(p, _)| **p == "/api/sign_out");
    for (path, (gate, args)) in order {
        for (role, client) in &callers {
            let res = client
                .post(app.url(path))
                .header("origin", &app.base)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(*args)
                .send()
                .await
                .expect("request");
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            let failure = match gate {
                Gate::Open(expected) if role.is_none() && status.as_u16() != *expected => Some(
                    format!("{path} with no session: expected {expected}, got {status} {body}"),
                ),
                Gate::Open(_) => check(path, *role, None, status, &body),
                Gate::Needs(action) => {
                    let roles = server::api::Access::Needs(*action).roles();
                    check(path, *role, Some(&roles), status, &body)
                }
            };
            failures.extend(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_page_sends_a_visitor_without_a_session_to_sign_in() {
    let app = spawn_app().await;
    let viewer = app.signed_in("matrix-page-viewer", &[Role::Viewer]).await;
    let anonymous = app.client();
    let pages = server::startup::route_list();
    assert!(pages.len() > 15, "only {} pages listed", pages.len());
    let mut failures = Vec::new();
    for page in pages {
        let path = fill(page.path());
        let res = anonymous.get(app.url(&path)).send().await.expect("page");
        let to_login = res.status().is_redirection()
            && res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.starts_with("/login"));
        let public = PUBLIC_PAGES.contains(&page.path());
        if public == to_login {
            failures.push(format!(
                "{}: {} without a session (public: {public})",
                page.path(),
                res.status()
            ));
        }
        if page.path() != "/login" {
            let res = viewer.get(app.url(&path)).send().await.expect("page");
            if res.status().is_redirection() || res.status().is_server_error() {
                failures.push(format!("{}: {} for a viewer", page.path(), res.status()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
