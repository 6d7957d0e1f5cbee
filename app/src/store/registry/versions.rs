//! Model versions: register, tags, description, read and search.

use super::check_key;
use super::require_model;
use super::touch_model;
use super::ModelVersion;
use super::VersionRow;
use crate::error::AppError;
use crate::store::{Conn, Db, Pool};
use sqlx::QueryBuilder;

/// Registers a new version (the next number); returns it.
#[allow(clippy::too_many_arguments)]
pub async fn create_version(
    conn: &mut Conn,
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
            "SELECT source_run_id, lifecycle_stage FROM logged_models WHERE model_id = $1",
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
        let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM runs WHERE run_uuid = $1")
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
         SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $7, $8 FROM model_versions WHERE name = $1 \
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

pub(super) async fn require_version(
    conn: &mut Conn,
    name: &str,
    version: i64,
) -> Result<(), AppError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM model_versions WHERE name = $1 AND version = $2")
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
    conn: &mut Conn,
    name: &str,
    version: i64,
    key: &str,
    value: &str,
    now: i64,
) -> Result<(), AppError> {
    check_key(key)?;
    require_version(conn, name, version).await?;
    sqlx::query(
        "INSERT INTO model_version_tags (name, version, key, value) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(version)
    .bind(key)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE model_versions SET last_updated_time = $1 WHERE name = $2 AND version = $3",
    )
    .bind(now)
    .bind(name)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes a tag of a version.
pub async fn delete_version_tag(
    conn: &mut Conn,
    name: &str,
    version: i64,
    key: &str,
) -> Result<(), AppError> {
    require_version(conn, name, version).await?;
    sqlx::query("DELETE FROM model_version_tags WHERE name = $1 AND version = $2 AND key = $3")
        .bind(name)
        .bind(version)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Changes a version's description.
pub async fn update_version(
    conn: &mut Conn,
    name: &str,
    version: i64,
    description: &str,
    now: i64,
) -> Result<(), AppError> {
    require_version(conn, name, version).await?;
    sqlx::query(
        "UPDATE model_versions SET description = $1, last_updated_time = $2 WHERE name = $3 AND version = $4",
    )
    .bind(description)
    .bind(now)
    .bind(name)
    .bind(version)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn version_extras(pool: &Pool, r: VersionRow) -> Result<ModelVersion, sqlx::Error> {
    let tags = sqlx::query_as(
        "SELECT key, value FROM model_version_tags WHERE name = $1 AND version = $2 ORDER BY key",
    )
    .bind(&r.name)
    .bind(r.version)
    .fetch_all(pool)
    .await?;
    let aliases = sqlx::query_scalar(
        "SELECT alias FROM model_aliases WHERE name = $1 AND version = $2 ORDER BY alias",
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
    pool: &Pool,
    name: &str,
    version: i64,
) -> Result<Option<ModelVersion>, sqlx::Error> {
    let row: Option<VersionRow> = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM model_versions WHERE name = $1 AND version = $2"
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
    pool: &Pool,
    filters: &[VersionFilter],
    limit: i64,
    offset: i64,
) -> Result<Vec<ModelVersion>, sqlx::Error> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT {VERSION_COLUMNS} FROM model_versions WHERE 1 = 1"
    ));
    for f in filters {
        match f {
            VersionFilter::NameEq(n) => {
                q.push(" AND name = ").push_bind(n.as_str());
            }
            VersionFilter::NameLike(p, ci) => {
                if *ci {
                    q.push(" AND lower(name) LIKE lower(")
                        .push_bind(p.as_str())
                        .push(")");
                } else {
                    q.push(" AND name LIKE ").push_bind(p.as_str());
                }
            }
            VersionFilter::RunIdIn(ids) if ids.is_empty() => {
                q.push(" AND FALSE");
            }
            VersionFilter::RunIdIn(ids) => {
                q.push(" AND run_id IN (");
                let mut sep = q.separated(", ");
                for id in ids {
                    sep.push_bind(id.as_str());
                }
                q.push(")");
            }
            VersionFilter::SourceEq(s) => {
                q.push(" AND source = ").push_bind(s.as_str());
            }
        }
    }
    q.push(" ORDER BY name, version DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows: Vec<VersionRow> = crate::store::sql::fetch_all_as(&mut q, pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(version_extras(pool, r).await?);
    }
    Ok(out)
}
