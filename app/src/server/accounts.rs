//! Account changes: users, roles and API tokens. Each change and its audit entry share one
//! transaction. Used alike by the admin pages, the CLI and the demo generator.

use super::auth::{hash_password_async, random_secret, sha256_hex};
use super::db;
use super::db::audit::NewEntry;
use crate::domain::accounts::{NewPassword, TokenName, Username};
use crate::domain::roles::Role;
use crate::error::AppError;
use sqlx::SqlitePool;

/// Creates a user with roles and a password; `actor` is recorded in the audit trail.
pub async fn create_user(
    pool: &SqlitePool,
    actor: &str,
    username: &str,
    roles: &[Role],
    password: &str,
) -> Result<i64, AppError> {
    let username = Username::parse(username).map_err(|m| AppError::validation("username", m))?;
    let password = NewPassword::parse(password).map_err(|m| AppError::validation("password", m))?;
    if roles.is_empty() {
        return Err(AppError::validation(
            "roles",
            "at least one role is required",
        ));
    }
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    let hash = hash_password_async(password.expose().to_owned()).await?;
    let mut tx = db::begin_write(pool).await?;
    if db::users::find_by_username(&mut *tx, username.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!(
            "user `{}` already exists",
            username.as_str()
        )));
    }
    let id = db::users::insert(&mut tx, username.as_str(), &hash, &roles, &super::now_ts()).await?;
    db::audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "user.create",
            "user",
            username.as_str(),
            serde_json::json!({ "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces a user's roles.
pub async fn set_roles(
    pool: &SqlitePool,
    actor: &str,
    username: &str,
    roles: &[Role],
) -> Result<(), AppError> {
    if roles.is_empty() {
        return Err(AppError::validation(
            "roles",
            "at least one role is required",
        ));
    }
    let mut tx = db::begin_write(pool).await?;
    let user = db::users::find_by_username(&mut *tx, username)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no user `{username}`")))?;
    let before: Vec<String> =
        sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = ? ORDER BY role")
            .bind(user.id)
            .fetch_all(&mut *tx)
            .await?;
    db::users::set_roles(&mut tx, user.id, roles).await?;
    db::audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "user.set_roles",
            "user",
            username,
            serde_json::json!({
                "before": before,
                "after": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub use crate::model::CreatedToken;

/// Creates an API token for `username` with label `name`.
pub async fn create_token(
    pool: &SqlitePool,
    actor: &str,
    username: &str,
    name: &str,
) -> Result<CreatedToken, AppError> {
    let name = TokenName::parse(name).map_err(|m| AppError::validation("name", m))?;
    let token = format!("gh_{}", random_secret());
    let prefix: String = token.chars().take(10).collect();
    let mut tx = db::begin_write(pool).await?;
    let user = db::users::find_by_username(&mut *tx, username.trim())
        .await?
        .ok_or_else(|| {
            AppError::validation("username", format!("no user `{}`", username.trim()))
        })?;
    let id = db::tokens::insert(
        &mut tx,
        user.id,
        name.as_str(),
        &sha256_hex(&token),
        &prefix,
        &super::now_ts(),
        actor,
    )
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => AppError::validation(
            "name",
            format!(
                "`{}` already has a live token named `{}`",
                user.username,
                name.as_str()
            ),
        ),
        other => other.into(),
    })?;
    db::audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "api_token.create",
            "api_token",
            id.to_string(),
            serde_json::json!({ "user": user.username, "name": name.as_str(), "prefix": prefix }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { id, token })
}

/// Revokes a live token.
pub async fn revoke_token(pool: &SqlitePool, actor: &str, id: i64) -> Result<(), AppError> {
    let mut tx = db::begin_write(pool).await?;
    let (user, name) = db::tokens::revoke(&mut tx, id, &super::now_ts())
        .await?
        .ok_or_else(|| AppError::not_found(format!("no live token #{id}")))?;
    db::audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "api_token.revoke",
            "api_token",
            id.to_string(),
            serde_json::json!({ "user": user, "name": name }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// On a database with no users, creates `admin` with a random password and returns it.
pub async fn bootstrap_admin(pool: &SqlitePool) -> Result<Option<String>, AppError> {
    if db::users::count(pool).await? > 0 {
        return Ok(None);
    }
    let password = random_secret();
    create_user(pool, "system", "admin", &[Role::Admin], &password).await?;
    Ok(Some(password))
}
