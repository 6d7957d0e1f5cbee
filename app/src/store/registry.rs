//! The model registry tables: registered models, versions, tags, aliases and alias history.

pub use crate::dto::registry::{AliasMove, ModelVersion, RegisteredModel};
use crate::error::AppError;
use sqlx::{SqliteConnection, SqlitePool};

#[derive(sqlx::FromRow)]
struct ModelRow {
    name: String,
    description: String,
    risk_tier: String,
    created_by: String,
    creation_time: i64,
    last_updated_time: i64,
    version_count: i64,
    latest_version: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    name: String,
    version: i64,
    source: String,
    run_id: Option<String>,
    model_id: Option<String>,
    run_link: String,
    description: String,
    user_id: String,
    creation_time: i64,
    last_updated_time: i64,
}

const MODEL_COLUMNS: &str =
    "m.name, m.description, m.risk_tier, m.created_by, m.creation_time, m.last_updated_time, \
     (SELECT count(*) FROM model_versions v WHERE v.name = m.name) AS version_count, \
     (SELECT max(version) FROM model_versions v WHERE v.name = m.name) AS latest_version";

/// Longest name, alias or tag key accepted.
pub const MAX_NAME: usize = 256;

/// Validates a registered model name.
pub fn check_name(name: &str) -> Result<&str, AppError> {
    if name.trim().is_empty() {
        return Err(AppError::validation(
            "name",
            "Missing value for required parameter 'name'.",
        ));
    }
    let n = crate::domain::names::check_name(name, MAX_NAME)
        .map_err(|m| AppError::validation("name", format!("the model name {m}")))?;
    if let Some(c) = n.chars().find(|c| matches!(c, '/' | '@' | ':')) {
        return Err(AppError::validation(
            "name",
            format!("the model name contains '{c}', which model names may not (it separates name, version and alias)"),
        ));
    }
    Ok(n)
}

