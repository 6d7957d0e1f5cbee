//! Users, API tokens and sessions as the admin and account pages show them.

use crate::domain::roles::Role;
use serde::{Deserialize, Serialize};

/// A user as listed for administrators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct UserSummary {
    /// Primary key.
    pub id: i64,
    /// Unique name.
    pub username: String,
    /// Roles held, sorted.
    pub roles: Vec<Role>,
    /// Creation time.
    pub created_at: String,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// An API token as listed for its user and for administrators (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TokenSummary {
    /// Primary key.
    pub id: i64,
    /// Owner's name.
    pub username: String,
    /// Label.
    pub name: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    /// Creation time.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// Last time it authenticated a request.
    pub last_used_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// When it stops working, if it expires.
    pub expires_at: Option<String>,
    /// Whether its user created it (only such tokens may approve, reject or waive).
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::store::Flag"))]
    pub self_issued: bool,
}

/// A freshly created token: the secret is shown exactly once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CreatedToken {
    /// Token id.
    pub id: i64,
    /// The secret.
    pub token: String,
}

/// The signed-in user as the UI needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// Roles held.
    pub roles: Vec<Role>,
}

/// What every page needs to know about the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SessionInfo {
    /// The signed-in user, if any.
    pub user: Option<UserInfo>,
    /// Whether the server runs with demo data.
    pub demo: bool,
}

/// The demo accounts, published on the sign-in page in demo mode only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DemoAccounts {
    /// Shared password of every demo account.
    pub password: String,
    /// User name and role of each account.
    pub accounts: Vec<(String, Role)>,
}

/// How the sign-in page offers to sign in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// The identity provider's name on the single sign-on button, when one is configured.
    pub sso: Option<String>,
    /// Whether the user name and password form is offered.
    pub local: bool,
    /// Why the last single sign-on failed, shown once.
    pub error: Option<String>,
}

/// The admin page's view of how people sign in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSettings {
    /// The configured identity provider, if any.
    pub provider: Option<ProviderSummary>,
    /// Whether password sign-in is on.
    pub local: bool,
}

/// A configured OpenID Connect provider as an admin sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSummary {
    /// Its name on the sign-in button.
    pub name: String,
    /// Its issuer URL.
    pub issuer: String,
    /// The claim groups are read from.
    pub groups_claim: String,
    /// Which group grants which role.
    pub role_map: Vec<(String, Role)>,
    /// The roles everyone it signs in gets.
    pub default_roles: Vec<Role>,
}
