//! Opening the store and assembling the router; shared by `main` and the integration tests.

use crate::api::{needs, Access, Api, Doc};
use crate::metrics::Metrics;
use crate::{middleware as mw, routes};
use app::domain::database_url::redacted;
use app::service::state::AppState;
use app::store::Pool;
use app::{shell, App};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// HTTP-level settings.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Largest fairness upload in bytes as sent (streamed, so memory does not grow with it).
    pub max_upload_bytes: usize,
    /// Ceilings on what an upload inflates to (CSV text, one row).
    pub upload_limits: app::service::fairness::Limits,
    /// A bearer secret that may read `/metrics` (a Prometheus scraper's), besides the API
    /// tokens and sessions of auditors and admins.
    pub metrics_token: Option<String>,
}

/// The default limit on a fairness upload as sent: 256 MiB, room for a gzip of some tens of
/// millions of prediction rows; larger files are better summarised before upload.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 256 << 20;

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            upload_limits: app::service::fairness::Limits::default(),
            metrics_token: None,
        }
    }
}

/// The origins browsers may write from: the public URL when given, else `http://` plus the
/// listen address, with `localhost` beside a loopback address (what a browser on the same
/// machine types).
pub fn browser_origins(
    public_url: Option<&str>,
    addr: std::net::SocketAddr,
) -> anyhow::Result<Vec<String>> {
    use app::service::state::origin_of;
    if let Some(url) = public_url.filter(|u| !u.trim().is_empty()) {
        let o = origin_of(url).ok_or_else(|| {
            anyhow::anyhow!(
                "--public-url: '{url}' is not an http(s) URL such as https://gatehouse.example.com"
            )
        })?;
        return Ok(vec![o]);
    }
    let mut out = Vec::new();
    out.extend(origin_of(&format!("http://{addr}")));
    if addr.ip().is_loopback() {
        out.extend(origin_of(&format!("http://localhost:{}", addr.port())));
    }
    if out.is_empty() {
        anyhow::bail!("no origin can be derived from {addr}: set --public-url");
    }
    Ok(out)
}

/// Connects to the database and applies the embedded migrations.
pub async fn open_store(database_url: &str) -> anyhow::Result<Pool> {
    let pool = app::store::connect(database_url)
        .await
        .map_err(|e| match e {
            app::store::ConnectError::Unsupported(why) => anyhow::anyhow!("{why}"),
            e => anyhow::anyhow!("opening {}: {e}", redacted(database_url)),
        })?;
    app::store::migrate(&pool).await?;
    Ok(pool)
}

/// The complete application router.
pub fn build_router(state: AppState, settings: &ServeSettings) -> Router {
    build_router_with_metrics(state, settings, Arc::new(Metrics::default()))
}

/// `/metrics` alone and unauthenticated, for a separate listen address that only the
/// monitoring network reaches (`--metrics-addr`).
pub fn metrics_only_router(metrics: Arc<Metrics>) -> Router {
    Api::new()
        .get(
            "/metrics",
            routes::metrics_open,
            Doc::new(
                Access::Public,
                "Prometheus metrics, on the separate metrics address only",
            ),
        )
        .with_state(metrics)
        .into_parts()
        .0
}