/// Creates a registered model.
pub async fn create_model(
    conn: &mut SqliteConnection,
    name: &str,
    description: &str,
    tags: &[(String, String)],
    by: &str,
    now: i64,
) -> Result<(), AppError> {
    let name = check_name(name)?;
    let done = sqlx::query(
        "INSERT INTO registered_models (name, description, created_by, creation_time, last_updated_time) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
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

fn check_key(key: &str) -> Result<(), AppError> {
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
    conn: &mut SqliteConnection,
    name: &str,
    key: &str,
    value: &str,
    now: i64,
) -> Result<(), AppError> {
    check_key(key)?;
    require_model(conn, name).await?;
    sqlx::query(
        "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?) \
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
    conn: &mut SqliteConnection,
    name: &str,
    key: &str,
    now: i64,
) -> Result<(), AppError> {
    require_model(conn, name).await?;
    sqlx::query("DELETE FROM registered_model_tags WHERE name = ? AND key = ?")
        .bind(name)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    touch_model(conn, name, now).await
}

async fn touch_model(conn: &mut SqliteConnection, name: &str, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE registered_models SET last_updated_time = ? WHERE name = ?")
        .bind(now)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn require_model(conn: &mut SqliteConnection, name: &str) -> Result<(), AppError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM registered_models WHERE name = ?")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| AppError::not_found(format!("Registered Model with name={name} not found")))
}

/// Changes a registered model's description.
pub async fn update_model(
    conn: &mut SqliteConnection,
    name: &str,
    description: &str,
    now: i64,
) -> Result<(), AppError> {
    require_model(conn, name).await?;
    sqlx::query(
        "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?",
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
    conn: &mut SqliteConnection,
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
        sqlx::query_scalar("SELECT risk_tier FROM registered_models WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    let before = before.ok_or_else(|| {
        AppError::not_found(format!("Registered Model with name={name} not found"))
    })?;
    sqlx::query("UPDATE registered_models SET risk_tier = ?, last_updated_time = ? WHERE name = ?")
        .bind(tier)
        .bind(now)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(before)
}

async fn model_extras(pool: &SqlitePool, row: ModelRow) -> Result<RegisteredModel, sqlx::Error> {
    let tags =
        sqlx::query_as("SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key")
            .bind(&row.name)
            .fetch_all(pool)
            .await?;
    let aliases =
        sqlx::query_as("SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias")
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
pub async fn get_model(
    pool: &SqlitePool,
    name: &str,
) -> Result<Option<RegisteredModel>, sqlx::Error> {
    let row: Option<ModelRow> = sqlx::query_as(&format!(
        "SELECT {MODEL_COLUMNS} FROM registered_models m WHERE m.name = ?"
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
    pool: &SqlitePool,
    pattern: &str,
    case_insensitive: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<RegisteredModel>, sqlx::Error> {
    let cmp = if case_insensitive {
        "lower(m.name) LIKE lower(?)"
    } else {
        "m.name LIKE ?"
    };
    let rows: Vec<ModelRow> = sqlx::query_as(&format!(
        "SELECT {MODEL_COLUMNS} FROM registered_models m WHERE {cmp} ORDER BY m.name LIMIT ? OFFSET ?"
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

/// Registers a new version (the next number); returns it.
#[allow(clippy::too_many_arguments)]
pub async fn create_version(
    conn: &mut SqliteConnection,
    name: &str,
    source: &str,
    run_id: Option<&str>,
    model_id: Option<&str>,
    run_link: &str,
    description: &str,
    tags: &[(String, String)],
    by: &str,
    now: i64,
) -> Result<i64, AppError> {
    require_model(conn, name).await?;
    if source.trim().is_empty() {
        return Err(AppError::validation(
            "source",
            "Missing value for required parameter 'source'.",
        ));
    }
    // A logged model, named or as the source `models:/m-…`: it must exist, and lends the
    // version its run when none is given.
    let model_id = model_id
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .or_else(|| {
            source
                .trim()
                .strip_prefix("models:/")
                .filter(|m| crate::domain::artifacts::is_model_id(m))
        });
    let mut model_run: Option<String> = None;
    if let Some(m) = model_id {
        let found: Option<(Option<String>, String)> = sqlx::query_as(
            "SELECT source_run_id, lifecycle_stage FROM logged_models WHERE model_id = ?",
        )
        .bind(m)
        .fetch_optional(&mut *conn)
        .await?;
        match found {
            Some((run, stage)) if stage == "active" => model_run = run,
            _ => {
                return Err(AppError::validation(
                    "model_id",
                    format!("Logged model with ID '{m}' not found"),
                ))
            }
        }
    }
    let run_id = run_id
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .or(model_run.as_deref());
    if let Some(r) = run_id {
        let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM runs WHERE run_uuid = ?")
            .bind(r)
            .fetch_optional(&mut *conn)
            .await?;
        if known.is_none() {
            return Err(AppError::validation(
                "run_id",
                format!("Run with id={r} not found: log the training run before registering it"),
            ));
        }
    }
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO model_versions (name, version, source, run_id, run_link, description, user_id, creation_time, last_updated_time, model_id) \
         SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8 FROM model_versions WHERE name = ?1 \
         RETURNING version",
    )
    .bind(name)
    .bind(source.trim())
    .bind(run_id)
    .bind(run_link)
    .bind(description)
    .bind(by)
    .bind(now)
    .bind(model_id)
    .fetch_one(&mut *conn)
    .await?;
    for (k, v) in tags {
        set_version_tag(conn, name, version, k, v, now).await?;
    }
    touch_model(conn, name, now).await?;
    Ok(version)
}

async fn require_version(
    conn: &mut SqliteConnection,
    name: &str,
    version: i64,
) -> Result<(), AppError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM model_versions WHERE name = ? AND version = ?")
            .bind(name)
            .bind(version)
            .fetch_optional(&mut *conn)
            .await?;
    found.map(|_| ()).ok_or_else(|| {
        AppError::not_found(format!(
            "Model Version (name={name}, version={version}) not found"
        ))
    })
}

/// Sets a tag of a version.
pub async fn set_version_tag(
    conn: &mut SqliteConnection,
    name: &str,
    version: i64,
    key: &str,
    value: &str,
    now: i64,
) -> Result<(), AppError> {
    check_key(key)?;
    require_version(conn, name, version).await?;
    sqlx::query(
        "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?) \
         ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(version)
    .bind(key)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE model_versions SET last_updated_time = ? WHERE name = ? AND version = ?")
        .bind(now)
        .bind(name)
        .bind(version)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes a tag of a version.
pub async fn delete_version_tag(
    conn: &mut SqliteConnection,
    name: &str,
    version: i64,
    key: &str,
) -> Result<(), AppError> {
    require_version(conn, name, version).await?;
    sqlx::query("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?")
        .bind(name)
        .bind(version)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Changes a version's description.
pub async fn update_version(
    conn: &mut SqliteConnection,
    name: &str,
    version: i64,
    description: &str,
    now: i64,
) -> Result<(), AppError> {
    require_version(conn, name, version).await?;
    sqlx::query(
        "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?",
    )
    .bind(description)
    .bind(now)
    .bind(name)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn version_extras(pool: &SqlitePool, r: VersionRow) -> Result<ModelVersion, sqlx::Error> {
    let tags = sqlx::query_as(
        "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key",
    )
    .bind(&r.name)
    .bind(r.version)
    .fetch_all(pool)
    .await?;
    let aliases = sqlx::query_scalar(
        "SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias",
    )
    .bind(&r.name)
    .bind(r.version)
    .fetch_all(pool)
    .await?;
    Ok(ModelVersion {
        name: r.name,
        version: r.version,
        source: r.source,
        run_id: r.run_id,
        model_id: r.model_id,
        run_link: r.run_link,
        description: r.description,
        user_id: r.user_id,
        creation_time: r.creation_time,
        last_updated_time: r.last_updated_time,
        tags,
        aliases,
    })
}

const VERSION_COLUMNS: &str = "name, version, source, run_id, model_id, run_link, description, user_id, creation_time, last_updated_time";

/// One version.
pub async fn get_version(
    pool: &SqlitePool,
    name: &str,
    version: i64,
) -> Result<Option<ModelVersion>, sqlx::Error> {
    let row: Option<VersionRow> = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM model_versions WHERE name = ? AND version = ?"
    ))
    .bind(name)
    .bind(version)
    .fetch_optional(pool)
    .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(version_extras(pool, r).await?)),
    }
}

/// A condition of a version search.
#[derive(Clone, Debug, PartialEq)]
pub enum VersionFilter {
    /// `name = 'x'`.
    NameEq(String),
    /// `name LIKE 'x%'` (or ILIKE when the flag is set).
    NameLike(String, bool),
    /// `run_id = 'x'` / `run_id IN (…)`.
    RunIdIn(Vec<String>),
    /// `source_path = 'x'`.
    SourceEq(String),
}

/// Versions matching every filter, newest first within a model (MLflow's default order).
pub async fn search_versions(
    pool: &SqlitePool,
    filters: &[VersionFilter],
    limit: i64,
    offset: i64,
) -> Result<Vec<ModelVersion>, sqlx::Error> {
    let mut sql = format!("SELECT {VERSION_COLUMNS} FROM model_versions WHERE 1 = 1");
    let mut binds: Vec<String> = Vec::new();
    for f in filters {
        match f {
            VersionFilter::NameEq(n) => {
                sql.push_str(" AND name = ?");
                binds.push(n.clone());
            }
            VersionFilter::NameLike(p, ci) => {
                sql.push_str(if *ci {
                    " AND lower(name) LIKE lower(?)"
                } else {
                    " AND name LIKE ?"
                });
                binds.push(p.clone());
            }
            VersionFilter::RunIdIn(ids) => {
                sql.push_str(" AND run_id IN (SELECT value FROM json_each(?))");
                binds.push(serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()));
            }
            VersionFilter::SourceEq(s) => {
                sql.push_str(" AND source = ?");
                binds.push(s.clone());
            }
        }
    }
    sql.push_str(" ORDER BY name, version DESC LIMIT ? OFFSET ?");
    let mut q = sqlx::query_as::<_, VersionRow>(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.bind(limit).bind(offset).fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(version_extras(pool, r).await?);
    }
    Ok(out)
}

/// The version an alias serves now.
pub async fn alias_version(
    conn: &mut SqliteConnection,
    name: &str,
    alias: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM model_aliases WHERE name = ? AND alias = ?")
        .bind(name)
        .bind(alias)
        .fetch_optional(&mut *conn)
        .await
}

/// Points `alias` at `version` (recording the move); returns the version it served before.
#[allow(clippy::too_many_arguments)]
pub async fn set_alias(
    conn: &mut SqliteConnection,
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
        "INSERT INTO model_aliases (name, alias, version, set_by, set_at, promotion_id) VALUES (?, ?, ?, ?, ?, ?) \
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
    conn: &mut SqliteConnection,
    name: &str,
    alias: &str,
    by: &str,
    now: i64,
) -> Result<i64, AppError> {
    require_model(conn, name).await?;
    let before = alias_version(conn, name, alias)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Registered model alias {alias} not found.")))?;
    sqlx::query("DELETE FROM model_aliases WHERE name = ? AND alias = ?")
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
    conn: &mut SqliteConnection,
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
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
    pool: &SqlitePool,
    name: &str,
    alias: Option<&str>,
) -> Result<Vec<AliasMove>, sqlx::Error> {
    sqlx::query_as(
        "SELECT move_id, name, alias, version, previous_version, moved_by, moved_at, promotion_id, note \
         FROM alias_history WHERE name = ?1 AND (?2 IS NULL OR alias = ?2) ORDER BY moved_at, move_id",
    )
    .bind(name)
    .bind(alias)
    .fetch_all(pool)
    .await
}

/// The move in force for `alias` at `at_ms` (the last one at or before it), if any.
pub async fn alias_at(
    pool: &SqlitePool,
    name: &str,
    alias: &str,
    at_ms: i64,
) -> Result<Option<AliasMove>, sqlx::Error> {
    sqlx::query_as(
        "SELECT move_id, name, alias, version, previous_version, moved_by, moved_at, promotion_id, note \
         FROM alias_history WHERE name = ? AND alias = ? AND moved_at <= ? ORDER BY moved_at DESC, move_id DESC LIMIT 1",
    )
    .bind(name)
    .bind(alias)
    .bind(at_ms)
    .fetch_optional(pool)
    .await
}

/// Every alias currently set, as (model, alias, version), for the lineage graph.
pub async fn all_aliases(pool: &SqlitePool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT name, alias, version FROM model_aliases ORDER BY name, alias")
        .fetch_all(pool)
        .await
}

/// The aliases pointing at a version, each with when it last moved there.
pub async fn aliases_of_version(
    conn: &mut SqliteConnection,
    name: &str,
    version: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.alias, coalesce((SELECT max(h.moved_at) FROM alias_history h WHERE h.name = a.name AND h.alias = a.alias AND h.version = a.version), a.set_at) \
         FROM model_aliases a WHERE a.name = ? AND a.version = ? ORDER BY a.alias",
    )
    .bind(name)
    .bind(version)
    .fetch_all(conn)
    .await
}

/// How many registered models exist.
pub async fn model_count(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM registered_models")
        .fetch_one(pool)
        .await
}
