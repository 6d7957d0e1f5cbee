//! Glue for server functions: the state and the calling principal from the Leptos context.

use super::auth::{authenticate, require, Principal};
use super::state::AppState;
use crate::domain::authz::Action;
use crate::error::AppError;

/// The application state provided to every server function.
pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server-function context");
        AppError::internal()
    })
}

/// The request's headers and extensions.
pub fn parts() -> Result<axum::http::request::Parts, AppError> {
    leptos::prelude::use_context::<axum::http::request::Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from the server-function context");
        AppError::internal()
    })
}

/// The signed-in principal, if any.
pub async fn principal() -> Result<Option<Principal>, AppError> {
    let state = state()?;
    let parts = parts()?;
    if let Some(a) = parts
        .extensions
        .get::<crate::service::auth::Authenticated>()
    {
        return Ok(a.0.clone());
    }
    authenticate(&state, &parts.headers).await
}

/// State and principal, after checking that the principal may perform `action`.
pub async fn authorized(action: Action) -> Result<(AppState, Principal), AppError> {
    let p = require(principal().await?, action)?;
    Ok((state()?, p))
}

/// The client's address: from the trusted proxy's header when one is configured (the last
/// entry, which that proxy appended), else the peer address of the connection.
pub fn client_addr(parts: &axum::http::request::Parts, trusted_header: Option<&str>) -> String {
    let from_proxy = trusted_header.and_then(|name| {
        parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
    });
    from_proxy
        .or_else(|| {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether this call is a plain HTML form post (JavaScript off): the browser follows the
/// redirect back and never sees the function's answer, so anything shown once must travel in
/// a flash cookie ([`set_flash_cookie`]).
pub fn is_plain_form_post() -> bool {
    parts().ok().is_some_and(|p| {
        p.headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Sets an HttpOnly, same-site cookie for `path` lasting `max_age` seconds (0 clears it).
pub fn set_flash_cookie(name: &str, value: &str, path: &str, max_age: u32, secure: bool) {
    let cookie = super::cookies::set(
        name,
        value,
        path,
        i64::from(max_age),
        cookie::SameSite::Strict,
        secure,
    );
    if let (Some(opts), Ok(v)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(&cookie),
    ) {
        opts.append_header(axum::http::header::SET_COOKIE, v);
    }
}
