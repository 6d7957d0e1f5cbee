//! The PostgreSQL store, against a real server this test run starts (`common::postgres`):
//! `server migrate` builds the same schema as on SQLite, and the append-only tables refuse
//! changes in the database itself.

use crate::common::postgres::Cluster;
use sqlx::{Connection, PgConnection, Row};
use std::collections::BTreeMap;
use std::process::Command;

fn server(url: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", url)
        .env("GATEHOUSE_LOG", "warn")
        .output()
        .expect("run server")
}

/// Tables and their columns, by name.
type Schema = BTreeMap<String, Vec<String>>;

async fn postgres_schema(url: &str) -> Schema {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
         ORDER BY table_name, column_name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("columns");
    let mut out = Schema::new();
    for r in rows {
        out.entry(r.get("t")).or_default().push(r.get("c"));
    }
    out
}

async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let pool = server::open_store(&url).await.expect("open");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    let mut out = Schema::new();
    for t in tables {
        let mut cols: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .fetch_all(&pool)
                .await
                .expect("columns");
        cols.sort();
        out.insert(t, cols);
    }
    out
}

#[tokio::test]
async fn migrate_builds_the_same_tables_and_columns_as_on_sqlite() {
    let url = Cluster::get().fresh_database().await;
    let out = server(&url, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("migrations applied to {url}")
    );
    let mut pg = postgres_schema(&url).await;
    assert!(
        pg.contains_key("audit_log") && pg.contains_key("runs"),
        "{pg:?}"
    );
    // PostgreSQL's own record of the chain's highest number (SQLite's is sqlite_sequence).
    assert_eq!(pg.remove("audit_high_water"), Some(vec!["seq".to_owned()]));
    assert_eq!(pg, sqlite_schema().await);

    // Applying again changes nothing; the versions recorded are SQLite's.
    let again = server(&url, &["migrate"]);
    assert!(again.status.success());
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .expect("versions");
    let expected: Vec<i64> = app::store::MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(versions, expected);
    // Where a lineage row's facets came from compares byte by byte, as on SQLite, whatever
    // the cluster's locale.
    let collations: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text || '.' || column_name::text, coalesce(collation_name::text, '-') \
         FROM information_schema.columns WHERE table_name::text LIKE 'lineage\\_%' \
         AND column_name::text LIKE '%\\_from' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .expect("collations");
    let c = |column: &str| (column.to_owned(), "C".to_owned());
    assert_eq!(
        collations,
        [
            c("lineage_dataset_versions.facets_from"),
            c("lineage_datasets.facets_from"),
            c("lineage_datasets.fields_from"),
            c("lineage_jobs.facets_from"),
        ]
    );
    // The Default experiment MLflow clients expect.
    let name: String = sqlx::query_scalar("SELECT name FROM experiments WHERE experiment_id = 0")
        .fetch_one(&mut conn)
        .await
        .expect("default experiment");
    assert_eq!(name, "Default");
}

