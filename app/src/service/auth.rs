//! Authentication: passwords, sessions, API tokens, and the one authorisation gate.

use super::cookies;
use super::sign_in_throttle;
use super::state::AppState;
use crate::domain::authz::{authorize, Action};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::store as db;
use crate::store::audit::NewEntry;
use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine;
use cookie::SameSite;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod passwords;
pub use passwords::{hash_password, hash_password_async, verify_password_async};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "gatehouse_session";

/// Who is making a request, and how they proved it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The account's database id.
    pub user_id: i64,
    /// User name.
    pub username: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// The API token used, as (id, label), when not a browser session.
    pub token: Option<(i64, String)>,
    /// The token was issued by someone other than its user (an admin before tokens became
    /// self-service, or the operator's CLI): it may not approve, reject or waive.
    #[serde(default)]
    pub delegated: bool,
}

impl Principal {
    /// The actor recorded in the audit trail: the user name, or `name/token:label`.
    pub fn actor(&self) -> String {
        match &self.token {
            None => self.username.clone(),
            Some((_, label)) => format!("{}/token:{label}", self.username),
        }
    }

    /// Whether this principal may perform `action`.
    pub fn can(&self, action: Action) -> bool {
        authorize(&self.roles, action) && !(self.delegated && action.needs_own_credentials())
    }

    /// Refuses a token that someone other than its user issued, for decisions that must be
    /// the user's own (approvals, rejections, waivers): 403 naming why.
    pub fn require_own_credentials(&self) -> Result<(), AppError> {
        if self.delegated {
            return Err(AppError::Forbidden {
                message: format!(
                    "This API token was issued to {} by someone else; approvals, rejections and waivers need {}'s own session or a token they created.",
                    self.username, self.username
                ),
            });
        }
        Ok(())
    }
}

/// The principal the page middleware authenticated, kept in the request's extensions so the
/// server functions a page runs while rendering do not look the session or token up again.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Option<Principal>);

/// The one gate every server function and REST route passes: 401 without a principal,
/// 403 when the roles do not grant the action.
pub fn require(p: Option<Principal>, action: Action) -> Result<Principal, AppError> {
    match p {
        None => Err(AppError::unauthorized()),
        Some(p) if p.can(action) => Ok(p),
        Some(_) => Err(AppError::forbidden()),
    }
}

/// SHA-256 hex, used for session ids and API tokens (both carry 256 bits of entropy).
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A random URL-safe secret with 256 bits of entropy.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `Set-Cookie` value for a new session.
pub fn session_cookie(state: &AppState, value: &str) -> String {
    let ttl = i64::try_from(state.config.session_ttl.as_secs()).unwrap_or(i64::MAX);
    cookies::set(
        SESSION_COOKIE,
        value,
        "/",
        ttl,
        SameSite::Lax,
        state.config.cookie_secure,
    )
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> String {
    cookies::set(
        SESSION_COOKIE,
        "",
        "/",
        0,
        SameSite::Lax,
        state.config.cookie_secure,
    )
}

fn ts_after(d: std::time::Duration) -> String {
    crate::domain::audit_chain::format_ts(time::OffsetDateTime::now_utc() + d)
}

fn ts_before(d: std::time::Duration) -> String {
    crate::domain::audit_chain::format_ts(time::OffsetDateTime::now_utc() - d)
}

/// Starts a session for `user_id` in the caller's transaction; answers the id for the cookie.
pub(crate) async fn open_session(
    conn: &mut db::Conn,
    state: &AppState,
    user_id: i64,
    user_agent: Option<&str>,
) -> Result<String, AppError> {
    let session_id = random_secret();
    let expires = ts_after(state.config.session_ttl);
    let hash = sha256_hex(&session_id);
    db::sessions::insert(conn, &hash, user_id, &super::now_ts(), &expires, user_agent).await?;
    Ok(session_id)
}

async fn principal_for(
    state: &AppState,
    user_id: i64,
    token: Option<(i64, String)>,
) -> Result<Option<Principal>, AppError> {
    // Name and roles in one query: this runs on every authenticated request.
    let Some((username, roles)) = db::users::name_and_roles(&state.pool, user_id).await? else {
        return Ok(None);
    };
    let roles = db::users::role_list(roles.as_deref());
    Ok(Some(Principal {
        user_id,
        username,
        roles,
        token,
        delegated: false,
    }))
}

/// The API token an `Authorization` header carries, with the username it names if any:
/// `Bearer <token>`, or `Basic` with the token as the password, as MLflow's clients send
/// `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD`. `None` when it is neither.
pub fn credentials(value: &HeaderValue) -> Option<(String, Option<String>)> {
    use base64::Engine;
    let value = value.to_str().ok()?;
    let nonempty = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some((nonempty(token)?, None));
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (username, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((nonempty(password)?, Some(username.to_owned())))
}

/// Authenticates a request by API token (`Bearer`, or `Basic` with the token as the password)
/// or by session cookie.
/// A malformed or unknown bearer token is an error, never a silent fall-back to the cookie.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, AppError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let (token, username) = credentials(auth).ok_or_else(|| AppError::Unauthorized {
            message: "Authorization header must be `Bearer <token>`, or `Basic` with a username \
                      and an API token as the password"
                .into(),
        })?;
        let found =
            db::tokens::live_by_hash(&state.pool, &sha256_hex(&token), &super::now_ts()).await?;
        let Some(t) = found else {
            return Err(AppError::Unauthorized {
                message: "invalid, expired or revoked API token".into(),
            });
        };
        if username.is_some_and(|u| u != t.username) {
            return Err(AppError::Unauthorized {
                message: "the API token does not belong to that username".into(),
            });
        }
        // Recording use is a write: do it at most once a minute per token, so busy API clients
        // do not queue on SQLite's single write lock for every read.
        let minute_ago = ts_before(std::time::Duration::from_secs(60));
        if t.last_used_at
            .as_deref()
            .is_none_or(|u| u < minute_ago.as_str())
        {
            // Best effort: a store that cannot take writes still serves reads, and the write
            // that follows answers for itself.
            if let Err(e) =
                db::tokens::touch(&state.pool, t.id, &super::now_ts(), &minute_ago).await
            {
                tracing::warn!(error = %e, "could not record the API token's use");
            }
        }
        return Ok(Some(Principal {
            user_id: t.user_id,
            username: t.username,
            roles: db::users::role_list(t.roles.as_deref()),
            token: Some((t.id, t.name)),
            delegated: !t.self_issued,
        }));
    }
    let Some(sid) = cookies::get(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let id_hash = sha256_hex(&sid);
    let idle_since = ts_before(state.config.session_idle);
    let live =
        db::sessions::live_user(&state.pool, &id_hash, &super::now_ts(), &idle_since).await?;
    let minute_ago = ts_before(std::time::Duration::from_secs(60));
    if let Some((_, _, _, seen)) = &live {
        if seen.as_str() < minute_ago.as_str() {
            // Best effort, as for tokens: a store that cannot take writes still serves reads.
            if let Err(e) =
                db::sessions::touch(&state.pool, &id_hash, &super::now_ts(), &minute_ago).await
            {
                tracing::warn!(error = %e, "could not record the session's activity");
            }
        }
    }
    Ok(live.map(|(user_id, username, roles, _)| Principal {
        user_id,
        username,
        roles: db::users::role_list(roles.as_deref()),
        token: None,
        delegated: false,
    }))
}

