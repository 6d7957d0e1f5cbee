//! Single sign-on through an OpenID Connect provider, the part that touches the store: the
//! sign-ins under way, the accounts the provider's people get (created on their first
//! sign-in, their roles following their groups at every sign-in, each change audited), and the
//! admin's switch for local (password) sign-in. The protocol itself (discovery, the code
//! flow, the ID token's checks) is the server's, `server/src/sso.rs`.

use super::auth;
use super::state::AppState;
use crate::domain::accounts::Username;
use crate::domain::roles::Role;
use crate::domain::sso::{RoleChange, RoleMap};
use crate::error::AppError;
use crate::store as db;
use crate::store::audit::NewEntry;
use crate::store::sso::PendingLogin;
use crate::store::Pool;
use serde_json::json;
use std::time::Duration;

/// How the provider is reached and what its answers mean here.
#[derive(Clone)]
pub struct SsoSettings {
    /// The issuer URL; its discovery document is `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// This Gatehouse's client id at the provider.
    pub client_id: String,
    /// The secret that authenticates Gatehouse to the provider's token endpoint.
    pub client_secret: String,
    /// Scopes asked for besides `openid` (`profile email groups`, say).
    pub scopes: Vec<String>,
    /// The claim (a dotted path for nested ones) that lists a person's groups.
    pub groups_claim: String,
    /// The claim that gives the Gatehouse user name.
    pub username_claim: String,
    /// Groups to roles.
    pub roles: RoleMap,
    /// The provider's name on the sign-in button ("Sign in with …").
    pub display_name: String,
    /// How far the provider's clock may be from ours when checking an ID token's times.
    pub clock_skew: Duration,
    /// The callback URL registered at the provider; without one, the public URL's
    /// `/auth/oidc/callback`.
    pub redirect_url: Option<String>,
}

/// Never prints the client secret.
impl std::fmt::Debug for SsoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("groups_claim", &self.groups_claim)
            .field("username_claim", &self.username_claim)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// The actor of the account changes a sign-in through the provider makes.
pub const ACTOR: &str = "sso";

/// The setting that turns password sign-in off.
const LOCAL_SIGN_IN: &str = "local_sign_in";

/// What a refused password sign-in says while local sign-in is off.
pub const LOCAL_SIGN_IN_OFF: &str =
    "Sign-in with a password is turned off here: sign in through your identity provider.";

/// The cookie that carries a failed single sign-on's reason (base64url) to the sign-in page.
pub const ERROR_COOKIE: &str = "gatehouse_sso_error";

/// How long a sign-in at the provider may take.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);

/// Whether people may sign in with a password (an admin turns it off once everyone signs in
/// through the provider; API tokens are unaffected).
pub async fn local_sign_in_enabled(pool: &Pool) -> Result<bool, AppError> {
    Ok(db::sso::setting(pool, LOCAL_SIGN_IN).await?.as_deref() != Some("off"))
}

/// Turns password sign-in on or off, audited as `settings.local_sign_in`. Turning it off needs
/// a configured provider, or nobody could sign in any more.
pub async fn set_local_sign_in(
    state: &AppState,
    actor: &str,
    enabled: bool,
) -> Result<(), AppError> {
    if !enabled && state.config.sso.is_none() {
        return Err(AppError::conflict(
            "No identity provider is configured: turning password sign-in off would lock everyone out.",
        ));
    }
    let value = if enabled { "on" } else { "off" };
    let mut tx = db::begin_write(&state.pool).await?;
    let before = db::sso::set_setting(&mut tx, LOCAL_SIGN_IN, value, &super::now_ts(), actor)
        .await?
        .unwrap_or_else(|| "on".into());
    if before == value {
        return Ok(());
    }
    let details = json!({ "enabled": enabled });
    let entry = NewEntry::new(
        actor,
        "settings.local_sign_in",
        "setting",
        LOCAL_SIGN_IN,
        details,
    );
    db::audit::append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Remembers a sign-in sent to the provider for [`LOGIN_TTL`], keyed by its `state`: the
/// nonce its ID token must carry, its PKCE verifier and the local page to return to.
pub async fn begin(
    pool: &Pool,
    state: &str,
    nonce: &str,
    pkce_verifier: &str,
    next: &str,
) -> Result<(), AppError> {
    let expires = time::OffsetDateTime::now_utc() + LOGIN_TTL;
    let login = PendingLogin {
        nonce: nonce.to_owned(),
        pkce_verifier: pkce_verifier.to_owned(),
        next: next.to_owned(),
        expires_at: crate::domain::audit_chain::format_ts(expires),
    };
    db::sso::insert_login(pool, &auth::sha256_hex(state), &login).await?;
    Ok(())
}

/// The sign-in the provider's answer continues, taken so its `state` works once: 400 when
/// there is none, or it is more than [`LOGIN_TTL`] old.
pub async fn take(pool: &Pool, state: &str) -> Result<PendingLogin, AppError> {
    let login = db::sso::take_login(pool, &auth::sha256_hex(state)).await?;
    match login {
        Some(l) if l.expires_at > super::now_ts() => Ok(l),
        Some(_) => Err(AppError::validation(
            "state",
            "this sign-in took more than ten minutes; start again",
        )),
        None => Err(AppError::validation(
            "state",
            "unknown or already used; start the sign-in again",
        )),
    }
}

/// A person as the provider vouched for them in a checked ID token.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The person's stable id there (`sub`).
    pub subject: String,
    /// The Gatehouse name their claims give (used when the account is created).
    pub username: Username,
    /// Their groups at the provider.
    pub groups: Vec<String>,
}