/// The application router, recording into `metrics`.
pub fn build_router_with_metrics(
    state: AppState,
    settings: &ServeSettings,
    metrics: Arc<Metrics>,
) -> Router {
    let api = own_api(&state);
    let probes = probes(&state, settings, &metrics);
    let pages = pages(&state);

    let request_id = axum::http::HeaderName::from_static("x-request-id");
    // Everything but the streamed fairness uploads has the general body limit.
    let max_body = settings.max_body_bytes;
    let limited = api
        .merge(crate::audit::router(state.clone()))
        .merge(crate::ab_tests::router(state.clone()))
        .merge(crate::mlflow::router(state.clone()))
        .merge(crate::logged_models::router(state.clone()))
        .merge(crate::registry::router(state.clone()))
        .merge(crate::promotions::router(state.clone()))
        .merge(crate::tokens::router(state.clone()))
        .merge(crate::scim::router(state.clone()))
        .merge(crate::webhooks::router(state.clone()))
        .merge(crate::sso::router(state.clone()))
        .merge(crate::lineage::router(state.clone(), max_body))
        .merge(probes)
        .map(|r| {
            r.merge(pages)
                .layer(RequestBodyLimitLayer::new(max_body))
                .layer(axum::middleware::from_fn_with_state(
                    max_body,
                    mw::declared_body_limit,
                ))
        });
    limited
        .merge(crate::fairness::router(
            state.clone(),
            settings.max_upload_bytes,
            settings.upload_limits,
        ))
        // Artifacts stream with their own per-file limit (`--max-artifact-bytes`).
        .merge(crate::artifacts::router(state.clone()))
        .with_description()
        .layer(axum::middleware::from_fn(mw::pkg_cache_headers))
        .layer(axum::middleware::from_fn(mw::page_nonce))
        .layer(axum::middleware::from_fn(mw::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            mw::same_origin_writes,
        ))
        // Model files and other binaries go out as they are: compressing them costs more CPU
        // than it saves bytes and would cap downloads far below disk speed.
        .layer(CompressionLayer::new().compress_when(
            DefaultPredicate::new().and(NotForContentType::const_new("application/octet-stream")),
        ))
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

/// Gatehouse's own `/api/v1` routes that belong to no capability (who am I), and the JSON 404
/// for every unknown path under `/api`.
fn own_api(state: &AppState) -> Api {
    use app::domain::authz::Action::*;
    Api::gated(state.clone())
        .get(
            "/api/v1/me",
            routes::me,
            needs(
                ReadWorkspace,
                "Who the caller is: user name, roles, session or token",
            ),
        )
        .not_found("/api/v1/{*rest}", routes::api_not_found)
        // Any other unknown path under /api (server functions are registered one by one): API
        // clients get a JSON error, never the HTML page.
        .not_found("/api/{*rest}", routes::api_not_found)
        .with_state(state.clone())
}

/// Liveness, readiness and the Prometheus metrics.
fn probes(state: &AppState, settings: &ServeSettings, metrics: &Arc<Metrics>) -> Api {
    use app::domain::authz::Action::ReadAudit;
    Api::new()
        .get(
            "/healthz",
            routes::healthz,
            Doc::new(Access::Public, "Liveness"),
        )
        .get(
            "/readyz",
            routes::readyz,
            Doc::new(Access::Public, "Readiness: the database answers"),
        )
        .with_state(state.clone())
        .merge(
            Api::new()
                .get(
                    "/metrics",
                    routes::metrics,
                    needs(
                        ReadAudit,
                        "Prometheus metrics (auditors and admins, or the configured metrics token)",
                    )
                    .gated_in_handler(),
                )
                .with_state(routes::MetricsState {
                    metrics: metrics.clone(),
                    app: state.clone(),
                    token_sha256: settings
                        .metrics_token
                        .as_deref()
                        .filter(|t| !t.is_empty())
                        .map(app::service::auth::sha256_hex),
                }),
        )
}

/// The pages, rendered by Leptos, behind the sign-in redirect.
fn pages(state: &AppState) -> Router {
    let leptos_routes = route_list();
    let leptos_state = state.clone();
    Router::<AppState>::new()
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
        .with_state(state.clone())
}

/// The page routes, generated once per process. Generation renders the app with resource
/// loading suppressed through a process-wide flag (leptos issue #4773): a page rendered on
/// another thread while it runs would wait forever, so it must never run beside live traffic,
/// as it would when tests start several servers in one process.
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
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
    // `cargo leptos build` names the bundle by content hash and lists the hashes in hash.txt
    // beside the server binary; pages then link the hashed names (served as immutable).
    if asset_hashes().is_some() {
        opts.hash_files = true;
    }
    opts
}

/// The content hashes of the bundle (`js`, `wasm`, `css` → hash) from the `hash.txt` that
/// `cargo leptos build` writes beside the server binary, when there is one.
pub fn asset_hashes() -> Option<std::collections::BTreeMap<String, String>> {
    let exe = std::env::current_exe().ok()?;
    let text = std::fs::read_to_string(exe.parent()?.join("hash.txt")).ok()?;
    let hashes: std::collections::BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    (!hashes.is_empty()).then_some(hashes)
}

/// The stylesheet's address: `/pkg/gatehouse.<hash>.css` when the build hashed it.
pub fn stylesheet_href() -> String {
    match asset_hashes().and_then(|h| h.get("css").cloned()) {
        Some(hash) => format!("/pkg/gatehouse.{hash}.css"),
        None => "/pkg/gatehouse.css".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::browser_origins;

    #[test]
    fn browser_origins_come_from_the_public_url_or_the_listen_address() {
        let addr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(
            browser_origins(None, addr).unwrap(),
            ["http://127.0.0.1:3000", "http://localhost:3000"]
        );
        assert_eq!(
            browser_origins(Some("https://Gatehouse.example.com/"), addr).unwrap(),
            ["https://gatehouse.example.com"]
        );
        assert_eq!(
            browser_origins(None, "10.0.0.5:8080".parse().unwrap()).unwrap(),
            ["http://10.0.0.5:8080"]
        );
        assert!(browser_origins(Some("gatehouse.example.com"), addr).is_err());
    }
}