#[tokio::test]
async fn the_audit_trail_and_alias_history_refuse_update_delete_and_truncate() {
    let url = Cluster::get().fresh_database().await;
    assert!(server(&url, &["migrate"]).status.success());
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    sqlx::query(
        "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id, details, prev_hash, hash) \
         VALUES (1, '2026-12-05T00:00:00Z', 'a', 'x', 't', '1', '{}', 'p', 'h')",
    )
    .execute(&mut conn)
    .await
    .expect("an append is allowed");
    for (table, statements) in [
        (
            "audit_log",
            [
                "UPDATE audit_log SET actor = 'b'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
            ],
        ),
        (
            "alias_history",
            [
                "UPDATE alias_history SET note = 'x'",
                "DELETE FROM alias_history",
                "TRUNCATE alias_history",
            ],
        ),
    ] {
        if table == "alias_history" {
            sqlx::query(
                "INSERT INTO alias_history (name, alias, version, moved_by, moved_at) \
                 VALUES ('m', 'production', 1, 'a', 1)",
            )
            .execute(&mut conn)
            .await
            .expect("an append is allowed");
        }
        for sql in statements {
            let e = sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect_err(sql)
                .to_string();
            assert!(e.contains(&format!("{table} is append-only")), "{sql}: {e}");
        }
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(n, 1);
}

/// The real binary serves from PostgreSQL, given what the servers of one database share: a
/// signing key and an artifact root; without them it stops and says which is missing.
#[tokio::test]
async fn the_server_serves_from_postgres_with_a_shared_key_and_artifact_root() {
    let url = Cluster::get().fresh_database().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = server(&url, &["serve"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ARTIFACT_ROOT"), "{stderr}");

    let key = dir.path().join("shared.key");
    let out = server(&url, &["create-signing-key", key.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .current_dir(dir.path())
        .env("DATABASE_URL", &url)
        .env("AUDIT_SIGNING_KEY_FILE", &key)
        .env("ARTIFACT_ROOT", dir.path().join("artifacts"))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the server");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let ready = loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            break r.status();
        }
        if std::time::Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "the server did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let page = client
        .get(format!("http://127.0.0.1:{port}/login"))
        .send()
        .await
        .expect("sign-in page");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(ready, 200);
    assert_eq!(page.status(), 200);
}

/// Two servers on one database, as two replicas behind a balancer: writers on both at once
/// leave one audit chain (no repeated `seq`, no fork of `prev_hash`, every write audited once),
/// both verify it, and a session made on one is good on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_keep_one_audit_chain() {
    let url = Cluster::get().fresh_database().await;
    let (replicas, browser, token) = two_replicas(&url).await;

    const WRITERS: usize = 8;
    const EACH: usize = 10;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        for (r, app) in replicas.iter().enumerate() {
            let client = app.client();
            let base = app.url("");
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..EACH {
                    let res = client
                        .post(format!("{base}/api/2.0/mlflow/experiments/create"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "name": format!("r{r}-w{w}-{i}") }))
                        .send()
                        .await
                        .expect("request");
                    let status = res.status();
                    assert_eq!(status, 200, "{}", res.text().await.unwrap_or_default());
                }
            }));
        }
    }
    for t in tasks {
        t.await.expect("writer");
    }

    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let rows: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT seq, prev_hash, hash, action FROM audit_log ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .expect("audit rows");
    assert_eq!(rows.first().map(|r| r.0), Some(1));
    for w in rows.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "no gap or repeat after seq {}", w[0].0);
        assert_eq!(w[1].1, w[0].2, "no fork at seq {}", w[1].0);
    }
    let created = rows
        .iter()
        .filter(|r| r.3 == "mlflow.experiment.create")
        .count();
    assert_eq!(created, WRITERS * EACH * 2, "every write audited once");
    for app in &replicas {
        let report: serde_json::Value = browser
            .get(app.url("/api/v1/audit/verify"))
            .send()
            .await
            .expect("verify")
            .json()
            .await
            .expect("the session is good on this server");
        assert_eq!(report["ok"], true, "{report}");
        assert_eq!(report["verified"], rows.len(), "{report}");
    }
}

/// Two servers on the database at `url` sharing one signing key, a browser signed in (as a
/// scientist and auditor) on the first, and an API token of the same user.
async fn two_replicas(url: &str) -> (Vec<crate::common::TestApp>, reqwest::Client, String) {
    use crate::common::serve_on;
    use app::domain::roles::Role;
    use app::service::state::Config;
    use server::ServeSettings;

    let keys = tempfile::tempdir().expect("temp dir");
    let key = keys.path().join("shared.key");
    app::service::signing::create_key_file(&key).expect("key");
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let pool = server::open_store(url).await.expect("open store");
        app::service::signing::use_key_file(&pool, &key).expect("use key");
        let dir = tempfile::tempdir().expect("temp dir");
        replicas.push(serve_on(dir, pool, Config::default(), ServeSettings::default()).await);
    }
    // Signed in on the first server: the cookie goes to both (same host, another port).
    let browser = replicas[0]
        .signed_in("sci", &[Role::Scientist, Role::Auditor])
        .await;
    let token = app::service::accounts::create_token(
        &replicas[0].pool,
        "test",
        "sci",
        "writer",
        app::service::accounts::Issue::operator(),
    )
    .await
    .expect("token")
    .token;
    (replicas, browser, token)
}

