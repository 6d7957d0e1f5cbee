//! A/B benchmarks (run with `make bench-ab`):
//!
//! - the analysis of 100 metrics × 4 variants, half binomial and half continuous with CUPED
//!   covariates, Holm correction and sequential intervals: every code path at once
//!   (target ≤ 5 ms);
//! - the server-rendered page of the demo's champion–challenger test (14 days, 2 metrics,
//!   cumulative lift re-analysed per day) through HTTP (target ≤ 20 ms).

mod figure;
use figure::{record, Target};

mod bench_store;
mod common;

use app::domain::ab_tests::{
    analyze, AnalysisRequest, Context, Correction, DataRow, Direction, MetricKind, MetricRole,
    MetricSpec, VariantSpec,
};
use std::time::Instant;

fn request() -> AnalysisRequest {
    let variants = ["control", "b", "c", "d"];
    let metrics = (0..100)
        .map(|m| {
            let binomial = m % 2 == 0;
            MetricSpec {
                name: format!("metric_{m:03}"),
                kind: if binomial {
                    MetricKind::Binomial
                } else {
                    MetricKind::Continuous
                },
                direction: if m % 7 == 0 {
                    Direction::Decrease
                } else {
                    Direction::Increase
                },
                role: if m % 5 == 0 {
                    MetricRole::Guardrail
                } else {
                    MetricRole::Goal
                },
                tolerance: (m % 5 == 0).then_some(0.01),
                data: variants
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let n = 25_000.0 + 10.0 * i as f64;
                        if binomial {
                            DataRow {
                                variant: (*v).into(),
                                units: Some(n),
                                conversions: Some(n * (0.1 + 0.002 * i as f64 + 0.0001 * m as f64)),
                                ..Default::default()
                            }
                        } else {
                            let mean = 20.0 + 0.1 * i as f64 + m as f64 * 0.01;
                            let sum = n * mean;
                            DataRow {
                                variant: (*v).into(),
                                n: Some(n),
                                sum: Some(sum),
                                sum_squares: Some(sum * sum / n + (n - 1.0) * 9.0),
                                sum_x: Some(n * 19.0),
                                sum_x2: Some(n * 19.0 * 19.0 + (n - 1.0) * 8.0),
                                sum_xy: Some(n * 19.0 * mean + (n - 1.0) * 5.0),
                                ..Default::default()
                            }
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    AnalysisRequest {
        alpha: 0.05,
        control: "control".into(),
        variants: variants
            .iter()
            .map(|v| VariantSpec {
                name: (*v).into(),
                weight: 1.0,
                units: Some(25_000.0),
            })
            .collect(),
        metrics,
        correction: Correction::Holm,
        sequential: true,
        sequential_tuning: 5000.0,
        mde: 0.02,
        min_units: 100.0,
        max_plausible_lift: 0.5,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    analysis();
    page().await
}

async fn page() -> anyhow::Result<()> {
    let srv = common::serve(1 << 20).await?;
    let browser = common::browser_as(
        &srv.pool,
        &srv.base,
        "pm",
        app::domain::roles::Role::ProductManager,
    )
    .await?;
    let state = app::service::state::AppState {
        leptos_options: server::startup::leptos_options(None),
        pool: srv.pool.clone(),
        config: std::sync::Arc::new(app::service::state::Config::default()),
        artifacts: app::service::artifact_store::ArtifactStore::scratch("bench")
            .expect("artifact store"),
    };
    let router = server::build_router(
        state,
        &server::ServeSettings {
            max_body_bytes: 1 << 20,
            ..Default::default()
        },
    );
    server::demo::seed_ab_tests(&router, &srv.pool)
        .await
        .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
    let id = app::store::ab_tests::id_by_name(&srv.pool, "credit-default v4 challenger")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo test missing"))?;
    let url = format!("{}/experiments/{id}", srv.base);
    let mut times = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        let r = browser.get(&url).send().await?;
        anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
        let html = r.text().await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(html.contains("Keep running"), "the page shows the verdict");
    }
    times.sort_by(f64::total_cmp);
    record(
        "A/B: experiment page server-rendered, median",
        Target::AtMost(20.0),
        times[times.len() / 2],
        "ms",
    );
    println!(
        "test page:    demo champion–challenger (14 days, 2 metrics), server-rendered: median {:.2} ms, p95 {:.2} ms",
        times[times.len() / 2],
        times[times.len() * 95 / 100]
    );
    Ok(())
}

fn analysis() {
    let req = request();
    let mut times = Vec::new();
    let mut comparisons = 0;
    for _ in 0..200 {
        let t = Instant::now();
        let a = analyze(&req, Context { days: Some(14) }).expect("valid request");
        times.push(t.elapsed().as_secs_f64() * 1e3);
        comparisons = a.metrics.iter().map(|m| m.comparisons.len()).sum();
    }
    times.sort_by(f64::total_cmp);
    record(
        "A/B: analysis of 100 metrics × 4 variants, median",
        Target::AtMost(5.0),
        times[times.len() / 2],
        "ms",
    );
    println!(
        "analysis:     100 metrics × 4 variants ({comparisons} comparisons, CUPED + sequential + Holm): median {:.3} ms, p95 {:.3} ms",
        times[times.len() / 2],
        times[times.len() * 95 / 100]
    );
}
