//! Read-only share links, and the tests that compare a model version.

use super::ShareLink;
use crate::store::{Conn, Pool};

/// Stores a share link's hash; returns its id.
pub async fn create_share(
    conn: &mut Conn,
    id: i64,
    token_hash: &str,
    actor: &str,
    now: &str,
    expires_at: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO ab_share_links (test_id, token_hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING link_id",
    )
    .bind(id)
    .bind(token_hash)
    .bind(actor)
    .bind(now)
    .bind(expires_at)
    .fetch_one(conn)
    .await
}

/// Revokes a live share link of a test; false when there is none.
pub async fn revoke_share(
    conn: &mut Conn,
    id: i64,
    link_id: i64,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE ab_share_links SET revoked_at = $1 WHERE link_id = $2 AND test_id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(link_id)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// The test a live, unexpired share link opens.
pub async fn shared_test(
    pool: &Pool,
    token_hash: &str,
    now: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT test_id FROM ab_share_links WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// Share links of a test, newest first.
pub async fn shares(pool: &Pool, id: i64) -> Result<Vec<ShareLink>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT link_id, created_by, created_at, expires_at, revoked_at FROM ab_share_links WHERE test_id = $1 ORDER BY link_id DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, created_by, created_at, expires_at, revoked_at)| ShareLink {
                id,
                created_by,
                created_at,
                expires_at,
                revoked_at,
            },
        )
        .collect())
}

/// The A/B tests that compare a model version (`name:version` in a variant), by id.
pub async fn ids_comparing_version(pool: &Pool, tag: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT test_id FROM ab_variants WHERE model_version = $1 ORDER BY test_id",
    )
    .bind(tag)
    .fetch_all(pool)
    .await
}
