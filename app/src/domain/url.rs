//! Percent-encoding for the links the pages build from stored names.
//!
//! Names come from users and clients (a registered model may be called `churn v2?` or `50%`),
//! so every name put into a path segment or a query value is encoded; only RFC 3986's
//! unreserved characters stay as they are. The encoding itself is the `percent-encoding` and
//! `form_urlencoded` crates' (the ones the `url` crate is built on).

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Every byte but RFC 3986's unreserved characters (`A–Z a–z 0–9 - _ . ~`).
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Encodes `s` for use as one path segment or one query value.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

/// Decodes percent-escapes once; malformed escapes stay as they are and invalid UTF-8 becomes
/// U+FFFD.
pub fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Splits a raw query string (without `?`) into decoded pairs, as an HTML form encodes them
/// (`application/x-www-form-urlencoded`: `+` is a space).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A query string from key/value pairs, each value encoded.
pub fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The page of a registered model.
pub fn model_href(name: &str) -> String {
    format!("/models/{}", encode(name))
}

/// The page of one version of a registered model.
pub fn model_version_href(name: &str, version: i64) -> String {
    format!("/models/{}/versions/{version}", encode(name))
}

/// The `rel` a link to `href` needs: `external` when its path holds an encoded `%`. The
/// router's client-side navigation decodes a clicked link's path once before it routes
/// (`%2541` becomes `%41`), so such a link is left to the browser, which loads it as written.
pub fn link_rel(href: &str) -> Option<&'static str> {
    let path = href.split(['?', '#']).next().unwrap_or_default();
    path.contains("%25").then_some("external")
}

/// The lineage graph centred on one version of a registered model.
pub fn model_lineage_href(name: &str, version: i64) -> String {
    format!(
        "/lineage?node={}",
        encode(&format!("model:{name}:{version}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_pass_through() {
        assert_eq!(encode("churn-model_v2.1~x"), "churn-model_v2.1~x");
    }

    #[test]
    fn delimiters_percent_and_spaces_are_encoded() {
        assert_eq!(encode("a b?c#d%e&f=g/h"), "a%20b%3Fc%23d%25e%26f%3Dg%2Fh");
        assert_eq!(encode("+"), "%2B");
    }

    #[test]
    fn non_ascii_is_encoded_as_utf8_bytes() {
        assert_eq!(encode("modèle"), "mod%C3%A8le");
    }

    #[test]
    fn model_links() {
        assert_eq!(model_href("churn v2?"), "/models/churn%20v2%3F");
        assert_eq!(
            model_lineage_href("50% off", 3),
            "/lineage?node=model%3A50%25%20off%3A3"
        );
    }

    #[test]
    fn decoding_is_the_inverse_of_encoding_and_happens_once() {
        for s in ["churn v2? #1 50%41", "modèle", "a+b", "%", "100%", "x%2"] {
            assert_eq!(decode(&encode(s)), s);
        }
        assert_eq!(decode("50%2541"), "50%41");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn queries_parse_like_html_forms() {
        assert_eq!(
            parse_query("node=model%3A50%2541%3A1&q=a+b&flag&&x=%2B"),
            vec![
                ("node".to_string(), "model:50%41:1".to_string()),
                ("q".to_string(), "a b".to_string()),
                ("flag".to_string(), String::new()),
                ("x".to_string(), "+".to_string()),
            ]
        );
    }

    #[test]
    fn only_paths_with_an_encoded_percent_bypass_client_routing() {
        assert_eq!(link_rel(&model_href("50%41")), Some("external"));
        assert_eq!(link_rel(&model_href("churn v2?")), None);
        assert_eq!(link_rel(&model_lineage_href("50%41", 1)), None);
    }

    #[test]
    fn query_strings_encode_values_only() {
        let pairs = vec![
            ("node".to_string(), "a&b".to_string()),
            ("depth".to_string(), "2".to_string()),
        ];
        assert_eq!(query_string(&pairs), "node=a%26b&depth=2");
    }
}
