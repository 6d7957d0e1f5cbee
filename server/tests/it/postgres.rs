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
    let pg = postgres_schema(&url).await;
    assert!(
        pg.contains_key("audit_log") && pg.contains_key("runs"),
        "{pg:?}"
    );
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

#[tokio::test]
async fn serving_from_postgres_is_refused_with_a_reason_until_it_is_complete() {
    let url = Cluster::get().fresh_database().await;
    let out = server(&url, &["serve"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not serve or run other commands yet"),
        "{stderr}"
    );
}