/// What a successful sign-in hands back to the HTTP layer.
#[derive(Debug)]
pub struct SignedIn {
    /// The principal now signed in.
    pub principal: Principal,
    /// The session id to put in the cookie.
    pub session_id: String,
}

/// The generic failure text: never reveals whether the name exists.
pub const SIGN_IN_FAILED: &str = "unknown user name or wrong password";

/// Signs in with a password, enforcing throttling and writing the audit trail.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    client: &str,
    user_agent: Option<&str>,
) -> Result<SignedIn, AppError> {
    let username = username.trim().to_lowercase();
    if username.is_empty() {
        return Err(AppError::validation("username", "is required"));
    }
    if password.is_empty() {
        return Err(AppError::validation("password", "is required"));
    }
    if !super::sso::local_sign_in_enabled(&state.pool).await? {
        return Err(AppError::Forbidden {
            message: super::sso::LOCAL_SIGN_IN_OFF.into(),
        });
    }
    let policy = state.config.throttle;
    let account_key: String = username.chars().take(128).collect();
    let pair_key = format!("{client} {account_key}");
    let keys = [
        ("pair", pair_key.as_str(), policy.pair),
        ("account", account_key.as_str(), policy.account),
        ("address", client, policy.address),
    ];
    sign_in_throttle::check(state, &keys).await?;

    let user = db::users::find_by_username(&state.pool, &username).await?;
    let ok = verify_password_async(
        user.as_ref().map(|u| u.password_hash.clone()),
        password.to_owned(),
    )
    .await;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        other => {
            let account = if other.is_some() {
                account_key.as_str()
            } else {
                "*"
            };
            sign_in_throttle::record_failure(state, &keys, account, client).await?;
            return Err(AppError::Unauthorized {
                message: SIGN_IN_FAILED.into(),
            });
        }
    };

    let mut tx = db::begin_write(&state.pool).await?;
    let session_id = open_session(&mut tx, state, user.id, user_agent).await?;
    db::login_limits::clear(&mut tx, "pair", &pair_key).await?;
    db::login_limits::clear(&mut tx, "account", &account_key).await?;
    db::audit::append(
        &mut tx,
        NewEntry::new(
            &user.username,
            "auth.sign_in",
            "user",
            &user.username,
            serde_json::json!({ "client": client }),
        ),
    )
    .await?;
    tx.commit().await?;
    let principal = principal_for(state, user.id, None)
        .await?
        .ok_or_else(AppError::internal)?;
    Ok(SignedIn {
        principal,
        session_id,
    })
}

/// Ends the session named by the request's cookie, if any, and audits it.
pub async fn sign_out(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let Some(sid) = cookies::get(headers, SESSION_COOKIE) else {
        return Ok(());
    };
    let mut tx = db::begin_write(&state.pool).await?;
    if let Some(user_id) = db::sessions::delete(&mut tx, &sha256_hex(&sid)).await? {
        let name = db::users::username_of(&mut tx, user_id).await?;
        let name = name.unwrap_or_else(|| format!("#{user_id}"));
        db::audit::append(
            &mut tx,
            NewEntry::new(&name, "auth.sign_out", "user", &name, serde_json::json!({})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
