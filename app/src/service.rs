//! Server-only code: state, authentication, the database layer and demo data.

pub mod ab_tests;
pub mod accounts;
pub mod artifact_checks;
pub mod artifact_store;
pub mod artifacts;
pub mod audit_export;
pub mod auth;
pub mod charts;
pub mod context;
pub mod cookies;
pub mod demo;
pub mod fairness;
pub mod home;
pub mod jobs;
pub mod lineage;
pub mod logged_models;
pub mod mlmodel;
pub mod promotions;
pub mod registry;
pub mod sign_in_throttle;
pub mod signing;
pub mod sso;
pub mod state;
pub mod tracking;
pub mod webhooks;

/// The current UTC time in the stored timestamp form.
pub fn now_ts() -> String {
    crate::domain::audit_chain::format_ts(time::OffsetDateTime::now_utc())
}

/// Milliseconds since the epoch in the stored timestamp form.
pub fn ts_of_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    crate::domain::audit_chain::format_ts(t)
}

/// The current time in milliseconds since the epoch, as MLflow stores times.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Appends `principal`'s audit entry for `action` on `(object_type, object_id)` to the
/// transaction holding the change, then commits both: a change and its record land together.
pub(crate) async fn audit_and_commit(
    mut tx: crate::store::WriteTx,
    principal: &auth::Principal,
    action: &str,
    (object_type, object_id): (&str, &str),
    details: serde_json::Value,
) -> Result<(), crate::error::AppError> {
    let entry = crate::store::audit::NewEntry::new(
        principal.actor(),
        action,
        object_type,
        object_id,
        details,
    );
    crate::store::audit::append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Records a verification of the audit trail by `by`; a failed one is also a webhook event
/// (`audit.verification_failed`), in the same transaction.
pub async fn record_verification(
    pool: &crate::store::Pool,
    by: &str,
    report: &crate::dto::VerifyReport,
) -> Result<(), crate::error::AppError> {
    let mut tx = crate::store::begin_write(pool).await?;
    crate::store::home::record_verification(&mut tx, by, report).await?;
    if !report.ok {
        let data = serde_json::json!({
            "actor": by, "first_bad_seq": report.first_bad_seq, "reason": report.message,
        });
        let kind = crate::domain::webhooks::EventKind::AUDIT_VERIFICATION_FAILED;
        webhooks::emit(&mut tx, kind, data, Some("/audit")).await?;
    }
    tx.commit().await?;
    Ok(())
}
