//! The store a benchmark runs on: a fresh SQLite file, or with `GATEHOUSE_BENCH_DATABASE=postgres`
//! a fresh database on a throwaway PostgreSQL cluster the benchmark starts itself (the
//! integration tests' `common/postgres.rs`), with a signing key its servers share.

#[path = "../../tests/it/common/postgres.rs"]
#[allow(dead_code)]
mod postgres;

/// Whether this run measures PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("GATEHOUSE_BENCH_DATABASE").is_ok_and(|v| v == "postgres")
}

/// A fresh, migrated store; `dir` holds its file (SQLite) or its signing key (PostgreSQL).
pub async fn open(dir: &tempfile::TempDir) -> anyhow::Result<app::store::Pool> {
    if !on_postgres() {
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        return server::open_store(&url).await;
    }
    let url = postgres::Cluster::get().fresh_database().await;
    let pool = server::open_store(&url).await?;
    let key = dir.path().join("audit-signing.key");
    app::service::signing::create_key_file(&key)?;
    app::service::signing::use_key_file(&pool, &key)?;
    Ok(pool)
}

/// After a bulk load, on PostgreSQL: what autovacuum does within a minute or two of one, the
/// planner's statistics and the visibility map (without which an index-only scan still visits
/// every row). Reads timed in the minute after a load measure autovacuum's lag instead: the
/// runs page at 10,000 runs took 27 ms by a metric before it, 2.8 ms after. Nothing on SQLite,
/// whose plans are named in the statements.
#[allow(dead_code)] // only the benchmarks that bulk-load before they read call it
pub async fn settle(pool: &app::store::Pool) -> anyhow::Result<()> {
    if app::store::backend(pool) == app::store::Backend::Postgres {
        sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    }
    Ok(())
}
