//! The demo workspace: what `serve --demo` shows a first-time visitor. Its data are fixture
//! files in `server/fixtures/demo/` (the training runs, the lineage pipeline, the A/B tests,
//! the fairness reports' groups, the registry and its promotions, the demo model's files); the
//! modules here only send them through the public REST APIs, exactly as the MLflow client, an
//! OpenLineage producer, a product manager's script or a reviewer would, each with a demo API
//! token that is revoked afterwards. Deterministic: seeded noise and fixed timestamps.
//!
//! Each `seed_*` is skipped when its part of the workspace already has data.

mod ab_tests;
mod artifacts;
mod fairness;
mod lineage;
mod registry;
mod tracking;

pub use ab_tests::seed_ab_tests;
pub use fairness::seed_fairness;
pub use lineage::seed_lineage;
pub use registry::seed_registry;
pub use tracking::seed_tracking;

use app::error::AppError;
use app::service::accounts;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

/// Reads a fixture compiled into the binary; a fixture that does not parse is a bug in this
/// repository, reported as an internal error naming the file.
fn fixture<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, AppError> {
    serde_yaml::from_str(text).map_err(|e| {
        tracing::error!(fixture = name, error = %e, "demo fixture does not parse");
        AppError::internal()
    })
}

/// xorshift64*: small, fast and stable across crate versions, so the demo never changes.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform noise in ±`scale`.
    fn noise(&mut self, scale: f64) -> f64 {
        (self.next_f64() - 0.5) * 2.0 * scale
    }
}

/// Runs `send` with a short-lived API token of `role` issued to the demo system user, and
/// revokes the token whatever happened.
async fn with_token<F, Fut>(
    pool: &app::store::Pool,
    role: &str,
    label: &str,
    send: F,
) -> Result<(), AppError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let token = accounts::create_token(
        pool,
        "system:demo",
        role,
        label,
        accounts::Issue::operator(),
    )
    .await?;
    let result = send(token.token.clone()).await;
    accounts::revoke_token(pool, "system:demo", token.id).await?;
    result
}

/// Sends one request through the router with the token, as a client would, and answers the
/// response body; any status but `expected` is an error, logged with the path and the body.
async fn deliver(
    router: &Router,
    token: &str,
    req: axum::http::request::Builder,
    body: Body,
    expected: StatusCode,
) -> Result<axum::body::Bytes, AppError> {
    let req = req
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(body)
        .map_err(|_| AppError::internal())?;
    let path = req.uri().path().to_owned();
    let res = router
        .clone()
        .oneshot(req)
        .await
        .map_err(|_| AppError::internal())?;
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .map_err(|_| AppError::internal())?;
    if status != expected {
        let body = String::from_utf8_lossy(&bytes);
        tracing::error!(%path, %status, %body, "demo request failed");
        return Err(AppError::internal());
    }
    Ok(bytes)
}

/// Posts a JSON body and expects `expected`; answers the JSON response.
async fn send(
    router: &Router,
    token: &str,
    path: &str,
    body: &Value,
    expected: StatusCode,
) -> Result<Value, AppError> {
    let req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    let bytes = deliver(router, token, req, Body::from(body.to_string()), expected).await?;
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Calls an MLflow REST method (`runs/create`, …) and expects 200.
async fn call(router: &Router, token: &str, method: &str, body: Value) -> Result<Value, AppError> {
    send(
        router,
        token,
        &format!("/api/2.0/mlflow/{method}"),
        &body,
        StatusCode::OK,
    )
    .await
}
