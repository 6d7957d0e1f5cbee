//! The streaming CSV ingestion behind fairness uploads, and the A/B results CSV.
//! The body is `app::fuzzing::csv_ingest`, which `make test` also replays over the committed seeds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| app::fuzzing::csv_ingest(data));
