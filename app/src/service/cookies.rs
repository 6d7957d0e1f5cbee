//! Reading and writing the cookies Gatehouse uses (the session, and the one-view "flash"
//! cookies that carry a just-created secret to the page a JavaScript-free form returns to).
//! Parsing and formatting are the `cookie` crate's (RFC 6265).

use axum::http::{header, HeaderMap};
pub use cookie::SameSite;
use cookie::{time::Duration, Cookie};

/// The value of the cookie `name` in a request's `Cookie` headers, if it is there. Malformed
/// pairs in the header are skipped, not fatal: browsers send what other sites' scripts set.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value for an HttpOnly cookie scoped to `path` that lives `max_age_secs`
/// seconds (0 removes it). `Secure` when the public URL is https.
pub fn set(
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: i64,
    same_site: SameSite,
    secure: bool,
) -> String {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(same_site)
        .max_age(Duration::seconds(max_age_secs))
        .secure(secure)
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                header::COOKIE,
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        h
    }

    #[test]
    fn finds_a_cookie_among_several_headers_and_pairs() {
        let h = headers(&["theme=dark; gatehouse_session=abc", "other=1"]);
        assert_eq!(get(&h, "gatehouse_session").as_deref(), Some("abc"));
        assert_eq!(get(&h, "other").as_deref(), Some("1"));
        assert_eq!(get(&h, "missing"), None);
    }

    #[test]
    fn a_name_that_only_prefixes_another_does_not_match() {
        let h = headers(&["gatehouse_session_old=x; gatehouse_sessionx=y"]);
        assert_eq!(get(&h, "gatehouse_session"), None);
    }

    #[test]
    fn malformed_pairs_are_skipped() {
        let h = headers(&["junk; =novalue; gatehouse_session=ok"]);
        assert_eq!(get(&h, "gatehouse_session").as_deref(), Some("ok"));
    }

    #[test]
    fn set_cookie_carries_every_attribute() {
        let c = set("s", "v", "/account", 120, SameSite::Strict, true);
        for part in [
            "s=v",
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/account",
            "Max-Age=120",
        ] {
            assert!(c.split("; ").any(|p| p == part), "{part} missing from {c}");
        }
        let cleared = set("s", "", "/", 0, SameSite::Lax, false);
        assert!(
            cleared.contains("Max-Age=0") && !cleared.contains("Secure"),
            "{cleared}"
        );
    }
}