/// Lineage from pipelines reporting to two servers at once, each event naming the same
/// datasets and jobs in another order: every event is stored (before lineage ingestion took
/// its own lock, PostgreSQL found the two writers' row locks crossed and gave one up).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lineage_through_two_servers_naming_the_same_datasets_is_all_stored() {
    let url = Cluster::get().fresh_database().await;
    let (replicas, _, token) = two_replicas(&url).await;
    const EACH: usize = 40;
    let mut tasks = Vec::new();
    for (r, app) in replicas.iter().enumerate() {
        for w in 0..3 {
            let (client, base, token) = (app.client(), app.url(""), token.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..EACH {
                    // Half the writers list the datasets forwards, half backwards.
                    let mut names: Vec<String> = (0..6).map(|d| format!("shared_{d}")).collect();
                    if (r + w) % 2 == 1 {
                        names.reverse();
                    }
                    let datasets: Vec<serde_json::Value> = names
                        .iter()
                        .map(|n| serde_json::json!({ "namespace": "warehouse", "name": n }))
                        .collect();
                    let event = serde_json::json!({
                        "eventType": "COMPLETE",
                        "eventTime": "2026-11-01T10:00:00Z",
                        "run": { "runId": format!("00000000-0000-4000-8000-{r:04}{w:04}{i:04}") },
                        "job": { "namespace": "etl", "name": format!("job_{}", i % 3) },
                        "inputs": datasets[..3],
                        "outputs": datasets[3..],
                        "producer": "https://example.com/test",
                        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
                    });
                    let res = client
                        .post(format!("{base}/api/v1/lineage"))
                        .bearer_auth(&token)
                        .json(&event)
                        .send()
                        .await
                        .expect("request");
                    let status = res.status();
                    assert_eq!(status, 201, "{}", res.text().await.unwrap_or_default());
                }
            }));
        }
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM lineage_runs")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(runs, (2 * 3 * EACH) as i64);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'lineage.ingest'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    assert_eq!(audited, runs, "every event audited once");
}

/// Connections the database ended (a restart, a failover, an idle timeout in between) are
/// replaced, not handed to a request: the pools skip sqlx's ping before each use (a round trip
/// more per statement) but still ping a connection that sat idle for a second or more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_serves_on_after_postgres_ends_its_connections() {
    let url = Cluster::get().fresh_database().await;
    let (replicas, browser, token) = two_replicas(&url).await;
    let app = &replicas[0];
    let api = app.client();
    // One request of each pool: writes through the store's pool, runs through the native
    // one, a Merkle proof through the generically planning one.
    let round = |i: usize| {
        let (api, browser, token) = (api.clone(), browser.clone(), token.clone());
        let base = app.url("");
        async move {
            let post = |path: &str, body: serde_json::Value| {
                api.post(format!("{base}/api/2.0/mlflow/{path}"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
            };
            let res = post(
                "experiments/create",
                serde_json::json!({ "name": format!("after-{i}") }),
            )
            .await
            .expect("create");
            assert_eq!(
                res.status(),
                200,
                "round {i}: {}",
                res.text().await.unwrap_or_default()
            );
            let id = res.json::<serde_json::Value>().await.expect("json")["experiment_id"].clone();
            let res = post("runs/create", serde_json::json!({ "experiment_id": id }))
                .await
                .expect("run");
            assert_eq!(
                res.status(),
                200,
                "round {i}: {}",
                res.text().await.unwrap_or_default()
            );
            let res = post("runs/search", serde_json::json!({ "experiment_ids": [id] }))
                .await
                .expect("search");
            assert_eq!(
                res.status(),
                200,
                "round {i}: {}",
                res.text().await.unwrap_or_default()
            );
            let found = res.json::<serde_json::Value>().await.expect("json");
            assert_eq!(
                found["runs"].as_array().map(Vec::len),
                Some(1),
                "round {i}: {found}"
            );
            let res = browser
                .get(format!("{base}/api/v1/audit/entries/1/proof"))
                .send()
                .await
                .expect("proof");
            assert_eq!(
                res.status(),
                200,
                "round {i}: {}",
                res.text().await.unwrap_or_default()
            );
        }
    };
    round(0).await;
    let mut admin = PgConnection::connect(&url).await.expect("connect");
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .expect("terminate");
    assert!(
        ended.len() >= 3,
        "the server held connections of each pool: {ended:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    round(1).await;
    round(2).await;
}

/// The pool that plans generically runs without JIT compilation (a generic plan over keys
/// bound as an array is estimated dear enough to be compiled, and a Merkle proof of a fifth
/// of a millisecond took seven); the others keep the server's setting.
#[tokio::test]
async fn the_generically_planning_pool_connects_without_jit() {
    let url = Cluster::get().fresh_database().await;
    let pool = server::open_store(&url).await.expect("open store");
    let jit = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, String>("SELECT current_setting('jit')")
            .fetch_one(&pool)
            .await
            .expect("jit")
    };
    let generic = app::store::native::generic(&pool).expect("generic");
    assert_eq!(jit(generic).await, "off", "the generic pool");
    let native = app::store::native::postgres(&pool).expect("native");
    assert_eq!(jit(native).await, "on", "the runs pages' pool");
}
