//! Aliases: which version each serves, moves with their history, and where an alias
//! pointed at a time.

use super::require_model;
use super::require_version;
use super::touch_model;
use super::AliasMove;
use crate::error::AppError;
use crate::store::{Conn, Pool};

/// The version an alias serves now.
pub async fn alias_version(
    conn: &mut Conn,
    name: &str,
    alias: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM model_aliases WHERE name = $1 AND alias = $2")
        .bind(name)
        .bind(alias)
        .fetch_optional(&mut *conn)
        .await
}

/// Points `alias` at `version` (recording the move); returns the version it served before.
#[allow(clippy::too_many_arguments)]
pub async fn set_alias(
    conn: &mut Conn,
    name: &str,
    alias: &str,
    version: i64,
    by: &str,
    now: i64,
    promotion_id: Option<i64>,
    note: &str,
) -> Result<Option<i64>, AppError> {
    require_version(conn, name, version).await?;
    let before = alias_version(conn, name, alias).await?;
    sqlx::query(
        "INSERT INTO model_aliases (name, alias, version, set_by, set_at, promotion_id) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, set_by = excluded.set_by, \
         set_at = excluded.set_at, promotion_id = excluded.promotion_id",
    )
    .bind(name)
    .bind(alias)
    .bind(version)
    .bind(by)
    .bind(now)
    .bind(promotion_id)
    .execute(&mut *conn)
    .await?;
    record_move(
        conn,
        name,
        alias,
        Some(version),
        before,
        by,
        now,
        promotion_id,
        note,
    )
    .await?;
    touch_model(conn, name, now).await?;
    Ok(before)
}

/// Removes an alias (recording the move); returns the version it served.
pub async fn delete_alias(
    conn: &mut Conn,
    name: &str,
    alias: &str,
    by: &str,
    now: i64,
) -> Result<i64, AppError> {
    require_model(conn, name).await?;
    let before = alias_version(conn, name, alias)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Registered model alias {alias} not found.")))?;
    sqlx::query("DELETE FROM model_aliases WHERE name = $1 AND alias = $2")
        .bind(name)
        .bind(alias)
        .execute(&mut *conn)
        .await?;
    record_move(
        conn,
        name,
        alias,
        None,
        Some(before),
        by,
        now,
        None,
        "removed",
    )
    .await?;
    touch_model(conn, name, now).await?;
    Ok(before)
}

#[allow(clippy::too_many_arguments)]
async fn record_move(
    conn: &mut Conn,
    name: &str,
    alias: &str,
    version: Option<i64>,
    previous: Option<i64>,
    by: &str,
    now: i64,
    promotion_id: Option<i64>,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO alias_history (name, alias, version, previous_version, moved_by, moved_at, promotion_id, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(name)
    .bind(alias)
    .bind(version)
    .bind(previous)
    .bind(by)
    .bind(now)
    .bind(promotion_id)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every move of a model's aliases (one alias if given), oldest first.
pub async fn alias_history(
    pool: &Pool,
    name: &str,
    alias: Option<&str>,
) -> Result<Vec<AliasMove>, sqlx::Error> {
    sqlx::query_as(
        "SELECT move_id, name, alias, version, previous_version, moved_by, moved_at, promotion_id, note \
         FROM alias_history WHERE name = $1 AND ($2 IS NULL OR alias = $2) ORDER BY moved_at, move_id",
    )
    .bind(name)
    .bind(alias)
    .fetch_all(pool)
    .await
}

/// The move in force for `alias` at `at_ms` (the last one at or before it), if any.
pub async fn alias_at(
    pool: &Pool,
    name: &str,
    alias: &str,
    at_ms: i64,
) -> Result<Option<AliasMove>, sqlx::Error> {
    sqlx::query_as(
        "SELECT move_id, name, alias, version, previous_version, moved_by, moved_at, promotion_id, note \
         FROM alias_history WHERE name = $1 AND alias = $2 AND moved_at <= $3 ORDER BY moved_at DESC, move_id DESC LIMIT 1",
    )
    .bind(name)
    .bind(alias)
    .bind(at_ms)
    .fetch_optional(pool)
    .await
}

/// Every alias currently set, as (model, alias, version), for the lineage graph.
pub async fn all_aliases(pool: &Pool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT name, alias, version FROM model_aliases ORDER BY name, alias")
        .fetch_all(pool)
        .await
}

/// The aliases pointing at a version, each with when it last moved there.
pub async fn aliases_of_version(
    conn: &mut Conn,
    name: &str,
    version: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.alias, coalesce((SELECT max(h.moved_at) FROM alias_history h WHERE h.name = a.name AND h.alias = a.alias AND h.version = a.version), a.set_at) \
         FROM model_aliases a WHERE a.name = $1 AND a.version = $2 ORDER BY a.alias",
    )
    .bind(name)
    .bind(version)
    .fetch_all(conn)
    .await
}
