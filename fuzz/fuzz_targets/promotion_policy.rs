//! The promotion policy parser: the TOML an admin saves for a scope.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = app::domain::promotion::parse_policy(text) {
        // A refusal says where: never an empty message.
        assert!(!e.to_string().is_empty());
    }
});
