//! The bodies of the fuzz targets in `fuzz/fuzz_targets`, one function per target.
//!
//! They live here rather than in the fuzz crate so that an ordinary test
//! (`app/tests/fuzz_replay.rs`) replays the committed seeds and crash reproducers on every
//! `make test` with the same code the fuzzer runs, on the stable toolchain and without libFuzzer.
//! Each function takes arbitrary bytes and must never panic; the only assertions are the
//! parsers' own promises (a refusal always says what is wrong).

use crate::domain::fairness::{Mapping, Settings};
use crate::service::fairness::{report_of, Upload};

/// What a fuzz target runs: arbitrary bytes in, a panic only on a bug.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/Cargo.toml` declares them, with the function each runs.
pub const TARGETS: [(&str, Target); 4] = [
    ("openlineage_event", openlineage_event),
    ("mlflow_filter", mlflow_filter),
    ("csv_ingest", csv_ingest),
    ("promotion_policy", promotion_policy),
];

/// The OpenLineage event parser: any bytes a client posts to `/api/v1/lineage`. An event either
/// parses (and folds into a run) or is refused with a message naming the field at fault.
pub fn openlineage_event(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match crate::domain::lineage::parse_event(&v) {
        Ok(event) => {
            let _ = crate::domain::lineage::fold_run(std::slice::from_ref(&event));
        }
        Err(e) => assert!(!e.message.is_empty(), "refusal without a message"),
    }
}

/// MLflow's search grammar: the first line is a `runs/search` filter, the rest an order-by key.
pub fn mlflow_filter(data: &[u8]) {
    use crate::domain::run_search::{field_name, like_to_glob, parse_filter, parse_order_by};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (filter, order) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(clauses) = parse_filter(filter) {
        for c in &clauses {
            let _ = field_name(&c.field);
        }
    }
    let _ = parse_order_by(order);
    let _ = like_to_glob(filter);
}

/// The streaming CSV ingestion behind fairness uploads, fed in the chunks a network delivers
/// (the first byte picks the chunk size and the mapping's options), and the A/B results CSV.
pub fn csv_ingest(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let mapping = Mapping {
        label: "label".into(),
        prediction: Some("pred".into()),
        attributes: vec!["g".into(), "h".into()],
        intersectional: split & 1 == 1,
        weight: (split & 2 == 2).then(|| "w".into()),
        ..Default::default()
    };
    let mut upload = Upload::new(mapping, Some(false));
    for part in body.chunks(usize::from(split).max(1)) {
        if upload.push(part).is_err() {
            return;
        }
    }
    if let Ok((tally, _digest, _bytes)) = upload.finish() {
        // Few resamples: the bootstrap is not what is fuzzed.
        let settings = Settings {
            favorable_is_one: split & 4 == 4,
            reference: Default::default(),
            policy: Default::default(),
            resamples: 20,
            seed: 1,
        };
        let _ = report_of(&tally, &settings);
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = crate::domain::ab_tests::parse_results_csv(text);
    }
}

/// The promotion policy parser: the TOML an admin saves for a scope. A refusal says where.
pub fn promotion_policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = crate::domain::promotion::parse_policy(text) {
        assert!(!e.to_string().is_empty(), "refusal without a message");
    }
}
