//! The OpenLineage event parser: any bytes a client posts to `/api/v1/lineage`.
//! The body is `app::fuzzing::openlineage_event`, which `make test` also replays over the committed seeds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| app::fuzzing::openlineage_event(data));
