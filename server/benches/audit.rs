//! Audit trail benchmarks at one million entries (run with `make bench`):
//! append throughput (batched transactions), chain verification, and the audit page query.
//!
//! Targets from the roadmap: append ≥ 50k entries/s, verify ≥ 1M entries/s,
//! page query p95 ≤ 10 ms.

mod bench_store;
mod figure;
use figure::{record, Target};

use app::domain::audit_query::{AuditFilterInput, PAGE_SIZE};
use app::store;
use app::store::audit::NewEntry;
use std::time::{Duration, Instant};

const ENTRIES: usize = 1_000_000;
const BATCH: usize = 10_000;
const ACTIONS: [&str; 8] = [
    "auth.sign_in",
    "auth.sign_out",
    "run.create",
    "run.update",
    "lineage.ingest",
    "model.promote_request",
    "model.approve",
    "fairness.report",
];

fn entry(i: usize) -> NewEntry {
    NewEntry::new(
        format!("user{:03}", i % 200),
        ACTIONS[i % ACTIONS.len()],
        if i.is_multiple_of(3) {
            "model_version"
        } else {
            "run"
        },
        format!("obj-{}", i % 50_000),
        serde_json::json!({ "client": "10.0.0.1", "n": i, "note": "benchmark entry" }),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // The export logs how long each of its phases took.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "app::service::audit_export=info",
        ))
        .init();
    let dir = tempfile::tempdir()?;
    let pool = bench_store::open(&dir).await?;

    // The entries' timestamps spread over the 30 days from `base`.
    let base = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    bench_append(&pool, base).await?;
    bench_verify(&pool).await?;
    bench_merkle(&pool).await?;
    bench_export(&pool, base).await?;
    bench_pages(&pool, base).await?;
    Ok(())
}

/// Appends the million entries in batches, then single-entry transactions.
async fn bench_append(pool: &app::store::Pool, base: time::OffsetDateTime) -> anyhow::Result<()> {
    // Append: whole batches per transaction, as a bulk import would.
    let start = Instant::now();
    for b in 0..ENTRIES / BATCH {
        let entries: Vec<NewEntry> = (b * BATCH..(b + 1) * BATCH).map(entry).collect();
        // Spread the timestamps over 30 days so time filters select real ranges.
        let ts =
            app::domain::audit_chain::format_ts(base + time::Duration::seconds((b * 2_592) as i64));
        let mut tx = store::begin_write(pool).await?;
        store::audit::append_all(&mut tx, &ts, &entries).await?;
        tx.commit().await?;
    }
    let append = start.elapsed();
    record(
        "audit: batched append (entries/s)",
        Target::AtLeast(50_000.0),
        ENTRIES as f64 / append.as_secs_f64(),
        "/s",
    );
    println!(
        "append:  {ENTRIES} entries in {:.2} s = {:.0} entries/s (batches of {BATCH})",
        append.as_secs_f64(),
        ENTRIES as f64 / append.as_secs_f64()
    );

    // Single appends, one transaction each, as interactive changes do.
    let n_single = 2_000;
    let start = Instant::now();
    for i in 0..n_single {
        let mut tx = store::begin_write(pool).await?;
        store::audit::append(&mut tx, entry(i)).await?;
        tx.commit().await?;
    }
    let single = start.elapsed();
    println!(
        "append:  {n_single} single-entry transactions = {:.0} entries/s",
        n_single as f64 / single.as_secs_f64()
    );
    Ok(())
}

/// Verifies the whole chain.
async fn bench_verify(pool: &app::store::Pool) -> anyhow::Result<()> {
    // Verify the whole chain.
    let start = Instant::now();
    let report = store::audit::verify(pool).await?;
    let verify = start.elapsed();
    assert!(report.ok, "benchmark chain must verify: {}", report.message);
    record(
        "audit: chain verification at 1M entries",
        Target::AtLeast(1_000_000.0),
        report.verified as f64 / verify.as_secs_f64(),
        "/s",
    );
    println!(
        "verify:  {} entries in {:.2} s = {:.0} entries/s",
        report.verified,
        verify.as_secs_f64(),
        report.verified as f64 / verify.as_secs_f64()
    );
    Ok(())
}