/// Signs a person in through the provider: their account is created on the first sign-in,
/// and their roles become what their groups grant now (each change an audit entry by
/// [`ACTOR`]). A deactivated account stays out; a person whose groups grant no role is refused
/// (after losing the roles they held). Answers the new session's id, for the cookie.
pub async fn complete(
    state: &AppState,
    roles_map: &RoleMap,
    who: &Identity,
    client: &str,
    user_agent: Option<&str>,
) -> Result<String, AppError> {
    let roles = roles_map.roles_for(&who.groups);
    let now = super::now_ts();
    let mut tx = db::begin_write(&state.pool).await?;
    let linked = db::sso::linked_user(&mut tx, &who.issuer, &who.subject).await?;
    let (user_id, username) = match linked {
        Some((_, name, true)) => {
            return Err(AppError::Forbidden {
                message: format!("the account `{name}` is deactivated"),
            })
        }
        Some((id, name, false)) => {
            sync_roles(&mut tx, id, &name, &roles, &who.groups).await?;
            db::sso::touch(&mut tx, &who.issuer, &who.subject, &now).await?;
            (id, name)
        }
        None => {
            if roles.is_empty() {
                return Err(no_roles(who));
            }
            let id = create(&mut tx, who, &roles, &now).await?;
            (id, who.username.as_str().to_owned())
        }
    };
    if roles.is_empty() {
        tx.commit().await?;
        return Err(no_roles(who));
    }
    let session_id = auth::open_session(&mut tx, state, user_id, user_agent).await?;
    let details = json!({ "client": client, "method": "sso", "issuer": who.issuer });
    let entry = NewEntry::new(&username, "auth.sign_in", "user", &username, details);
    db::audit::append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(session_id)
}

fn no_roles(who: &Identity) -> AppError {
    let groups = if who.groups.is_empty() {
        "you are in no group".to_owned()
    } else {
        format!("none of your groups ({})", who.groups.join(", "))
    };
    AppError::Forbidden {
        message: format!(
            "Signed in at the identity provider as {}, but {groups} grants a role in Gatehouse; ask an administrator.",
            who.username.as_str()
        ),
    }
}

async fn create(
    tx: &mut db::Conn,
    who: &Identity,
    roles: &[Role],
    now: &str,
) -> Result<i64, AppError> {
    let name = who.username.as_str();
    if db::users::find_by_username(&mut *tx, name).await?.is_some() {
        return Err(AppError::conflict(format!(
            "An account named `{name}` already exists in Gatehouse and is not linked to the identity provider, so it is not taken over; ask an administrator."
        )));
    }
    // No password: the empty hash never verifies, so this account signs in only through the
    // provider.
    let id = db::users::insert(tx, name, "", roles, now).await?;
    db::sso::link(tx, &who.issuer, &who.subject, id, now).await?;
    let details = json!({
        "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "groups": who.groups,
        "issuer": who.issuer,
        "subject": who.subject,
    });
    db::audit::append(
        tx,
        NewEntry::new(ACTOR, "user.create", "user", name, details),
    )
    .await?;
    Ok(id)
}

async fn sync_roles(
    tx: &mut db::Conn,
    user_id: i64,
    name: &str,
    roles: &[Role],
    groups: &[String],
) -> Result<(), AppError> {
    let before = db::users::roles_of(tx, user_id).await?;
    let before = db::users::role_list(Some(&before.join(",")));
    let change = RoleChange::between(&before, roles);
    if change.is_empty() {
        return Ok(());
    }
    db::users::set_roles(tx, user_id, roles).await?;
    let names = |rs: &[Role]| rs.iter().map(|r| r.as_str()).collect::<Vec<_>>();
    let details = json!({
        "before": names(&before),
        "after": names(roles),
        "added": names(&change.added),
        "removed": names(&change.removed),
        "groups": groups,
    });
    let entry = NewEntry::new(ACTOR, "user.set_roles", "user", name, details);
    db::audit::append(tx, entry).await?;
    Ok(())
}
