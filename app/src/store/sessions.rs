//! The `sessions` table; ids are stored as SHA-256 hashes.

use crate::store::{Backend, Conn, DriverError, Pool};

/// Stores a new session.
pub async fn insert(
    conn: &mut Conn,
    id_hash: &str,
    user_id: i64,
    now: &str,
    expires_at: &str,
    user_agent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, expires_at, user_agent, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .bind(user_agent)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// A live session's user: id, name, comma-separated roles, and when the session last saw a
/// request.
pub type LiveSession = (i64, String, Option<String>, String);

/// The user of a live session (not expired, not idle since `idle_since`, user not disabled), in
/// one query: on SQLite on the calling thread (it runs on every signed-in request; see
/// [`super::read_inline`]), on PostgreSQL through the pool.
pub async fn live_user(
    pool: &Pool,
    id_hash: &str,
    now: &str,
    idle_since: &str,
) -> Result<Option<LiveSession>, DriverError> {
    const SQL: &str = "SELECT u.id, u.username, \
                (SELECT group_concat(r.role, ',') FROM user_roles r WHERE r.user_id = u.id), \
                coalesce(s.last_seen_at, s.created_at) \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND NOT u.disabled \
           AND coalesce(s.last_seen_at, s.created_at) > $3";
    if super::backend(pool) == Backend::Postgres {
        return Ok(sqlx::query_as(SQL)
            .bind(id_hash)
            .bind(now)
            .bind(idle_since)
            .fetch_optional(pool)
            .await?);
    }
    use rusqlite::OptionalExtension;
    Ok(super::read_inline(pool, |db| {
        db.prepare_cached(SQL)?
            .query_row([id_hash, now, idle_since], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
    })?)
}

/// Records activity on a session, at most once a minute (`minute_ago`) to keep reads cheap.
pub async fn touch(
    pool: &Pool,
    id_hash: &str,
    now: &str,
    minute_ago: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND (last_seen_at IS NULL OR last_seen_at < $3)")
        .bind(now)
        .bind(id_hash)
        .bind(minute_ago)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes a session; returns its user id if it existed.
pub async fn delete(conn: &mut Conn, id_hash: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM sessions WHERE id_hash = $1 RETURNING user_id")
        .bind(id_hash)
        .fetch_optional(conn)
        .await
}

/// Removes expired sessions; returns how many.
pub async fn purge_expired(pool: &Pool, now: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected())
}

/// Ends every session of a user; returns how many there were.
pub async fn delete_for_user(conn: &mut Conn, user_id: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