/// Builds the stored subtrees, then times inclusion and consistency proofs.
async fn bench_merkle(pool: &app::store::Pool) -> anyhow::Result<()> {
    // The Merkle tree: build the stored subtrees once, then inclusion proofs (target ≤ 1 ms at
    // 1M entries) and a consistency proof.
    let start = Instant::now();
    let size = store::audit_tree::extend(pool).await?;
    println!(
        "merkle:  stored subtrees of {size} entries built in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let root = store::audit_tree::root_at(pool, size).await?;
    let mut times = Vec::new();
    for i in 0..500u64 {
        let seq = 1 + (i * 7_919 + 13) % size;
        let start = Instant::now();
        let proof = store::audit_tree::inclusion_proof(pool, seq, size)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no proof for {seq}"))?;
        times.push(start.elapsed());
        let leaf = store::audit_tree::leaf(pool, seq)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no leaf {seq}"))?;
        assert!(app::domain::merkle::verify_inclusion(
            seq - 1,
            size,
            &leaf,
            &proof,
            &root
        ));
    }
    times.sort();
    record(
        "audit: inclusion proof at 1M entries, p95",
        Target::AtMost(1.0),
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        "ms",
    );
    println!(
        "merkle:  inclusion proof at {size} entries: median {:.3} ms, p95 {:.3} ms (500 entries, each verified)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3
    );
    let start = Instant::now();
    let c = store::audit_tree::consistency_proof(pool, size / 3, size).await?;
    println!(
        "merkle:  consistency proof {} -> {size}: {} hashes in {:.3} ms",
        size / 3,
        c.map(|c| c.len()).unwrap_or(0),
        start.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

/// Exports 100k filtered entries with proofs and verifies the file offline.
async fn bench_export(pool: &app::store::Pool, base: time::OffsetDateTime) -> anyhow::Result<()> {
    // Export of 100k filtered entries with their proofs, and its offline verification
    // (target ≤ 2 s together).
    let filter = AuditFilterInput {
        from: Some(app::domain::audit_chain::format_ts(base)),
        to: Some(app::domain::audit_chain::format_ts(
            base + time::Duration::seconds(10 * 2_592),
        )),
        ..Default::default()
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
    let start = Instant::now();
    let export = app::service::audit_export::build(pool, &filter)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let csv = app::service::audit_export::to_csv(&export);
    let built = start.elapsed();
    let start = Instant::now();
    let parsed = app::service::audit_export::parse(&csv).map_err(|e| anyhow::anyhow!(e))?;
    let check = app::service::audit_export::verify(&parsed, Some(&export.checkpoint.public_key))
        .map_err(|e| anyhow::anyhow!(e))?;
    let verified = start.elapsed();
    anyhow::ensure!(check.verified == 100_000, "exported {}", check.verified);
    record(
        "audit: export + offline verification of 100k entries",
        Target::AtMost(2.0),
        (built + verified).as_secs_f64(),
        "s",
    );
    println!(
        "export:  {} entries with proofs: built {:.2} s ({:.1} MB CSV), verified offline {:.2} s, total {:.2} s (target ≤ 2 s)",
        check.verified,
        built.as_secs_f64(),
        csv.len() as f64 / 1e6,
        verified.as_secs_f64(),
        (built + verified).as_secs_f64()
    );
    Ok(())
}

/// The page query's filters: none, each kind alone, combined, deep cursors, no match.
fn page_cases(base: time::OffsetDateTime) -> Vec<(&'static str, AuditFilterInput)> {
    let day = |d: i64| app::domain::audit_chain::format_ts(base + time::Duration::days(d));
    vec![
        ("newest, no filter", AuditFilterInput::default()),
        (
            "deep cursor",
            AuditFilterInput {
                before: Some("12345".into()),
                ..Default::default()
            },
        ),
        (
            "actor",
            AuditFilterInput {
                actor: Some("user042".into()),
                ..Default::default()
            },
        ),
        (
            "actor, deep cursor",
            AuditFilterInput {
                actor: Some("user042".into()),
                before: Some("100000".into()),
                ..Default::default()
            },
        ),
        (
            "action",
            AuditFilterInput {
                action: Some("model.approve".into()),
                ..Default::default()
            },
        ),
        (
            "action prefix",
            AuditFilterInput {
                action: Some("model.".into()),
                ..Default::default()
            },
        ),
        (
            "object",
            AuditFilterInput {
                object_type: Some("run".into()),
                object_id: Some("obj-777".into()),
                ..Default::default()
            },
        ),
        (
            "time range",
            AuditFilterInput {
                from: Some(day(10)),
                to: Some(day(11)),
                ..Default::default()
            },
        ),
        (
            "actor + time range",
            AuditFilterInput {
                actor: Some("user007".into()),
                from: Some(day(3)),
                to: Some(day(20)),
                ..Default::default()
            },
        ),
        (
            "no match",
            AuditFilterInput {
                actor: Some("nobody".into()),
                ..Default::default()
            },
        ),
    ]
}

/// Times the audit page query, first and deep pages, under each kind of filter.
async fn bench_pages(pool: &app::store::Pool, base: time::OffsetDateTime) -> anyhow::Result<()> {
    // The audit page query: first page and deep pages under each kind of filter.
    let cases = page_cases(base);
    let mut all = Vec::new();
    for (name, input) in &cases {
        let f = input
            .validate()
            .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
        let mut times = Vec::new();
        for _ in 0..100 {
            let t = Instant::now();
            let rows = store::audit::page(pool, &f, PAGE_SIZE + 1).await?;
            times.push(t.elapsed());
            std::hint::black_box(rows);
        }
        times.sort();
        println!(
            "page:    {name:<20} p50 {:>7.3} ms  p95 {:>7.3} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3
        );
        all.extend(times);
    }
    all.sort();
    record(
        "audit: page query at 1M entries, p95 over 10 filters",
        Target::AtMost(10.0),
        percentile(&all, 0.95).as_secs_f64() * 1e3,
        "ms",
    );
    println!(
        "page:    all filters          p50 {:>7.3} ms  p95 {:>7.3} ms",
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.95).as_secs_f64() * 1e3
    );
    Ok(())
}
