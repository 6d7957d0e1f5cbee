//! The OpenLineage event parser: any bytes a client posts to `/api/v1/lineage`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // An event either parses or is refused with the field at fault; it never panics.
    match app::domain::lineage::parse_event(&v) {
        Ok(event) => {
            let _ = app::domain::lineage::fold_run(std::slice::from_ref(&event));
        }
        Err(e) => assert!(!e.message.is_empty()),
    }
});
