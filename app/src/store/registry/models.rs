//! Registered models: create, tags, description, risk tier, read and search.

use super::check_name;
use super::ModelRow;
use super::RegisteredModel;
use super::MAX_NAME;
use super::MODEL_COLUMNS;
use crate::error::AppError;
use crate::store::{Conn, Pool};

/// Creates a registered model.
pub async fn create_model(
    conn: &mut Conn,
    name: &str,
    description: &str,
    tags: &[(String, String)],
    by: &str,
    now: i64,
) -> Result<(), AppError> {
    let name = check_name(name)?;
    let done = sqlx::query(
        "INSERT INTO registered_models (name, description, created_by, creation_time, last_updated_time) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(description)
    .bind(by)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::conflict(format!(
            "Registered Model (name={name}) already exists."
        )));
    }
    for (k, v) in tags {
        set_model_tag(conn, name, k, v, now).await?;
    }
    Ok(())
}

pub(super) fn check_key(key: &str) -> Result<(), AppError> {
    if key.trim().is_empty() || key.len() > MAX_NAME {
        return Err(AppError::validation(
            "key",
            format!("tag key must be 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(())
}

/// Sets a tag of a registered model.
pub async fn set_model_tag(
    conn: &mut Conn,
    name: &str,
    key: &str,
    value: &str,
    now: i64,
) -> Result<(), AppError> {
    check_key(key)?;
    require_model(conn, name).await?;
    sqlx::query(
        "INSERT INTO registered_model_tags (name, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(key)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    touch_model(conn, name, now).await
}

/// Deletes a tag of a registered model.
pub async fn delete_model_tag(
    conn: &mut Conn,
    name: &str,
    key: &str,
    now: i64,
) -> Result<(), AppError> {
    require_model(conn, name).await?;
    sqlx::query("DELETE FROM registered_model_tags WHERE name = $1 AND key = $2")
        .bind(name)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    touch_model(conn, name, now).await
}

pub(super) async fn touch_model(conn: &mut Conn, name: &str, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE registered_models SET last_updated_time = $1 WHERE name = $2")
        .bind(now)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn require_model(conn: &mut Conn, name: &str) -> Result<(), AppError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM registered_models WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| AppError::not_found(format!("Registered Model with name={name} not found")))
}

/// Changes a registered model's description.
pub async fn update_model(
    conn: &mut Conn,
    name: &str,
    description: &str,
    now: i64,
) -> Result<(), AppError> {
    require_model(conn, name).await?;
    sqlx::query(
        "UPDATE registered_models SET description = $1, last_updated_time = $2 WHERE name = $3",
    )
    .bind(description)
    .bind(now)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets a model's risk tier.
pub async fn set_risk_tier(
    conn: &mut Conn,
    name: &str,
    tier: &str,
    now: i64,
) -> Result<String, AppError> {
    if !crate::domain::promotion::RISK_TIERS.contains(&tier) {
        return Err(AppError::validation(
            "risk_tier",
            format!("'{tier}' is not a risk tier (low, medium or high)"),
        ));
    }
    let before: Option<String> =
        sqlx::query_scalar("SELECT risk_tier FROM registered_models WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    let before = before.ok_or_else(|| {
        AppError::not_found(format!("Registered Model with name={name} not found"))
    })?;
    sqlx::query(
        "UPDATE registered_models SET risk_tier = $1, last_updated_time = $2 WHERE name = $3",
    )
    .bind(tier)
    .bind(now)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    Ok(before)
}

async fn model_extras(pool: &Pool, row: ModelRow) -> Result<RegisteredModel, sqlx::Error> {
    let tags =
        sqlx::query_as("SELECT key, value FROM registered_model_tags WHERE name = $1 ORDER BY key")
            .bind(&row.name)
            .fetch_all(pool)
            .await?;
    let aliases =
        sqlx::query_as("SELECT alias, version FROM model_aliases WHERE name = $1 ORDER BY alias")
            .bind(&row.name)
            .fetch_all(pool)
            .await?;
    Ok(RegisteredModel {
        name: row.name,
        description: row.description,
        risk_tier: row.risk_tier,
        created_by: row.created_by,
        creation_time: row.creation_time,
        last_updated_time: row.last_updated_time,
        tags,
        aliases,
        version_count: row.version_count,
        latest_version: row.latest_version,
    })
}

/// One registered model.
pub async fn get_model(pool: &Pool, name: &str) -> Result<Option<RegisteredModel>, sqlx::Error> {
    let row: Option<ModelRow> = sqlx::query_as(&format!(
        "SELECT {MODEL_COLUMNS} FROM registered_models m WHERE m.name = $1"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(model_extras(pool, r).await?)),
    }
}

/// Registered models whose name matches the SQL LIKE `pattern` (`%` for all), by name.
pub async fn search_models(
    pool: &Pool,
    pattern: &str,
    case_insensitive: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<RegisteredModel>, sqlx::Error> {
    let cmp = if case_insensitive {
        "lower(m.name) LIKE lower($1)"
    } else {
        "m.name LIKE $1"
    };
    let rows: Vec<ModelRow> = sqlx::query_as(&format!(
        "SELECT {MODEL_COLUMNS} FROM registered_models m WHERE {cmp} ORDER BY m.name LIMIT $2 OFFSET $3"
    ))
    .bind(pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(model_extras(pool, r).await?);
    }
    Ok(out)
}
