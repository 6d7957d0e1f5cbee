//! Opening the store and assembling the router; shared by `main` and the integration tests.

use crate::metrics::Metrics;
use crate::{middleware as mw, routes};
use app::server::state::AppState;
use app::{shell, App};
use axum::routing::{any, get};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::SqlitePool;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// HTTP-level settings.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Largest fairness upload in bytes (streamed, so memory does not grow with it).
    pub max_upload_bytes: usize,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 2 << 30,
        }
    }
}

/// Connects to the database and applies the embedded migrations.
pub async fn open_store(database_url: &str) -> anyhow::Result<SqlitePool> {
    let pool = app::server::db::connect(database_url)
        .await
        .map_err(|e| anyhow::anyhow!("opening {database_url}: {e}"))?;
    app::server::db::migrate(&pool).await?;
    Ok(pool)
}

/// The complete application router.
pub fn build_router(state: AppState, settings: &ServeSettings) -> Router {
    let metrics = Arc::new(Metrics::default());
    let leptos_routes = route_list();
    let api = Router::new()
        .route("/api/v1/me", get(routes::me))
        .route("/api/v1/audit", get(routes::list_audit))
        .route("/api/v1/audit/verify", get(routes::verify_audit))
        .route("/api/v1/audit/checkpoint", get(routes::audit_checkpoint))
        .route("/api/v1/audit/export", get(routes::export_audit))
        .route("/api/v1/audit/consistency", get(routes::audit_consistency))
        .route(
            "/api/v1/audit/entries/{seq}/proof",
            get(routes::audit_proof),
        )
        .route("/api/v1/{*rest}", any(routes::api_not_found))
        .with_state(state.clone());
    let probes = Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .with_state(state.clone())
        .merge(
            Router::new()
                .route("/metrics", get(routes::metrics))
                .with_state(metrics.clone()),
        );
    let leptos_state = state.clone();
    let pages = Router::<AppState>::new()
        .leptos_routes(&leptos_state, leptos_routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            mw::pages_need_sign_in,
        ))
        .layer(axum::middleware::from_fn(mw::server_fn_status))
        .with_state(state.clone());

    let request_id = axum::http::HeaderName::from_static("x-request-id");
    // Everything but the streamed fairness uploads has the general body limit.
    let limited = Router::new()
        .merge(api)
        .merge(crate::abtests::router(state.clone()))
        .merge(crate::mlflow::router(state.clone()))
        .merge(crate::registry::router(state.clone()))
        .merge(crate::promotions::router(state.clone()))
        .merge(crate::lineage::router(
            state.clone(),
            settings.max_body_bytes,
        ))
        .merge(probes)
        .merge(pages)
        .layer(RequestBodyLimitLayer::new(settings.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            settings.max_body_bytes,
            mw::declared_body_limit,
        ));
    Router::new()
        .merge(limited)
        .merge(crate::fairness::router(state.clone(), settings.max_upload_bytes))
        .layer(axum::middleware::from_fn(mw::pkg_cache_headers))
        .layer(axum::middleware::from_fn(mw::security_headers))
        .layer(axum::middleware::from_fn(mw::same_origin_writes))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(metrics, mw::track_metrics))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// The page routes, generated once per process. Generation renders the app with resource
/// loading suppressed through a process-wide flag (leptos issue #4773): a page rendered on
/// another thread while it runs would wait forever, so it must never run beside live traffic,
/// as it would when tests start several servers in one process.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Leptos options from the environment (as set by cargo-leptos), else the defaults this
/// workspace uses, so the binary also runs when started by hand or from tests.
pub fn leptos_options(addr: Option<std::net::SocketAddr>) -> LeptosOptions {
    let mut opts = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(_) => LeptosOptions::builder()
            .output_name("gatehouse")
            .site_root("target/site")
            .site_pkg_dir("pkg")
            .build(),
    };
    if let Some(addr) = addr {
        opts.site_addr = addr;
    }
    opts
}
