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
    authenticate(&state, &parts.headers).await
}

/// State and principal, after checking that the principal may perform `action`.
pub async fn authorized(action: Action) -> Result<(AppState, Principal), AppError> {
    let state = state()?;
    let parts = parts()?;
    let p = require(authenticate(&state, &parts.headers).await?, action)?;
    Ok((state, p))
}

/// The client's address as seen by this server.
pub fn client_addr(parts: &axum::http::request::Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
