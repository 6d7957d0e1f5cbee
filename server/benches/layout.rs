//! Lineage layout benchmark (run with `make bench-layout`).
//!
//! Generates a lineage-shaped graph of 2,000 nodes and 4,000 edges (datasets and jobs in
//! alternating stages, each job reading a few datasets from earlier stages and writing a few,
//! plus a handful of back edges as cycles), writes it to `target/layout-2000x4000.json` so
//! other engines can be timed on the same input (`server layout FILE` reads it), and prints
//! the median layout time and the number of edge crossings. Targets: ≤ 100 ms, and no more
//! crossings than Graphviz dot leaves on the same graph.

mod figure;
use figure::{record, Target};

use serde_json::json;

/// A small deterministic generator (SplitMix64), so every run lays out the same graph.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn main() -> anyhow::Result<()> {
    const NODES: usize = 2000;
    const EDGES: usize = 4000;
    const STAGES: usize = 20;
    let mut rng = Rng(42);
    // Stage s holds datasets (even s) or jobs (odd s).
    let per_stage = NODES / STAGES;
    let keys: Vec<String> = (0..NODES)
        .map(|i| {
            let stage = i / per_stage;
            let kind = if stage.is_multiple_of(2) {
                "dataset"
            } else {
                "job"
            };
            format!("{kind}:s{stage:02}:n{i:04}")
        })
        .collect();
    let stage_of = |i: usize| i / per_stage;
    let mut edges = std::collections::BTreeSet::new();
    while edges.len() < EDGES {
        let job = loop {
            let j = rng.below(NODES);
            if !stage_of(j).is_multiple_of(2) {
                break j;
            }
        };
        let s = stage_of(job);
        // Inputs mostly from the stage before, sometimes from further back; outputs to the
        // next stage; about 1% run backwards (cycles the layout must break).
        let back = 1 + 2 * (rng.below(4) == 0) as usize;
        let from_stage = s.saturating_sub(back);
        let input = from_stage * per_stage + rng.below(per_stage);
        edges.insert((input, job));
        if s + 1 < STAGES {
            let output = (s + 1) * per_stage + rng.below(per_stage);
            edges.insert((job, output));
        }
        if rng.below(100) == 0 && s >= 3 {
            let earlier = (s - 3) * per_stage + rng.below(per_stage);
            edges.insert((job, earlier));
        }
    }
    let edges: Vec<(usize, usize)> = edges.into_iter().take(EDGES).collect();
    let file = json!({ "nodes": keys, "edges": edges.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>() });
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/layout-2000x4000.json");
    std::fs::write(&path, file.to_string())?;
    let g = server::layout_cli::parse_graph(&file)?;
    let (l, median) = server::layout_cli::time_layout(&g, 7);
    record(
        "lineage: layout of 2,000 nodes and 4,000 edges, median",
        Target::AtMost(100.0),
        median.as_secs_f64() * 1e3,
        "ms",
    );
    // Graphviz dot leaves 135,597 crossings on this graph (measured when the target was set).
    record(
        "lineage: crossings on that graph (Graphviz dot: 135,597)",
        Target::AtMost(135_597.0),
        l.crossings as f64,
        "",
    );
    println!(
        "layout:       {}",
        server::layout_cli::report(&g, &l, median)
    );
    println!("graph file:   {}", path.display());
    Ok(())
}
