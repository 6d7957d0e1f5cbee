//! MLflow's search grammar: the `filter` and `order_by` strings of `runs/search`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is a filter, the rest an order-by key.
    let (filter, order) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(clauses) = app::domain::run_search::parse_filter(filter) {
        for c in &clauses {
            let _ = app::domain::run_search::field_name(&c.field);
        }
    }
    let _ = app::domain::run_search::parse_order_by(order);
    let _ = app::domain::run_search::like_to_glob(filter);
});
