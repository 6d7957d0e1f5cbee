//! Cross-cutting HTTP layers: metrics, sign-in redirects for pages, server-function status
//! codes, a same-origin check for cookie-authenticated writes, and the body size limit.

use crate::metrics::Metrics;
use app::error::AppError;
use app::service::auth::{authenticate, SESSION_COOKIE};
use app::service::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;
use std::time::Instant;

/// Records every request in [`Metrics`] under its route template (never the raw path, which
/// would let clients create unbounded label values).
pub async fn track_metrics(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_owned(),
        None if req.uri().path().starts_with("/pkg/") => "/pkg".to_owned(),
        None => "unmatched".to_owned(),
    };
    let res = next.run(req).await;
    metrics.observe(&method, &route, res.status().as_u16(), start.elapsed());
    res
}

/// Pages anyone may open: the sign-in page and shared A/B test links (the link is the secret).
pub const PUBLIC_PAGES: [&str; 2] = ["/login", "/shared/ab/{token}"];

/// Whether `path` is one of the app's pages that need a session: any route of the app's route
/// list (so a new page is covered without being listed anywhere) except the public ones.
fn is_page(path: &str) -> bool {
    static PATTERNS: std::sync::OnceLock<Vec<Vec<String>>> = std::sync::OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        crate::startup::route_list()
            .iter()
            .map(|r| r.path().to_owned())
            .filter(|p| !PUBLIC_PAGES.contains(&p.as_str()))
            .map(|p| p.split('/').map(str::to_owned).collect())
            .collect()
    });
    let segments: Vec<&str> = path.split('/').collect();
    patterns.iter().any(|pattern| {
        pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(p, s)| (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s)
    })
}

/// Browser requests for pages without a session go to the sign-in page, which comes back
/// to the requested page afterwards; a signed-in visit to the sign-in page goes home.
pub async fn pages_need_sign_in(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return next.run(req).await;
    }
    let page = is_page(path);
    let login = path == "/login";
    if !page && !login {
        return next.run(req).await;
    }
    let principal = match authenticate(&state, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match (&principal, page) {
        (None, true) => {
            let target = req
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/");
            let next_q: String = url_encode(target);
            Redirect::to(&format!("/login?next={next_q}")).into_response()
        }
        (Some(_), false) => Redirect::to("/").into_response(),
        _ => {
            // The page's server functions reuse it rather than look it up again.
            req.extensions_mut()
                .insert(app::service::auth::Authenticated(principal));
            next.run(req).await
        }
    }
}

/// Percent-encodes a query value (keeping `/`, which query values may hold).
pub(crate) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Server functions answer every error with 500; rewrite it to the status the error means
/// (401, 403, 400, …) so API clients and the browser see the real outcome.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, 256 * 1024).await {
        Ok(b) => b,
        Err(_) => return AppError::internal().into_response(),
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(code) = StatusCode::from_u16(err.status_code()) {
            parts.status = code;
        }
        if let AppError::TooManyRequests {
            retry_after_secs, ..
        } = err
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                parts.headers.insert(header::RETRY_AFTER, v);
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Paths that sign a browser in: guarded like cookie-authenticated writes, so a form on
/// another site cannot sign a visitor into someone else's account (login CSRF).
const SIGN_IN_PATHS: [&str; 1] = ["/api/sign_in"];

/// Refuses state-changing browser requests (those carrying the session cookie, and sign-ins)
/// unless their `Origin`, or failing that their `Referer`, is exactly one of the configured
/// origins: scheme, host and port. Token-authenticated clients are unaffected. Defence in
/// depth on top of `SameSite=Lax`.
pub async fn same_origin_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let h = req.headers();
    let browser = app::service::cookies::get(h, SESSION_COOKIE).is_some()
        || SIGN_IN_PATHS.contains(&req.uri().path());
    if safe || !browser || h.contains_key(header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let header_origin = |name| {
        h.get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .and_then(app::service::state::origin_of)
    };
    let Some(origin) = header_origin(header::ORIGIN).or_else(|| header_origin(header::REFERER))
    else {
        return AppError::Forbidden {
            message: "a browser write must say where it comes from (Origin or Referer header)"
                .into(),
        }
        .into_response();
    };
    if !state.config.browser_origins(h).contains(&origin) {
        return AppError::Forbidden {
            message: "cross-origin request refused".into(),
        }
        .into_response();
    }
    next.run(req).await
}

/// Answers 413 with a JSON body when the declared body size exceeds the limit; bodies without
/// a declared length are cut off by `RequestBodyLimitLayer` at the same limit.
pub async fn declared_body_limit(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return AppError::too_large(
            format!("request body is larger than the limit of {limit} bytes"),
            limit as u64,
        )
        .into_response();
    }
    next.run(req).await
}

/// Gives every page request a fresh script nonce (`app::PageNonce`, which the page shell
/// renders into its inline scripts) and sends the page's script policy naming it with the HTML
/// it answers. The header is set here, beside the nonce's creation, rather than from inside the
/// render: it then always matches the scripts, however the render is scheduled. Under `/api/`
/// (the reference page included) nothing is rendered by the shell, and the strict policy of
/// [`SECURITY_HEADERS`] stays; the build's files under `/pkg/` need no nonce either.
pub async fn page_nonce(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with("/pkg/") {
        return next.run(req).await;
    }
    let nonce = leptos::nonce::Nonce::new().to_string();
    req.extensions_mut()
        .insert(app::app::PageNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        if let Ok(v) = HeaderValue::from_str(&app::app::page_csp(&nonce)) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    res
}

/// `/pkg` assets named by their content hash (`gatehouse.<hash>.wasm`, as `cargo leptos build`
/// writes them) never change under their name: browsers keep them for a year without asking.
/// Anything else there (an unhashed build) is revalidated on each use (cheap 304s), so an
/// upgrade is never hidden behind a stale bundle.
pub async fn pkg_cache_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let pkg = path.strip_prefix("/pkg/").map(is_content_hashed);
    let mut res = next.run(req).await;
    if let (Some(hashed), true) = (pkg, res.status().is_success()) {
        let value = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// Whether a file name has a content hash between its stem and extension: `name.HASH.ext`,
/// the hash at least 16 URL-safe base64 characters.
fn is_content_hashed(file: &str) -> bool {
    let mut parts = file.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty()
        && hash.len() >= 16
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Headers every response carries: no MIME sniffing, no framing by other sites, no referrer
/// sent elsewhere (share links carry their token in the path), no plugins, no `<base>`
/// rewriting, forms posting only here, and scripts only from this origin. Pages replace the
/// policy with one naming their per-response nonce (`app::app::page_csp`).
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
];

/// Adds [`SECURITY_HEADERS`] where a handler has not set them.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}

#[cfg(test)]
mod cache_tests {
    use super::is_content_hashed;

    #[test]
    fn only_hashed_names_are_immutable() {
        assert!(is_content_hashed("gatehouse.x3Yp0_Qm-9aZ1bC2dE4f.wasm"));
        assert!(!is_content_hashed("gatehouse.wasm"));
        assert!(!is_content_hashed("gatehouse.d.ts"));
        assert!(!is_content_hashed("gatehouse_bg.wasm.d.ts"));
        assert!(!is_content_hashed("gatehouse.short.css"));
    }
}
