//! The model registry tables: registered models, versions, tags, aliases and alias history.

pub use crate::dto::registry::{AliasMove, ModelVersion, RegisteredModel};
use crate::error::AppError;
use crate::store::Pool;

mod aliases;
mod models;
mod versions;

pub use aliases::*;
pub use models::*;
pub use versions::*;

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

/// How many registered models exist.
pub async fn model_count(pool: &Pool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM registered_models")
        .fetch_one(pool)
        .await
}
