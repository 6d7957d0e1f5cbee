//! The home page's sections: each role sees what it came for, computed from the demo workspace.

use crate::common::*;
use serde_json::Value;

async fn home_of(app: &TestApp, user: &str) -> Value {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let token = app::service::accounts::create_token(
        &app.pool,
        user,
        user,
        &format!("home-{n}"),
        app::service::accounts::Issue::owner(),
    )
    .await
    .unwrap()
    .token;
    let res = app
        .client()
        .post(app.url("/api/overview"))
        .bearer_auth(token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn each_role_sees_its_own_sections_from_real_data() {
    let app = spawn_demo_app().await;

    // Everyone: what each alias serves, protected ones first, with the move on record.
    let viewer = home_of(&app, "viewer").await;
    let serving = viewer["serving"].as_array().unwrap();
    let prod = serving
        .iter()
        .find(|a| a["model"] == "credit-default" && a["alias"] == "production")
        .expect("credit-default@production");
    assert_eq!(prod["version"], 2, "{prod}");
    assert_eq!(prod["protected"], true);
    assert_eq!(prod["pending"], 1);
    assert!(
        prod["since_ms"].as_i64().is_some() && prod["moved_by"].is_string(),
        "{prod}"
    );
    let first_unprotected = serving.iter().position(|a| a["protected"] == false);
    let last_protected = serving.iter().rposition(|a| a["protected"] == true);
    assert!(
        first_unprotected.is_none_or(|u| last_protected.is_none_or(|p| p < u)),
        "{serving:?}"
    );
    for section in ["reviewer", "product", "scientist", "auditor", "admin"] {
        assert!(
            viewer[section].is_null(),
            "a viewer sees no {section} section"
        );
    }
    assert_eq!(viewer["recent_is_everyone"], false);

    // Reviewers: the pending request someone else made and they have not reviewed.
    let reviewer = home_of(&app, "reviewer").await;
    let waiting = reviewer["reviewer"]["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["request"]["version"], 4);
    assert!(!waiting[0]["open_checks"].as_array().unwrap().is_empty());
    let decided = reviewer["reviewer"]["decided"].as_array().unwrap();
    assert!(
        decided
            .iter()
            .any(|d| d["decision"] == "approve" && d["version"] == 2),
        "{decided:?}"
    );
    assert!(reviewer["product"].is_null() && reviewer["auditor"].is_null());

    // Data scientists: their runs, newest first, and their request with what blocks it.
    let scientist = home_of(&app, "scientist").await;
    let runs = scientist["scientist"]["runs"].as_array().unwrap();
    assert!(!runs.is_empty());
    let starts: Vec<i64> = runs
        .iter()
        .map(|r| r["start_time"].as_i64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");
    let requester = waiting[0]["request"]["requested_by"].as_str().unwrap();
    let mine = home_of(&app, requester).await;
    let requests = mine["scientist"]["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{mine}");
    assert!(!requests[0]["open_checks"].as_array().unwrap().is_empty());

    // Product managers: every running test with its verdict; ready ones have one to act on.
    let pm = home_of(&app, "pm").await;
    let running = pm["product"]["running"].as_array().unwrap();
    assert!(!running.is_empty());
    assert!(
        running.iter().all(|t| t["status"] == "running"),
        "{running:?}"
    );
    for t in pm["product"]["ready"].as_array().unwrap() {
        assert!(t["verdict"] == "ship" || t["verdict"] == "roll_back", "{t}");
        assert!(t["status"] == "running" || t["status"] == "stopped", "{t}");
    }

    // Auditors: no verification yet, then the one they run on the Audit page.
    let auditor = home_of(&app, "auditor").await;
    assert!(auditor["auditor"]["last_verification"].is_null());
    assert_eq!(auditor["recent_is_everyone"], true);
    let sensitive = auditor["auditor"]["sensitive"].as_array().unwrap();
    assert!(
        sensitive.iter().any(|e| e["action"] == "promotion.waive"),
        "{sensitive:?}"
    );
    assert!(sensitive
        .iter()
        .all(|e| app::store::home::SENSITIVE_ACTIONS.contains(&e["action"].as_str().unwrap())));
    let client = app
        .signed_in("aud-two", &[app::domain::roles::Role::Auditor])
        .await;
    let res = client
        .post(app.url("/api/audit_page"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("verify=true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let auditor = home_of(&app, "auditor").await;
    let v = &auditor["auditor"]["last_verification"];
    assert_eq!(v["verified_by"], "aud-two", "{v}");
    assert_eq!(v["ok"], true);
    assert!(v["entries"].as_i64().unwrap() > 0);
    assert!(auditor["auditor"]["checkpoint"][0].as_i64().unwrap() > 0);
    assert!(auditor["admin"].is_null());
    let admin = home_of(&app, "admin").await;
    assert!(admin["admin"]["users"].as_i64().unwrap() >= 7);
}

/// Many reviewers opening the overview at once, more than the pool has connections: each
/// page reads the pending queue and every request's evidence, and none may hold a connection
/// while waiting for another (on PostgreSQL that once stalled every request until the pool's
/// timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_answers_more_concurrent_reviewers_than_the_pool_has_connections() {
    use app::domain::roles::Role;
    let app = spawn_demo_app().await;
    let reviewer = app.signed_in("busy-reviewer", &[Role::Reviewer]).await;
    let pages: Vec<_> = (0..32)
        .map(|_| {
            let (client, url) = (reviewer.clone(), app.url("/"));
            tokio::spawn(async move {
                let res = client
                    .get(url)
                    .timeout(std::time::Duration::from_secs(20))
                    .send()
                    .await?;
                Ok::<_, reqwest::Error>((res.status(), res.text().await?))
            })
        })
        .collect();
    for page in pages {
        let (status, body) = page.await.expect("task").expect("the page answers in time");
        assert_eq!(status, 200);
        assert!(body.contains("credit-default"), "the overview's queue");
    }
}
