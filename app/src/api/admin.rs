//! Administration: users, roles and API tokens.

use crate::error::AppError;
use crate::model::{CreatedToken, TokenSummary, UserSummary};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Cookie that carries a just-created token to the next page view when the form was posted
/// without JavaScript (the only way to show it once without storing it on the server).
pub const NEW_TOKEN_COOKIE: &str = "gatehouse_new_token";

/// What the admin page lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminData {
    /// Every user.
    pub users: Vec<UserSummary>,
    /// Every token, newest first.
    pub tokens: Vec<TokenSummary>,
    /// A token created by a form post without JavaScript, shown this once.
    pub new_token: Option<CreatedToken>,
}

/// The roles ticked in a form: one optional field per role, as HTML checkboxes post them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChoice {
    /// `viewer` ticked.
    #[serde(default)]
    pub viewer: Option<String>,
    /// `product_manager` ticked.
    #[serde(default)]
    pub product_manager: Option<String>,
    /// `scientist` ticked.
    #[serde(default)]
    pub scientist: Option<String>,
    /// `reviewer` ticked.
    #[serde(default)]
    pub reviewer: Option<String>,
    /// `auditor` ticked.
    #[serde(default)]
    pub auditor: Option<String>,
    /// `admin` ticked.
    #[serde(default)]
    pub admin: Option<String>,
}

impl RoleChoice {
    /// The ticked roles, sorted.
    pub fn roles(&self) -> Vec<crate::domain::roles::Role> {
        use crate::domain::roles::Role;
        [
            (&self.viewer, Role::Viewer),
            (&self.product_manager, Role::ProductManager),
            (&self.scientist, Role::Scientist),
            (&self.reviewer, Role::Reviewer),
            (&self.auditor, Role::Auditor),
            (&self.admin, Role::Admin),
        ]
        .into_iter()
        .filter(|(v, _)| v.is_some())
        .map(|(_, r)| r)
        .collect()
    }
}

/// Users and tokens for the admin page.
#[server(prefix = "/api", endpoint = "admin_data")]
pub async fn get_admin_data() -> Result<AdminData, AppError> {
    use crate::domain::authz::Action;
    use crate::server::{auth, context, db};
    let (state, _p) = context::authorized(Action::ManageUsers).await?;
    let parts = context::parts()?;
    let new_token = auth::cookie(&parts.headers, NEW_TOKEN_COOKIE).and_then(|v| {
        let (id, token) = v.split_once('.')?;
        Some(CreatedToken {
            id: id.parse().ok()?,
            token: token.to_owned(),
        })
    });
    if new_token.is_some() {
        context::set_flash_cookie(
            NEW_TOKEN_COOKIE,
            "",
            "/admin",
            0,
            state.config.cookie_secure,
        );
    }
    Ok(AdminData {
        users: db::users::list(&state.pool).await?,
        tokens: db::tokens::list(&state.pool).await?,
        new_token,
    })
}

/// Creates a user with the ticked roles.
#[server(prefix = "/api", endpoint = "create_user")]
pub async fn create_user(
    username: String,
    password: String,
    #[server(default)] roles: RoleChoice,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::server::{accounts, context};
    let (state, p) = context::authorized(Action::ManageUsers).await?;
    accounts::create_user(
        &state.pool,
        &p.actor(),
        &username,
        &roles.roles(),
        &password,
    )
    .await?;
    Ok(())
}

/// Replaces a user's roles with the ticked ones.
#[server(prefix = "/api", endpoint = "set_roles")]
pub async fn set_user_roles(
    username: String,
    #[server(default)] roles: RoleChoice,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::server::{accounts, context};
    let (state, p) = context::authorized(Action::ManageUsers).await?;
    if username == p.username && !roles.roles().contains(&crate::domain::roles::Role::Admin) {
        return Err(AppError::validation(
            "roles",
            "you cannot remove your own admin role",
        ));
    }
    accounts::set_roles(&state.pool, &p.actor(), &username, &roles.roles()).await?;
    Ok(())
}

/// Creates an API token; the secret is in the result (and, without JavaScript, in a one-view cookie).
#[server(prefix = "/api", endpoint = "create_token")]
pub async fn create_token(username: String, name: String) -> Result<CreatedToken, AppError> {
    use crate::domain::authz::Action;
    use crate::server::{accounts, context};
    let (state, p) = context::authorized(Action::ManageTokens).await?;
    let created = accounts::create_token(&state.pool, &p.actor(), &username, &name).await?;
    if context::is_plain_form_post() {
        context::set_flash_cookie(
            NEW_TOKEN_COOKIE,
            &format!("{}.{}", created.id, created.token),
            "/admin",
            120,
            state.config.cookie_secure,
        );
    }
    Ok(created)
}

/// Revokes an API token.
#[server(prefix = "/api", endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::server::{accounts, context};
    let (state, p) = context::authorized(Action::ManageTokens).await?;
    accounts::revoke_token(&state.pool, &p.actor(), id).await
}
