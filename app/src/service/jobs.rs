//! The periodic jobs, each run by one server of a database at a time: whichever holds the
//! job's lease (`store::leases`) runs it; the others skip their tick. A holder renews its lease
//! at every tick, well inside the lease's life; a server that stops lets it lapse, and another
//! takes the job over at its next tick.

use crate::domain::throttle;
use crate::service::{now_ms, now_ts, promotions, sign_in_throttle, signing};
use crate::store::Pool;
use crate::store::{leases, sessions};
use std::time::Duration;

/// The minute jobs' lease: promotion expiry, sign-in reports and the audit checkpoint.
pub const MINUTE_JOBS: &str = "minute-jobs";
/// How often the minute jobs run.
pub const MINUTE: Duration = Duration::from_secs(60);
/// The hourly sweep of expired sessions' lease.
pub const SESSION_SWEEP: &str = "session-sweep";
/// How often expired sessions are swept.
pub const HOUR: Duration = Duration::from_secs(3600);

/// A name for this server as a lease holder, unique among the servers of a database.
pub fn holder_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    format!(
        "{host}:{}:{}",
        std::process::id(),
        &crate::service::auth::random_secret()[..8]
    )
}

/// Whether `holder` holds (or has now taken) the lease on `job`, for one and a half periods.
async fn leased(pool: &Pool, job: &str, holder: &str, period: Duration) -> bool {
    let ttl = i64::try_from(period.as_millis() * 3 / 2).unwrap_or(i64::MAX);
    match leases::acquire(pool, job, holder, now_ms(), ttl).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, job, "taking the job's lease failed");
            false
        }
    }
}

/// One tick of the minute jobs, if `holder` holds their lease: stale promotion requests
/// expire (audited), failed sign-ins are reported to the audit trail, and a signed checkpoint
/// of the trail is made if it has grown. Returns whether they ran here.
pub async fn minute(pool: &Pool, throttle: throttle::Policy, holder: &str) -> bool {
    if !leased(pool, MINUTE_JOBS, holder, MINUTE).await {
        return false;
    }
    match promotions::expire(pool).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "stale promotion requests expired"),
        Err(e) => tracing::warn!(error = %e, "expiring promotion requests failed"),
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match sign_in_throttle::report_failed_sign_ins(pool, throttle, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(windows = n, "failed sign-ins reported to the audit trail"),
        Err(e) => tracing::warn!(error = %e, "reporting failed sign-ins failed"),
    }
    if let Err(e) = signing::checkpoint_now(pool).await {
        tracing::warn!(error = %e, "signing an audit checkpoint failed");
    }
    true
}

/// One tick of the session sweep, if `holder` holds its lease: expired sessions and sign-ins
/// never completed at the identity provider are removed (reads already ignore them). Returns
/// whether it ran here.
pub async fn hourly(pool: &Pool, holder: &str) -> bool {
    if !leased(pool, SESSION_SWEEP, holder, HOUR).await {
        return false;
    }
    if let Err(e) = sessions::purge_expired(pool, &now_ts()).await {
        tracing::warn!(error = %e, "purging expired sessions failed");
    }
    if let Err(e) = crate::store::sso::sweep_logins(pool, &now_ts()).await {
        tracing::warn!(error = %e, "purging abandoned single sign-ons failed");
    }
    true
}

/// Gives this server's leases up (at shutdown), so the others take the jobs at their next tick.
pub async fn release_all(pool: &Pool, holder: &str) {
    for job in [MINUTE_JOBS, SESSION_SWEEP] {
        if let Err(e) = leases::release(pool, job, holder).await {
            tracing::warn!(error = %e, job, "giving the job's lease up failed");
        }
    }
}
