//! Routes that are not server functions: probes, metrics and the versioned REST API.

use crate::metrics::Metrics;
use app::domain::audit_query::AuditFilterInput;
use app::domain::authz::Action;
use app::error::AppError;
use app::server::auth::{authenticate, require};
use app::server::db;
use app::server::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `/healthz`: the process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `/readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&state.pool)
        .await
    {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// `/metrics`: Prometheus text exposition.
pub async fn metrics(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        m.render(),
    )
}

/// Who the caller is.
#[derive(Serialize, Deserialize)]
pub struct Me {
    /// User name.
    pub username: String,
    /// Roles held.
    pub roles: Vec<app::domain::roles::Role>,
    /// `session` or `token`.
    pub via: String,
}

/// `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Me>, AppError> {
    let p = require(authenticate(&state, &headers).await?, Action::ReadWorkspace)?;
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

/// `GET /api/v1/audit/verify`: recompute the chain (auditor or admin).
pub async fn verify_audit(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<app::model::VerifyReport>, AppError> {
    require(authenticate(&state, &headers).await?, Action::VerifyAudit)?;
    Ok(Json(db::audit::verify(&state.pool).await?))
}

/// One page of audit entries over REST.
#[derive(Serialize, Deserialize)]
pub struct AuditList {
    /// Entries, newest first.
    pub entries: Vec<app::model::AuditRow>,
    /// Cursor for the next (older) page.
    pub next_before: Option<i64>,
}

/// `GET /api/v1/audit?actor=&action=&object_type=&object_id=&from=&to=&before=` (auditor or admin).
pub async fn list_audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AuditFilterInput>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditList>, AppError> {
    require(authenticate(&state, &headers).await?, Action::ReadAudit)?;
    let Query(input) = query.map_err(|e| AppError::validation("query", e.body_text()))?;
    let f = input
        .validate()
        .map_err(|e| AppError::validation(e.field, e.message))?;
    let (entries, next_before) = db::audit::page_with_cursor(&state.pool, &f).await?;
    Ok(Json(AuditList {
        entries,
        next_before,
    }))
}

/// Any other `/api/v1/…` path.
pub async fn api_not_found() -> AppError {
    AppError::not_found("no such API endpoint")
}
