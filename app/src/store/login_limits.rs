//! The `login_throttle` counters and the `login_failure_windows` behind sign-in throttling
//! ([`crate::domain::throttle`]).

use crate::store::{Conn, Pool};

/// The counters of these (scope, key) pairs: failures and the last failure's unix time.
pub async fn counters(
    pool: &Pool,
    keys: &[(&str, &str)],
) -> Result<Vec<Option<(u32, i64)>>, sqlx::Error> {
    let mut out = Vec::with_capacity(keys.len());
    for (scope, key) in keys {
        out.push(
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT failures, last_failure FROM login_throttle WHERE scope = $1 AND key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(pool)
            .await?
            .map(|(f, l)| (u32::try_from(f).unwrap_or(u32::MAX), l)),
        );
    }
    Ok(out)
}

/// Counts one failure of a key at `at`; a count quiet for `window_secs` starts again.
pub async fn record(
    conn: &mut Conn,
    scope: &str,
    key: &str,
    at: i64,
    window_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_throttle (scope, key, failures, last_failure) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (scope, key) DO UPDATE SET \
           failures = CASE WHEN excluded.last_failure - login_throttle.last_failure >= $4 THEN 1 ELSE login_throttle.failures + 1 END, \
           last_failure = excluded.last_failure",
    )
    .bind(scope)
    .bind(key)
    .bind(at)
    .bind(window_secs)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets a key's failures (after a successful sign-in).
pub async fn clear(conn: &mut Conn, scope: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Most addresses a window keeps for its audit entry.
pub const MAX_WINDOW_ADDRESSES: usize = 10;

/// Adds one failure to an account's window, remembering up to [`MAX_WINDOW_ADDRESSES`]
/// distinct client addresses.
pub async fn add_to_window(
    conn: &mut Conn,
    account: &str,
    window_start: i64,
    client: &str,
) -> Result<(), sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT addresses FROM login_failure_windows WHERE account = $1 AND window_start = $2",
    )
    .bind(account)
    .bind(window_start)
    .fetch_optional(&mut *conn)
    .await?;
    let mut addresses: Vec<String> = row
        .and_then(|(a,)| serde_json::from_str(&a).ok())
        .unwrap_or_default();
    if addresses.len() < MAX_WINDOW_ADDRESSES && !addresses.iter().any(|a| a == client) {
        addresses.push(client.to_owned());
    }
    let addresses = serde_json::to_string(&addresses).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO login_failure_windows (account, window_start, failures, addresses) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (account, window_start) DO UPDATE SET failures = login_failure_windows.failures + 1, addresses = excluded.addresses",
    )
    .bind(account)
    .bind(window_start)
    .bind(addresses)
    .execute(conn)
    .await?;
    Ok(())
}

/// A closed window: account, start, failures and the addresses seen (JSON array).
pub type Window = (String, i64, i64, String);

/// Windows that started before `before`, oldest first.
pub async fn closed_windows(conn: &mut Conn, before: i64) -> Result<Vec<Window>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account, window_start, failures, addresses FROM login_failure_windows \
         WHERE window_start < $1 ORDER BY window_start, account",
    )
    .bind(before)
    .fetch_all(conn)
    .await
}

/// Removes a reported window.
pub async fn delete_window(
    conn: &mut Conn,
    account: &str,
    window_start: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failure_windows WHERE account = $1 AND window_start = $2")
        .bind(account)
        .bind(window_start)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops counters quiet since `before` (unix seconds): they no longer apply.
pub async fn prune(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM login_throttle WHERE last_failure < $1")
            .bind(before)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
