//! A store that cannot take writes (disk full, read-only) answers 503 with a message that says
//! so, stores nothing of the refused request, and recovers when space returns.

use crate::common::*;
use app::domain::roles::Role;
use app::service::state::Config;
use server::ServeSettings;

/// A migrated store with a scientist and their token; returns the folder, the URL and the token.
async fn prepared() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}",
        dir.path().join("gatehouse-test.db").display()
    );
    let pool = server::open_store(&url).await.expect("open store");
    app::service::accounts::create_user(&pool, "test", "sci", &[Role::Scientist], PASSWORD)
        .await
        .expect("user");
    let token = app::service::accounts::create_token(
        &pool,
        "test",
        "sci",
        "storage",
        app::service::accounts::Issue::operator(),
    )
    .await
    .expect("token")
    .token;
    pool.close().await;
    (dir, url, token)
}

async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.client()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_full_disk_answers_503_stores_nothing_and_recovers() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let (dir, url, token) = prepared().await;
    // One connection, so raising the page limit later applies to every write.
    let probe = app::store::connect_sized(&url, 1).await.expect("probe");
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&probe)
        .await
        .expect("page count");
    probe.close().await;
    // The page limit belongs to a connection: set on the pool's one connection, it is the
    // disk's size; a connection opened later has none, as when space has been freed.
    let pool = app::store::connect_sized(&url, 1).await.expect("pool");
    sqlx::query(&format!("PRAGMA max_page_count = {}", pages + 200))
        .execute(&pool)
        .await
        .expect("limit the size");
    let app = serve_on(
        dir,
        pool.clone(),
        Config::default(),
        ServeSettings::default(),
    )
    .await;

    let exp = post(
        &app,
        &token,
        "/api/2.0/mlflow/experiments/create",
        serde_json::json!({ "name": "full" }),
    )
    .await;
    assert_eq!(exp.status(), 200);
    let exp: serde_json::Value = exp.json().await.expect("json");
    let run = post(
        &app,
        &token,
        "/api/2.0/mlflow/runs/create",
        serde_json::json!({ "experiment_id": exp["experiment_id"], "start_time": 1 }),
    )
    .await;
    let run: serde_json::Value = run.json().await.expect("json");
    let run_id = run["run"]["info"]["run_id"]
        .as_str()
        .expect("run id")
        .to_owned();

    // Batches of large parameters until the disk is full.
    let batch = |i: usize| {
        serde_json::json!({ "run_id": run_id, "params": (0..20).map(|k| serde_json::json!({
            "key": format!("b{i}_p{k}"), "value": "x".repeat(5_000) })).collect::<Vec<_>>() })
    };
    let mut full_at = None;
    for i in 0..200 {
        let res = post(&app, &token, "/api/2.0/mlflow/runs/log-batch", batch(i)).await;
        if res.status() == 503 {
            assert_eq!(res.headers()["retry-after"], "30");
            let body: serde_json::Value = res.json().await.expect("json");
            assert_eq!(body["error_code"], "TEMPORARILY_UNAVAILABLE");
            assert!(
                body["message"]
                    .as_str()
                    .expect("message")
                    .contains("disk is full"),
                "{body}"
            );
            full_at = Some(i);
            break;
        }
        assert_eq!(res.status(), 200, "batch {i}");
    }
    let full_at = full_at.expect("the disk filled up");
    assert!(full_at > 0, "some batches fitted");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM params WHERE key LIKE $1")
        .bind(format!("b{full_at}\\_%"))
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored, 0, "nothing of the refused batch is stored");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'mlflow.run.log_batch'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(
        audited, full_at as i64,
        "one audit entry per stored batch, none for the refused one"
    );

    // Space returns: the same request is accepted.
    // Space returns. The connection that hit the full disk is left inside a transaction
    // SQLite already rolled back; the next write must get past it.
    let res = post(
        &app,
        &token,
        "/api/2.0/mlflow/runs/log-batch",
        batch(full_at),
    )
    .await;
    let status = res.status();
    assert_eq!(status, 200, "{}", res.text().await.unwrap_or_default());
    let res = app
        .client()
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_read_only_store_answers_503_for_writes_and_still_serves_reads() {
    let (dir, url, token) = prepared().await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("{url}?mode=ro"))
        .await
        .expect("pool");
    let app = serve_on(dir, pool, Config::default(), ServeSettings::default()).await;
    let res = app
        .client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 200, "reads work on a read-only store");
    let res = post(
        &app,
        &token,
        "/api/v1/experiments",
        serde_json::json!({
            "name": "ro", "status": "running", "start_date": "2026-11-01",
            "variants": [{ "name": "control", "weight": 50 }, { "name": "b", "weight": 50 }],
            "metrics": [{ "name": "conversion", "type": "binomial" }] }),
    )
    .await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"], "unavailable");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("read-only"),
        "{body}"
    );
    // The MLflow-compatible API answers in its own shape.
    let res = post(
        &app,
        &token,
        "/api/2.0/mlflow/experiments/create",
        serde_json::json!({ "name": "ro" }),
    )
    .await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error_code"], "TEMPORARILY_UNAVAILABLE");
}
