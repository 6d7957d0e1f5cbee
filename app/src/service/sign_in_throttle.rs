//! Sign-in throttling ([`crate::domain::throttle`]) against the store: the wait before an
//! attempt, the count after a failure, and the failure windows reported to the audit trail.

use super::state::AppState;
use crate::domain::throttle::{self, Rule};
use crate::error::AppError;
use crate::store as db;
use crate::store::audit::NewEntry;

/// One throttling key: scope (`pair`, `account` or `address`), key, and its allowance.
pub type Key<'a> = (&'static str, &'a str, Rule);

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Refuses an attempt made within any key's delay: 429 with the seconds left. Such an
/// attempt is not a failure, is not counted and checks no password.
pub async fn check(state: &AppState, keys: &[Key<'_>]) -> Result<(), AppError> {
    let policy = state.config.throttle;
    let now = unix_now();
    let scoped: Vec<(&str, &str)> = keys.iter().map(|(s, k, _)| (*s, *k)).collect();
    let counts = db::login_limits::counters(&state.pool, &scoped).await?;
    let wait = keys
        .iter()
        .zip(&counts)
        .filter_map(|((_, _, rule), c)| {
            c.map(|(n, last)| throttle::wait(n, last, now, *rule, policy.window_secs))
        })
        .max()
        .unwrap_or(0);
    if wait > 0 {
        return Err(AppError::TooManyRequests {
            message: format!(
                "too many failed sign-in attempts; try again in {wait} second{}",
                if wait == 1 { "" } else { "s" }
            ),
            retry_after_secs: wait as u64,
        });
    }
    Ok(())
}

/// Counts a failed sign-in under each key, and in the account's window for the audit trail
/// (`account` is `*` for names that are no account).
pub async fn record_failure(
    state: &AppState,
    keys: &[Key<'_>],
    account: &str,
    client: &str,
) -> Result<(), AppError> {
    let window = state.config.throttle.window_secs;
    let at = unix_now();
    let mut tx = db::begin_write(&state.pool).await?;
    for (scope, key, _) in keys {
        db::login_limits::record(&mut tx, scope, key, at, window).await?;
    }
    db::login_limits::add_to_window(&mut tx, account, throttle::window_start(at, window), client)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Reports each closed window of failed sign-ins as one audit entry
/// (`auth.sign_in_failures`: the account or `*`, the count, up to ten addresses) and drops
/// counters that no longer apply; returns how many entries were written. Run each minute.
pub async fn report_failed_sign_ins(
    pool: &crate::store::Pool,
    policy: throttle::Policy,
    now: i64,
) -> Result<usize, AppError> {
    let current = throttle::window_start(now, policy.window_secs);
    let mut tx = db::begin_write(pool).await?;
    let closed = db::login_limits::closed_windows(&mut tx, current).await?;
    for (account, start, failures, addresses) in &closed {
        let addresses: serde_json::Value =
            serde_json::from_str(addresses).unwrap_or(serde_json::json!([]));
        let fmt = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .map(crate::domain::audit_chain::format_ts)
                .unwrap_or_default()
        };
        db::audit::append(
            &mut tx,
            NewEntry::new(
                "anonymous",
                "auth.sign_in_failures",
                "user",
                account,
                serde_json::json!({
                    "failures": failures,
                    "from": fmt(*start),
                    "to": fmt(start + policy.window_secs),
                    "addresses": addresses,
                    "unknown_accounts": account == "*",
                }),
            ),
        )
        .await?;
        db::login_limits::delete_window(&mut tx, account, *start).await?;
    }
    db::login_limits::prune(&mut tx, now - policy.window_secs).await?;
    tx.commit().await?;
    Ok(closed.len())
}
