//! MLflow's search grammar: the `filter` and `order_by` strings of `runs/search`.
//! The body is `app::fuzzing::mlflow_filter`, which `make test` also replays over the committed seeds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| app::fuzzing::mlflow_filter(data));
