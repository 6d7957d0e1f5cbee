//! The streaming CSV ingestion behind fairness uploads, fed in the chunks a network delivers,
//! and the A/B results CSV.
#![no_main]

use app::domain::fairness::{Mapping, Settings};
use app::server::fairness::{report_of, Upload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, as a network would split the body.
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
    let chunk = usize::from(split).max(1);
    for part in body.chunks(chunk) {
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
        let _ = app::domain::experiment::parse_results_csv(text);
    }
});
