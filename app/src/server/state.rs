//! Application state shared by server functions and REST handlers.

use leptos::config::LeptosOptions;
use sqlx::SqlitePool;
use std::sync::Arc;
use std::time::Duration;

/// Runtime settings that affect authentication and presentation.
#[derive(Clone, Debug)]
pub struct Config {
    /// Serve with demo data: shows the banner and the demo accounts on the sign-in page.
    pub demo: bool,
    /// Mark the session cookie `Secure` (set when served over TLS).
    pub cookie_secure: bool,
    /// How long a session lasts after sign-in.
    pub session_ttl: Duration,
    /// Failed sign-ins allowed per account within `throttle_window`.
    pub max_failures_per_account: i64,
    /// Failed sign-ins allowed per client address within `throttle_window`.
    pub max_failures_per_address: i64,
    /// Window over which failed sign-ins are counted.
    pub throttle_window: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            demo: false,
            cookie_secure: false,
            session_ttl: Duration::from_secs(12 * 3600),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            throttle_window: Duration::from_secs(15 * 60),
        }
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    /// Leptos settings (site root, address, output name).
    pub leptos_options: LeptosOptions,
    /// The one SQLite pool.
    pub pool: SqlitePool,
    /// Runtime settings.
    pub config: Arc<Config>,
}
