//! The `api_tokens` table; tokens are stored as SHA-256 hashes and shown once.

pub use crate::dto::TokenSummary;
use crate::store::{Backend, Conn, DriverError, Flag, Pool};

/// Stores a new token hash; returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut Conn,
    user_id: i64,
    name: &str,
    token_hash: &str,
    prefix: &str,
    now: &str,
    created_by: &str,
    self_issued: bool,
    expires_at: Option<&str>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, created_by, self_issued, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(token_hash)
    .bind(prefix)
    .bind(now)
    .bind(created_by)
    .bind(self_issued)
    .bind(expires_at)
    .fetch_one(conn)
    .await
}

/// A live API token with its owner's name and roles, as one authentication needs them.
#[derive(Debug)]
pub struct LiveToken {
    /// Token id.
    pub id: i64,
    /// Token label.
    pub name: String,
    /// Owner.
    pub user_id: i64,
    /// Last recorded use.
    pub last_used_at: Option<String>,
    /// Owner's user name.
    pub username: String,
    /// Owner's roles, comma-separated.
    pub roles: Option<String>,
    /// Whether the owner created it.
    pub self_issued: bool,
}

/// The live token with this hash, with everything a request's principal needs, in one query:
/// on SQLite on the calling thread (it runs on every API request; see [`super::read_inline`]),
/// on PostgreSQL through the pool.
pub async fn live_by_hash(
    pool: &Pool,
    token_hash: &str,
    now: &str,
) -> Result<Option<LiveToken>, DriverError> {
    const SQL: &str = "SELECT t.id, t.name, t.user_id, t.last_used_at, u.username, \
                (SELECT group_concat(r.role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles, \
                t.self_issued \
         FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled \
           AND (t.expires_at IS NULL OR t.expires_at > $2)";
    if super::backend(pool) == Backend::Postgres {
        type Row = (
            i64,
            String,
            i64,
            Option<String>,
            String,
            Option<String>,
            Flag,
        );
        let row: Option<Row> = sqlx::query_as(SQL)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?;
        return Ok(row.map(
            |(id, name, user_id, last_used_at, username, roles, self_issued)| LiveToken {
                id,
                name,
                user_id,
                last_used_at,
                username,
                roles,
                self_issued: self_issued.0,
            },
        ));
    }
    use rusqlite::OptionalExtension;
    Ok(super::read_inline(pool, |db| {
        db.prepare_cached(SQL)?
            .query_row([token_hash, now], |r| {
                Ok(LiveToken {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    user_id: r.get(2)?,
                    last_used_at: r.get(3)?,
                    username: r.get(4)?,
                    roles: r.get(5)?,
                    self_issued: r.get(6)?,
                })
            })
            .optional()
    })?)
}

/// Records use; at most once a minute per token to keep reads cheap.
pub async fn touch(pool: &Pool, id: i64, now: &str, minute_ago: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
        .bind(now)
        .bind(id)
        .bind(minute_ago)
        .execute(pool)
        .await?;
    Ok(())
}

const SUMMARY: &str = "SELECT t.id, u.username, t.name, t.prefix, t.created_at, t.created_by, \
     t.last_used_at, t.revoked_at, t.expires_at, t.self_issued \
     FROM api_tokens t JOIN users u ON u.id = t.user_id";

/// Every token, newest first.
pub async fn list(pool: &Pool) -> Result<Vec<TokenSummary>, sqlx::Error> {
    sqlx::query_as(&format!("{SUMMARY} ORDER BY t.id DESC"))
        .fetch_all(pool)
        .await
}

/// One user's tokens, newest first.
pub async fn list_for(pool: &Pool, user_id: i64) -> Result<Vec<TokenSummary>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SUMMARY} WHERE t.user_id = $1 ORDER BY t.id DESC"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// A token's owner id and whether it is live, for the revocation gate.
pub async fn owner(conn: &mut Conn, id: i64) -> Result<Option<(i64, bool)>, sqlx::Error> {
    let row: Option<(i64, crate::store::Flag)> =
        sqlx::query_as("SELECT user_id, revoked_at IS NULL FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(user, live)| (user, live.0)))
}

/// Revokes a live token; returns its owner and label, or `None` when there is no live token.
pub async fn revoke(
    conn: &mut Conn,
    id: i64,
    now: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
         RETURNING (SELECT username FROM users WHERE users.id = api_tokens.user_id), name",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(conn)
    .await
}
