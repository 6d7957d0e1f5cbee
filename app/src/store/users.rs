//! The `users` and `user_roles` tables.

use crate::domain::roles::Role;
pub use crate::dto::UserSummary;
use crate::store::{Conn, Pool};

/// A user row with what sign-in needs.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    /// Primary key.
    pub id: i64,
    /// Unique name.
    pub username: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Disabled users cannot sign in or use tokens.
    #[sqlx(try_from = "crate::store::Flag")]
    pub disabled: bool,
}

/// Inserts a user and its roles; the caller supplies the transaction.
pub async fn insert(
    conn: &mut Conn,
    username: &str,
    password_hash: &str,
    roles: &[Role],
    now: &str,
) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    set_roles(conn, id, roles).await?;
    Ok(id)
}

/// Replaces a user's roles.
pub async fn set_roles(conn: &mut Conn, user_id: i64, roles: &[Role]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for r in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(r.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Finds a user by name.
pub async fn find_by_username<'e, E>(ex: E, username: &str) -> Result<Option<UserRow>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = crate::store::Db>,
{
    sqlx::query_as("SELECT id, username, password_hash, disabled FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(ex)
        .await
}

/// Every user with roles, by name.
pub async fn list(pool: &Pool) -> Result<Vec<UserSummary>, sqlx::Error> {
    let rows: Vec<(i64, String, String, crate::store::Flag, Option<String>)> = sqlx::query_as(
        "SELECT u.id, u.username, u.created_at, u.disabled, group_concat(r.role, ',') \
         FROM users u LEFT JOIN user_roles r ON r.user_id = u.id \
         GROUP BY u.id ORDER BY u.username",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, username, created_at, disabled, roles)| {
            let roles = role_list(roles.as_deref());
            UserSummary {
                id,
                username,
                roles,
                created_at,
                disabled: disabled.0,
            }
        })
        .collect())
}

/// Roles from a `group_concat(role, ',')` column, sorted; unknown values are skipped.
pub fn role_list(concatenated: Option<&str>) -> Vec<Role> {
    let mut roles: Vec<Role> = concatenated
        .unwrap_or_default()
        .split(',')
        .filter_map(|r| Role::parse(r).ok())
        .collect();
    roles.sort();
    roles
}

/// Number of users.
pub async fn count(pool: &Pool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
}

/// A user's roles as stored, in order.
pub async fn roles_of(conn: &mut Conn, user_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
        .bind(user_id)
        .fetch_all(conn)
        .await
}

/// A user's name and comma-joined roles in one query (this runs on every authenticated
/// request); `None` when the user is gone.
pub async fn name_and_roles(
    pool: &Pool,
    user_id: i64,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.username, group_concat(r.role, ',') FROM users u LEFT JOIN user_roles r ON r.user_id = u.id \
         WHERE u.id = $1 GROUP BY u.id",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// The name of a user, if the user still exists.
pub async fn username_of(conn: &mut Conn, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// Marks a user deactivated (`true`) or active again; returns whether it changed anything.
pub async fn set_disabled(
    conn: &mut Conn,
    user_id: i64,
    disabled: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2 AND disabled <> $1")
        .bind(disabled)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
