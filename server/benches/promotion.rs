//! Promotion policy evaluation with all the evidence (target ≤ 5 ms): the demo workspace's
//! pending request of credit-default v4 to production, whose evidence spans a training run
//! with its metrics and datasets, a fairness report, an A/B test and the current alias
//! holder. Timed: gathering that evidence from the store and evaluating the policy on it, and
//! the evaluation alone. Run with `make bench-promotion`.

mod figure;
use figure::{record, Target};

use std::time::Instant;

fn median_p95(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() * 95 / 100])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pool = server::open_store(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await?;
    let state = app::service::state::AppState {
        leptos_options: server::startup::leptos_options(None),
        pool: pool.clone(),
        config: std::sync::Arc::new(app::service::state::Config::default()),
        artifacts: app::service::artifact_store::ArtifactStore::scratch("bench")
            .expect("artifact store"),
    };
    let router = server::build_router(state, &server::ServeSettings::default());
    let e = |e: app::error::AppError| anyhow::anyhow!("seeding: {e}");
    app::service::demo::seed(&pool).await.map_err(e)?;
    server::demo::seed_tracking(&router, &pool)
        .await
        .map_err(e)?;
    server::demo::seed_lineage(&router, &pool)
        .await
        .map_err(e)?;
    server::demo::seed_ab_tests(&router, &pool)
        .await
        .map_err(e)?;
    server::demo::seed_fairness(&router, &pool)
        .await
        .map_err(e)?;
    server::demo::seed_registry(&router, &pool)
        .await
        .map_err(e)?;

    let mut with_store = Vec::new();
    let mut evaluation = Vec::new();
    let mut checks = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let (ev, policy) =
            app::store::promotions::gather_evidence(&pool, "credit-default", 4, "production")
                .await?;
        checks = app::domain::promotion::evaluate(&policy, &ev, app::service::now_ms(), &[]);
        let digest = ev.digest();
        with_store.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(digest.len() == 64);
        let t = Instant::now();
        let c = app::domain::promotion::evaluate(&policy, &ev, app::service::now_ms(), &[]);
        let _ = ev.digest();
        evaluation.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(c.len() == checks.len());
    }
    anyhow::ensure!(checks.len() == 4, "all four checks evaluated: {checks:?}");
    let (m, p) = median_p95(with_store);
    record(
        "promotion: policy evaluation with all evidence, median",
        Target::AtMost(5.0),
        m,
        "ms",
    );
    println!("policy evaluation with all evidence (gathered from the store, evaluated, digested): median {m:.3} ms, p95 {p:.3} ms (target ≤ 5 ms)");
    let (m, p) = median_p95(evaluation);
    println!("policy evaluation alone (evidence in memory, 4 checks, SHA-256 of the bundle): median {m:.4} ms, p95 {p:.4} ms");
    Ok(())
}
