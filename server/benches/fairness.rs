//! Fairness upload benchmark (run with `make bench-fairness`): a 1,000,000-row prediction file
//! with two sensitive attributes, posted as CSV to `POST /api/v1/fairness/reports` and streamed
//! from disk, timed from the first byte sent to the stored report (1,000 bootstrap resamples
//! included). Target: ≤ 1 s, with memory that does not grow with the file. The file is left at
//! `target/fairness-1m.csv` so `fairlearn` can be timed on the same data.

mod figure;
use figure::{record, Target};

mod bench_store;
mod common;

use std::io::Write;
use std::time::Instant;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn write_file(path: &std::path::Path, rows: usize) -> anyhow::Result<u64> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "label,pred,score,sex,region")?;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let regions = ["north", "south", "east", "west"];
    for _ in 0..rows {
        let female = next() < 0.45;
        let region = regions[(next() * 4.0) as usize % 4];
        let label = next() < if female { 0.3 } else { 0.4 };
        let score = (0.35 * label as u8 as f64 + 0.35 + 0.2 * (next() - 0.5) * 2.0).clamp(0.0, 1.0);
        let pred = score >= if region == "south" { 0.55 } else { 0.5 };
        writeln!(
            f,
            "{},{},{:.4},{},{}",
            label as u8,
            pred as u8,
            score,
            if female { "female" } else { "male" },
            region
        )?;
    }
    f.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    const ROWS: usize = 1_000_000;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fairness-1m.csv");
    let bytes = write_file(&path, ROWS)?;
    let srv = common::serve(1 << 20).await?;
    let url = format!(
        "{}/api/v1/fairness/reports?model_version=bench@1&dataset=synthetic-1m&label=label&prediction=pred&score=score&attributes=sex,region&reference=sex:male,region:north",
        srv.base
    );
    let client = reqwest::Client::new();
    let before = peak_rss_kb();
    let mut times = Vec::new();
    for _ in 0..3 {
        let file = tokio::fs::File::open(&path).await?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            file,
            64 * 1024,
        ));
        let t = Instant::now();
        let r = client
            .post(&url)
            .bearer_auth(&srv.token)
            .header("content-type", "text/csv")
            .body(body)
            .send()
            .await?;
        let status = r.status();
        let v: serde_json::Value = r.json().await?;
        times.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(status.as_u16() == 201, "upload: {status} {v}");
        anyhow::ensure!(v["rows"] == ROWS, "every row tallied: {}", v["rows"]);
    }
    times.sort_by(f64::total_cmp);
    let after = peak_rss_kb();
    record(
        "fairness: 1,000,000-row CSV, upload to stored report, median",
        Target::AtMost(1.0),
        times[times.len() / 2],
        "s",
    );
    println!(
        "fairness:     {ROWS} rows ({:.1} MB), 2 attributes, upload to stored report: median {:.3} s (min {:.3} s); \
         peak RSS of the whole bench process grew {:.1} MB while uploading ({path})",
        bytes as f64 / 1e6,
        times[times.len() / 2],
        times[0],
        after.saturating_sub(before) as f64 / 1024.0,
        path = path.display()
    );
    Ok(())
}
