//! The `user_identities`, `sso_logins` and `settings` tables: who an account is at the
//! identity provider, sign-ins under way there, and the switches an admin changes at run time.

use crate::store::{Conn, Flag, Pool};

/// The account linked to a person at a provider: id, name, and whether it is deactivated.
pub async fn linked_user(
    conn: &mut Conn,
    issuer: &str,
    subject: &str,
) -> Result<Option<(i64, String, bool)>, sqlx::Error> {
    let row: Option<(i64, String, Flag)> = sqlx::query_as(
        "SELECT u.id, u.username, u.disabled FROM user_identities i \
         JOIN users u ON u.id = i.user_id WHERE i.issuer = $1 AND i.subject = $2",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, name, disabled)| (id, name, disabled.0)))
}

/// Links a person at a provider to an account.
pub async fn link(
    conn: &mut Conn,
    issuer: &str,
    subject: &str,
    user_id: i64,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_identities (issuer, subject, user_id, created_at, last_sign_in) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(issuer)
    .bind(subject)
    .bind(user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a sign-in through the provider.
pub async fn touch(
    conn: &mut Conn,
    issuer: &str,
    subject: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_identities SET last_sign_in = $1 WHERE issuer = $2 AND subject = $3")
        .bind(now)
        .bind(issuer)
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

/// A sign-in under way at the provider, as the callback needs it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLogin {
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier the token request sends.
    pub pkce_verifier: String,
    /// The local page to return to.
    pub next: String,
    /// When the sign-in may no longer complete.
    pub expires_at: String,
}

/// Stores a sign-in under way, keyed by the hash of its `state`.
pub async fn insert_login(
    pool: &Pool,
    state_hash: &str,
    login: &PendingLogin,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sso_logins (state_hash, nonce, pkce_verifier, next, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(state_hash)
    .bind(&login.nonce)
    .bind(&login.pkce_verifier)
    .bind(&login.next)
    .bind(&login.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Removes and answers the sign-in under way with this state hash: a state is used once.
pub async fn take_login(
    pool: &Pool,
    state_hash: &str,
) -> Result<Option<PendingLogin>, sqlx::Error> {
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "DELETE FROM sso_logins WHERE state_hash = $1 \
         RETURNING nonce, pkce_verifier, next, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(nonce, pkce_verifier, next, expires_at)| PendingLogin {
            nonce,
            pkce_verifier,
            next,
            expires_at,
        }),
    )
}

/// Forgets sign-ins that were never completed; answers how many.
pub async fn sweep_logins(pool: &Pool, now: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sso_logins WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected())
}

/// A run-time setting's value, if an admin has set it.
pub async fn setting(pool: &Pool, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await
}

/// Sets a run-time setting; answers the value it had.
pub async fn set_setting(
    conn: &mut Conn,
    key: &str,
    value: &str,
    now: &str,
    by: &str,
) -> Result<Option<String>, sqlx::Error> {
    let before: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(key)
    .bind(value)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(before)
}
