//! Tracking API benchmarks through real HTTP (run with `make bench-runs`).
//!
//! Workload (as the roadmap defines it): 1 experiment, 500 runs, 15 params, 3 tags and
//! 8 metrics × 50 steps per run, loaded through the REST API. Measures `runs/search` of 100 runs
//! ordered by a metric at 1 and 16 concurrent clients, `metrics/get-history`, and log-batch
//! ingest. Targets: search median ≤ 4 ms, get-history median ≤ 2 ms, ingest ≥ 100,000 points/s.
//! Then loads a second experiment of 10,000 runs and times the server-rendered runs table
//! (50 rows a page) newest first, sorted by a metric, filtered, and at its last page. On
//! PostgreSQL, reads are timed after each load has been vacuumed and analysed, as autovacuum
//! would have by the time anyone reads them.

mod figure;
use figure::{record, Target};

mod bench_store;
mod common;
use common::pct;

use serde_json::{json, Value};
use std::time::{Duration, Instant};

const RUNS: usize = 500;
const STEPS: i64 = 50;
const METRICS: [&str; 8] = [
    "train_loss",
    "val_loss",
    "auc",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "log_loss",
];

async fn post(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let r = c
        .post(format!("{base}/api/2.0/mlflow/{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await?;
    anyhow::ensure!(status.is_success(), "{path}: {status} {v}");
    Ok(v)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let srv = common::serve(8 << 20).await?;
    let (base, token, pool) = (srv.base.clone(), srv.token.clone(), srv.pool.clone());
    let c = reqwest::Client::new();
    let (exp, run_ids) = ingest(&c, &base, &token).await?;
    bench_store::settle(&pool).await?;
    search_over_http(&c, &base, &token, &exp).await?;
    search_in_store(&pool, &exp).await?;
    get_history(&c, &base, &token, &run_ids).await?;
    wide_experiment(&c, &base, &token, &pool).await
}

/// Creates the experiment and its runs, each with params, tags and 400 metric points in one
/// log-batch (the timed part); returns the experiment id and the run ids.
async fn ingest(
    c: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<(Value, Vec<String>)> {
    let exp = post(
        c,
        base,
        token,
        "experiments/create",
        &json!({ "name": "bench" }),
    )
    .await?["experiment_id"]
        .clone();
    let mut run_ids = Vec::with_capacity(RUNS);
    let mut ingest_time = Duration::ZERO;
    let mut points = 0usize;
    for i in 0..RUNS {
        let run = post(
            c,
            base,
            token,
            "runs/create",
            &json!({ "experiment_id": exp, "run_name": format!("run-{i}") }),
        )
        .await?;
        let run_id = run["run"]["info"]["run_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let params: Vec<Value> = (0..15).map(|p| json!({ "key": format!("param_{p:02}"), "value": format!("{}", (i * 7 + p) % 13) })).collect();
        let tags: Vec<Value> = (0..3)
            .map(|t| json!({ "key": format!("tag_{t}"), "value": format!("v{}", i % (t + 2)) }))
            .collect();
        post(
            c,
            base,
            token,
            "runs/log-batch",
            &json!({ "run_id": run_id, "params": params, "tags": tags }),
        )
        .await?;
        let mut metrics = Vec::with_capacity(400);
        for (m, key) in METRICS.iter().enumerate() {
            for s in 0..STEPS {
                let v = ((i * 31 + m * 17) % 997) as f64 / 997.0 + s as f64 * 1e-3;
                metrics.push(json!({ "key": key, "value": v, "timestamp": 1_700_000_000_000i64 + s, "step": s }));
            }
        }
        let body = json!({ "run_id": run_id, "metrics": metrics });
        let t = Instant::now();
        post(c, base, token, "runs/log-batch", &body).await?;
        ingest_time += t.elapsed();
        points += 400;
        run_ids.push(run_id);
    }
    record(
        "runs: log-batch ingest over HTTP",
        Target::AtLeast(100_000.0),
        points as f64 / ingest_time.as_secs_f64(),
        "points/s",
    );
    println!(
        "ingest:       {points} metric points in {:.2} s of log-batch requests = {:.0} points/s (400 per request, over HTTP)",
        ingest_time.as_secs_f64(),
        points as f64 / ingest_time.as_secs_f64()
    );
    Ok((exp, run_ids))
}

/// `runs/search` of the top 100 by a metric over HTTP, from one client and from 16.
async fn search_over_http(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    exp: &Value,
) -> anyhow::Result<()> {
    let search =
        json!({ "experiment_ids": [exp], "max_results": 100, "order_by": ["metrics.auc DESC"] });
    for clients in [1usize, 16] {
        let per_client = 400 / clients;
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (c, base, token, search) =
                (c.clone(), base.to_owned(), token.to_owned(), search.clone());
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::with_capacity(per_client);
                let body = serde_json::to_vec(&search)?;
                for _ in 0..per_client {
                    // Latency is request sent → whole response received; decoding the JSON
                    // is the client's work, so it happens after the clock stops.
                    let t = Instant::now();
                    let r = c
                        .post(format!("{base}/api/2.0/mlflow/runs/search"))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await?;
                    anyhow::ensure!(r.status().is_success(), "runs/search: {}", r.status());
                    let bytes = r.bytes().await?;
                    times.push(t.elapsed());
                    let v: Value = serde_json::from_slice(&bytes)?;
                    anyhow::ensure!(
                        v["runs"].as_array().map(Vec::len) == Some(100),
                        "100 runs per page"
                    );
                }
                Ok::<_, anyhow::Error>(times)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        all.sort();
        if clients == 1 {
            record(
                "runs: runs/search, 100 runs by a metric, median",
                Target::AtMost(4.0),
                pct(&all, 0.5),
                "ms",
            );
        }
        println!("runs/search:  100 runs by metrics.auc, {clients:>2} client(s): median {:.2} ms  p95 {:.2} ms", pct(&all, 0.5), pct(&all, 0.95));
    }
    Ok(())
}

/// The same search as the store's single statement alone, without HTTP.
async fn search_in_store(pool: &app::store::Pool, exp: &Value) -> anyhow::Result<()> {
    let exp_id: i64 = exp.as_str().unwrap_or_default().parse()?;
    let order = vec![app::domain::run_search::parse_order_by("metrics.auc DESC")
        .map_err(|e| anyhow::anyhow!("{e}"))?];
    let mut store = Vec::new();
    for _ in 0..400 {
        let t = Instant::now();
        let runs = app::store::tracking::search_runs_json(
            pool,
            &app::store::tracking::RunSearch {
                experiment_ids: &[exp_id],
                stages: &["active"],
                clauses: &[],
                order_by: &order,
                limit: 101,
                offset: 0,
            },
        )
        .await?;
        store.push(t.elapsed());
        anyhow::ensure!(runs.len() == 101, "101 runs found");
    }
    store.sort();
    println!(
        "  of which:    the store's search statement median {:.2} ms",
        pct(&store, 0.5)
    );
    Ok(())
}

/// `metrics/get-history` of a 50-point metric.
async fn get_history(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    run_ids: &[String],
) -> anyhow::Result<()> {
    let mut times = Vec::new();
    for i in 0..400 {
        let t = Instant::now();
        let r = c
            .get(format!("{base}/api/2.0/mlflow/metrics/get-history"))
            .bearer_auth(token)
            .query(&[
                ("run_id", run_ids[i % RUNS].as_str()),
                ("metric_key", "val_loss"),
            ])
            .send()
            .await?;
        let v: Value = r.json().await?;
        times.push(t.elapsed());
        anyhow::ensure!(
            v["metrics"].as_array().map(Vec::len) == Some(STEPS as usize),
            "50 points"
        );
    }
    times.sort();
    record(
        "runs: metrics/get-history, median",
        Target::AtMost(2.0),
        pct(&times, 0.5),
        "ms",
    );
    println!(
        "get-history:  50 points: median {:.2} ms  p95 {:.2} ms",
        pct(&times, 0.5),
        pct(&times, 0.95)
    );
    Ok(())
}

/// The runs table at 10,000 runs: the server-rendered page (50 rows) by newest, sorted by a
/// metric, filtered, and at its last page.
async fn wide_experiment(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    pool: &app::store::Pool,
) -> anyhow::Result<()> {
    const WIDE: usize = 10_000;
    let exp = post(
        c,
        base,
        token,
        "experiments/create",
        &json!({ "name": "wide" }),
    )
    .await?["experiment_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let t = Instant::now();
    for i in 0..WIDE {
        let run = post(
            c,
            base,
            token,
            "runs/create",
            &json!({ "experiment_id": exp, "run_name": format!("w-{i}") }),
        )
        .await?;
        let run_id = run["run"]["info"]["run_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let params: Vec<Value> = (0..5).map(|p| json!({ "key": format!("param_{p}"), "value": format!("{}", (i * 7 + p) % 11) })).collect();
        let metrics: Vec<Value> = ["auc", "val_loss", "accuracy"]
            .iter()
            .enumerate()
            .map(|(m, k)| json!({ "key": k, "value": ((i * 31 + m * 17) % 9973) as f64 / 9973.0, "timestamp": 1_700_000_000_000i64, "step": 0 }))
            .collect();
        post(
            c,
            base,
            token,
            "runs/log-batch",
            &json!({ "run_id": run_id, "params": params, "metrics": metrics }),
        )
        .await?;
    }
    println!(
        "10,000 runs:  loaded in {:.1} s through the API",
        t.elapsed().as_secs_f64()
    );
    bench_store::settle(pool).await?;

    let browser =
        common::browser_as(pool, base, "viewer", app::domain::roles::Role::Viewer).await?;
    for (label, query) in [
        ("newest first", ""),
        ("by metrics.auc", "?order_by=metrics.auc+DESC"),
        ("filtered", "?filter=metrics.auc+%3E+0.5+AND+params.param_1+%3D+%273%27&order_by=metrics.val_loss+ASC"),
        ("last page", "?offset=9950"),
    ] {
        let url = format!("{base}/runs/experiment/{exp}{query}");
        let times = common::timed_gets(&browser, &url, 100, "w-").await?;
        record(&format!("runs: runs page at 10,000 runs, {label}, median"), Target::None, pct(&times, 0.5), "ms");
        println!(
            "runs page:    10,000 runs, {label:<15} median {:.2} ms  p95 {:.2} ms",
            pct(&times, 0.5),
            pct(&times, 0.95)
        );
    }
    Ok(())
}
