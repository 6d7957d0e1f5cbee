//! Replays the committed fuzz inputs through the fuzz targets' own code (`app::fuzzing`):
//! the minimised seed set in `fuzz/seeds/<target>` and the crash reproducers in
//! `fuzz/regressions/<target>`. A parser change that panics on an input the fuzzer once found
//! interesting, or on a crash it once found, fails here, on stable Rust and in seconds.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file directly under `dir`, sorted so failures name the same input each run.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable fuzz directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8]), files: &[PathBuf]) {
    for file in files {
        let data = std::fs::read(file).expect("readable fuzz input");
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target} panicked on {}", file.display());
    }
}

#[test]
fn every_target_has_a_seed_set_and_replays_it_without_panicking() {
    for (target, run) in app::fuzzing::TARGETS {
        let seeds = inputs(&fuzz_dir().join("seeds").join(target));
        // The minimised set is small but never trivial: an empty or lost directory would make
        // this test pass while replaying nothing.
        assert!(
            seeds.len() >= 10,
            "fuzz/seeds/{target} holds {} inputs; run `make fuzz-cmin`",
            seeds.len()
        );
        replay(target, run, &seeds);
    }
}

#[test]
fn crash_reproducers_stay_fixed() {
    for (target, run) in app::fuzzing::TARGETS {
        replay(
            target,
            run,
            &inputs(&fuzz_dir().join("regressions").join(target)),
        );
    }
}

#[test]
fn every_fuzz_target_declared_in_the_fuzz_crate_is_replayed() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let declared: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| *name != "gatehouse-fuzz")
        .collect();
    let replayed: Vec<&str> = app::fuzzing::TARGETS.iter().map(|(t, _)| *t).collect();
    assert_eq!(declared, replayed);
}
