//! The current URL's query and path parameters, decoded exactly once.
//!
//! leptos_router 0.8 percent-decodes parameter values twice (once when it parses the URL, again
//! when it copies them into a `ParamsMap`), so a value holding a literal `%41` came back as `A`.
//! These hooks read the raw URL and decode it once, with `domain::url`.

use crate::domain::url::{decode, parse_query};
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use leptos_router::params::ParamsMap;

/// `ParamsMap::insert` decodes the value it is given, so hand it one whose only escapes are
/// `%25` for each `%`: what it stores is then the value itself.
fn insert_exact(map: &mut ParamsMap, k: String, v: &str) {
    map.insert(k, v.replace('%', "%25"));
}

/// The query parameters of the current URL.
pub fn use_query() -> Memo<ParamsMap> {
    let location = use_location();
    Memo::new(move |_| {
        let mut map = ParamsMap::new();
        for (k, v) in parse_query(&location.search.read()) {
            insert_exact(&mut map, k, &v);
        }
        map
    })
}

/// The path segment that follows `prefix` (such as `/models/`) in the current URL.
pub fn use_path_tail(prefix: &'static str) -> Memo<String> {
    let location = use_location();
    Memo::new(move |_| {
        let path = location.pathname.read();
        let raw = path.strip_prefix(prefix).unwrap_or_default();
        decode(raw.split('/').next().unwrap_or_default())
    })
}
