//! Administration: users, roles and API tokens.

use crate::dto::{TokenSummary, UserSummary};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the admin page lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminData {
    /// Every user.
    pub users: Vec<UserSummary>,
    /// Every token, newest first.
    pub tokens: Vec<TokenSummary>,
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
    use crate::service::context;
    use crate::store as db;
    let (state, _p) = context::authorized(Action::ManageUsers).await?;
    Ok(AdminData {
        users: db::users::list(&state.pool).await?,
        tokens: db::tokens::list(&state.pool).await?,
    })
}

/// Creates a user with the ticked roles.
#[server(prefix = "/api", endpoint = "create_user")]
pub async fn create_user(
    /// The new account's sign-in name.
    username: String,
    /// Its first password.
    password: String,
    /// The roles it starts with.
    #[server(default)]
    roles: RoleChoice,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{accounts, context};
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
    /// The account to change.
    username: String,
    /// Its complete new set of roles.
    #[server(default)]
    roles: RoleChoice,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{accounts, context};
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

/// Deactivates a user (`active` false) or makes them active again; see
/// [`crate::service::accounts::set_active`].
#[server(prefix = "/api", endpoint = "set_user_active")]
pub async fn set_user_active(
    /// The account to change.
    username: String,
    /// `true` to make it active, `false` to deactivate it.
    active: bool,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{accounts, context};
    let (state, p) = context::authorized(Action::ManageUsers).await?;
    accounts::set_active(&state.pool, &p, &username, active).await
}
