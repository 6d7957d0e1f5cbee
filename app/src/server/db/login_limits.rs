//! The `login_failures` table behind sign-in throttling.

use sqlx::{SqliteConnection, SqlitePool};

/// Records a failed attempt under one scope (`account` or `address`).
pub async fn record(
    conn: &mut SqliteConnection,
    scope: &str,
    key: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_failures (scope, key, at) VALUES (?, ?, ?)")
        .bind(scope)
        .bind(key)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Failures for a key since `since` (unix seconds) and the oldest of them.
pub async fn recent(
    pool: &SqlitePool,
    scope: &str,
    key: &str,
    since: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), min(at) FROM login_failures WHERE scope = ? AND key = ? AND at >= ?",
    )
    .bind(scope)
    .bind(key)
    .bind(since)
    .fetch_one(pool)
    .await
}

/// Forgets an account's failures after a successful sign-in, and prunes old rows.
pub async fn clear_account(
    conn: &mut SqliteConnection,
    key: &str,
    older_than: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE (scope = 'account' AND key = ?) OR at < ?")
        .bind(key)
        .bind(older_than)
        .execute(conn)
        .await?;
    Ok(())
}
