//! Server-only code: state, authentication, the database layer and demo data.

pub mod ab_tests;
pub mod accounts;
pub mod artifact_checks;
pub mod artifact_store;
pub mod audit_export;
pub mod auth;
pub mod charts;
pub mod context;
pub mod cookies;
pub mod demo;
pub mod fairness;
pub mod home;
pub mod mlmodel;
pub mod promotions;
pub mod sign_in_throttle;
pub mod signing;
pub mod state;
pub mod tracking;

/// The current UTC time in the stored timestamp form.
pub fn now_ts() -> String {
    crate::domain::audit_chain::format_ts(time::OffsetDateTime::now_utc())
}

/// The current time in milliseconds since the epoch, as MLflow stores times.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
