//! Routes of no capability: probes, metrics, who the caller is, and the JSON 404 of `/api`.

use crate::extract::Caller;
use crate::metrics::Metrics;
use app::domain::authz::Action;
use app::error::AppError;
use app::service::auth::{authenticate, require};
use app::service::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `/healthz`: the process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `/readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match app::store::ping(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// What `/metrics` needs on the main listener.
#[derive(Clone)]
pub struct MetricsState {
    /// The counters.
    pub metrics: Arc<Metrics>,
    /// For sessions and API tokens.
    pub app: AppState,
    /// SHA-256 of the scraper's secret, when one is configured.
    pub token_sha256: Option<String>,
}

/// `/metrics`: Prometheus text exposition, for the configured scraper secret or an auditor's
/// or admin's token or session (request counts by route are not for everyone).
pub async fn metrics(State(s): State<MetricsState>, headers: HeaderMap) -> Response {
    let scraper = s.token_sha256.as_deref().is_some_and(|want| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| app::service::auth::sha256_hex(t.trim()) == want)
    });
    if !scraper {
        let who = match authenticate(&s.app, &headers).await {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        };
        if let Err(e) = require(who, Action::ReadAudit) {
            return e.into_response();
        }
    }
    metrics_open(State(s.metrics)).await.into_response()
}

/// `/metrics` without a gate: only on the separate metrics listen address.
pub async fn metrics_open(State(m): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        m.render(),
    )
        .into_response()
}

/// Who the caller is.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
pub struct Me {
    /// User name.
    pub username: String,
    /// Roles held.
    pub roles: Vec<app::domain::roles::Role>,
    /// `session` or `token`.
    pub via: String,
}

/// `GET /api/v1/me`.
pub async fn me(Caller(p): Caller) -> Result<Json<Me>, AppError> {
    Ok(Json(Me {
        via: if p.token.is_some() {
            "token".into()
        } else {
            "session".into()
        },
        username: p.username,
        roles: p.roles,
    }))
}

/// Any other `/api/…` path: a JSON 404.
pub async fn api_not_found() -> AppError {
    AppError::not_found("no such API endpoint")
}
