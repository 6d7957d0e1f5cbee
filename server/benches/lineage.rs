//! OpenLineage ingest benchmark through real HTTP (run with `make bench-lineage`).
//!
//! 20,000 RunEvents (START and COMPLETE for 10,000 runs of 200 jobs, each reading two
//! datasets with a schema and writing one) are posted by 8 concurrent clients, as pipelines
//! emit them, into a store that holds 1,000 earlier runs. Target: ≥ 5,000 events/s sustained
//! into SQLite.

mod figure;
use figure::{record, Target};

mod bench_store;
mod common;

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

fn event(i: usize, complete: bool) -> Value {
    let job = i % 200;
    let run_id = format!("00000000-0000-4000-8000-{i:012x}");
    let schema = json!({ "schema": { "_producer": "bench", "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
        "fields": [{ "name": "id", "type": "BIGINT" }, { "name": "amount", "type": "DOUBLE" }, { "name": "ts", "type": "TIMESTAMP" }] } });
    json!({
        "eventType": if complete { "COMPLETE" } else { "START" },
        "eventTime": format!("2026-11-27T{:02}:{:02}:{:02}.{:03}Z", (i / 3600) % 24, (i / 60) % 60, i % 60, if complete { 500 } else { 0 }),
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
        "run": { "runId": run_id, "facets": {} },
        "job": { "namespace": "bench", "name": format!("job_{job:03}"), "facets": {} },
        "inputs": [
            { "namespace": "postgres://db:5432", "name": format!("raw.t{}", job % 50), "facets": schema },
            { "namespace": "postgres://db:5432", "name": format!("raw.t{}", (job + 1) % 50), "facets": schema },
        ],
        "outputs": if complete { json!([{ "namespace": "warehouse", "name": format!("clean.t{job}"), "facets": schema }]) } else { json!([]) },
    })
}

/// Posts runs `from..to` (START then COMPLETE each) from [`CLIENTS`] concurrent clients, each
/// sending whole runs as one pipeline would.
async fn send(srv: &common::BenchServer, from: usize, to: usize) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/lineage", srv.base);
    // Bodies are serialised before the clock starts: the figure is the server's.
    let bodies: Vec<Vec<u8>> = (from..to)
        .flat_map(|i| [event(i, false), event(i, true)])
        .map(|e| e.to_string().into_bytes())
        .collect();
    let bodies = Arc::new(bodies);
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, url, token, bodies) = (
            client.clone(),
            url.clone(),
            srv.token.clone(),
            bodies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for run in (c..bodies.len() / 2).step_by(CLIENTS) {
                for body in &bodies[run * 2..run * 2 + 2] {
                    let r = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await?;
                    anyhow::ensure!(r.status().as_u16() == 201, "ingest: {}", r.status());
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

const CLIENTS: usize = 8;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    const RUNS: usize = 10_000;
    // Runs stored before the clock starts, so that the figure is of a store in use: on
    // PostgreSQL, one whose statistics autovacuum has gathered (it does within a minute; the
    // first minute of an empty database plans without them).
    const EARLIER: usize = 1_000;
    let srv = common::serve(1 << 20).await?;
    let pool = srv.pool.clone();
    send(&srv, RUNS, RUNS + EARLIER).await?;
    bench_store::settle(&pool).await?;
    let t = Instant::now();
    send(&srv, 0, RUNS).await?;
    let secs = t.elapsed().as_secs_f64();
    let counts = app::store::lineage::counts(&pool).await?;
    anyhow::ensure!(
        counts["events"] == (RUNS + EARLIER) * 2,
        "every event stored: {counts}"
    );
    record(
        "lineage: OpenLineage ingest over HTTP",
        Target::AtLeast(5_000.0),
        (RUNS * 2) as f64 / secs,
        "events/s",
    );
    println!(
        "ingest:       {} events in {secs:.2} s = {:.0} events/s ({CLIENTS} clients over HTTP; {counts})",
        RUNS * 2,
        (RUNS * 2) as f64 / secs
    );
    Ok(())
}
