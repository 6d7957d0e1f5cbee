//! The promotion policy parser: the TOML an admin saves for a scope.
//! The body is `app::fuzzing::promotion_policy`, which `make test` also replays over the committed seeds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| app::fuzzing::promotion_policy(data));
