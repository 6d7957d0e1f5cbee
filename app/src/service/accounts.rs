//! Account changes: users, roles and API tokens. Each change and its audit entry share one
//! transaction. Used alike by the admin pages, the CLI and the demo generator.

use super::auth::{hash_password_async, random_secret, sha256_hex};
use crate::domain::accounts::{NewPassword, TokenName, Username};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::store as db;
use crate::store::audit::NewEntry;
use crate::store::Pool;

/// Creates a user with roles and a password; `actor` is recorded in the audit trail.
pub async fn create_user(
    pool: &Pool,
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
    pool: &Pool,
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
    let before = db::users::roles_of(&mut tx, user.id).await?;
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

/// Deactivates a user (`active == false`) or makes them active again. A deactivated user
/// cannot sign in, their sessions end at once and their API tokens are refused while they stay
/// deactivated; what they did (approvals included) stays in the record. Nobody deactivates
/// their own account, so an installation cannot lose its last admin that way.
pub async fn set_active(
    pool: &Pool,
    actor: &super::auth::Principal,
    username: &str,
    active: bool,
) -> Result<(), AppError> {
    if !active && username == actor.username {
        return Err(AppError::validation(
            "username",
            "you cannot deactivate your own account",
        ));
    }
    let mut tx = db::begin_write(pool).await?;
    let user = db::users::find_by_username(&mut *tx, username)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no user `{username}`")))?;
    if !db::users::set_disabled(&mut tx, user.id, !active).await? {
        let state = if active { "active" } else { "deactivated" };
        return Err(AppError::conflict(format!(
            "user `{username}` is already {state}"
        )));
    }
    let sessions_ended = if active {
        0
    } else {
        db::sessions::delete_for_user(&mut tx, user.id).await?
    };
    let action = if active {
        "user.reactivate"
    } else {
        "user.deactivate"
    };
    let details = serde_json::json!({ "sessions_ended": sessions_ended });
    db::audit::append(
        &mut tx,
        NewEntry::new(actor.actor(), action, "user", username, details),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub use crate::dto::CreatedToken;

/// How a token is issued: by its own user (who may then approve, reject and waive with it) or
/// by the operator's bootstrap path (the CLI, the demo), recorded as such.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Issue {
    /// The token's user is the one creating it.
    pub by_owner: bool,
    /// Days until it stops working; `None` for no expiry.
    pub expires_in_days: Option<u32>,
}

impl Issue {
    /// Issued by its own user, without expiry.
    pub fn owner() -> Issue {
        Issue {
            by_owner: true,
            expires_in_days: None,
        }
    }

    /// Issued by the operator (CLI, demo seeding), without expiry.
    pub fn operator() -> Issue {
        Issue::default()
    }
}

/// Longest expiry a token may be given, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// Creates an API token for `username` with label `name`; `actor` is recorded as its creator.
pub async fn create_token(
    pool: &Pool,
    actor: &str,
    username: &str,
    name: &str,
    issue: Issue,
) -> Result<CreatedToken, AppError> {
    let name = TokenName::parse(name).map_err(|m| AppError::validation("name", m))?;
    let expires_at = match issue.expires_in_days {
        None => None,
        Some(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => Some(crate::domain::audit_chain::format_ts(
            time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(d)),
        )),
        Some(_) => {
            return Err(AppError::validation(
                "expires_in_days",
                format!("must be a whole number of days from 1 to {MAX_TOKEN_DAYS}, or left empty for no expiry"),
            ))
        }
    };
    let token = format!("gh_{}", random_secret());
    let prefix: String = token.chars().take(10).collect();
    let mut tx = db::begin_write(pool).await?;
    let user = db::users::find_by_username(&mut *tx, username.trim())
        .await?
        .ok_or_else(|| AppError::validation("username", "no such user"))?;
    let id = db::tokens::insert(
        &mut tx,
        user.id,
        name.as_str(),
        &sha256_hex(&token),
        &prefix,
        &super::now_ts(),
        actor,
        issue.by_owner,
        expires_at.as_deref(),
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
            serde_json::json!({
                "user": user.username, "name": name.as_str(), "prefix": prefix,
                "issued_by": if issue.by_owner { "owner" } else { "operator" },
                "expires_at": expires_at,
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { id, token })
}

/// Revokes a live token of the caller's own, or anyone's when the caller manages tokens.
pub async fn revoke_token_as(
    pool: &Pool,
    p: &super::auth::Principal,
    id: i64,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    if !p.can(Action::ManageTokens) {
        let mut conn = pool.acquire().await?;
        match db::tokens::owner(&mut conn, id).await? {
            Some((owner, _)) if owner == p.user_id => {}
            // Someone else's token is answered like a missing one: ids are not probed.
            _ => return Err(AppError::not_found(format!("no live token #{id}"))),
        }
    }
    revoke_token(pool, &p.actor(), id).await
}

/// Revokes a live token.
pub async fn revoke_token(pool: &Pool, actor: &str, id: i64) -> Result<(), AppError> {
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
pub async fn bootstrap_admin(pool: &Pool) -> Result<Option<String>, AppError> {
    if db::users::count(pool).await? > 0 {
        return Ok(None);
    }
    let password = random_secret();
    create_user(pool, "system", "admin", &[Role::Admin], &password).await?;
    Ok(Some(password))
}
