//! API tokens are self-service: each user creates, lists and revokes their own. Administrators
//! list and revoke anyone's, but never hold a secret that acts as someone else.

use crate::dto::{CreatedToken, TokenSummary};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Cookie that carries a just-created token to the next page view when the form was posted
/// without JavaScript (the only way to show it once without storing it on the server).
pub const NEW_TOKEN_COOKIE: &str = "gatehouse_new_token";

/// What the account page lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyTokens {
    /// The signed-in user's name.
    pub username: String,
    /// Their tokens, newest first.
    pub tokens: Vec<TokenSummary>,
    /// A token created by a form post without JavaScript, shown this once.
    pub new_token: Option<CreatedToken>,
}

/// The signed-in user's tokens.
#[server(prefix = "/api", endpoint = "my_tokens")]
pub async fn get_my_tokens() -> Result<MyTokens, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, cookies};
    use crate::store as db;
    let (state, p) = context::authorized(Action::ManageOwnTokens).await?;
    let parts = context::parts()?;
    let new_token = cookies::get(&parts.headers, NEW_TOKEN_COOKIE).and_then(|v| {
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
            "/account",
            0,
            state.config.cookie_secure,
        );
    }
    Ok(MyTokens {
        tokens: db::tokens::list_for(&state.pool, p.user_id).await?,
        username: p.username,
        new_token,
    })
}

/// Parses the form's expiry field: empty for none, else whole days.
pub fn parse_expiry(days: Option<&str>) -> Result<Option<u32>, AppError> {
    match days.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => d.parse::<u32>().map(Some).map_err(|_| {
            AppError::validation(
                "expires_in_days",
                "must be a whole number of days, or empty for no expiry",
            )
        }),
    }
}

/// Creates an API token for the signed-in user; the secret is in the result (and, without
/// JavaScript, in a one-view cookie).
#[server(prefix = "/api", endpoint = "create_token")]
pub async fn create_token(
    /// A label that says what the token is for.
    name: String,
    /// Whole days until it expires; empty for no expiry.
    #[server(default)]
    expires_in_days: Option<String>,
) -> Result<CreatedToken, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{accounts, context};
    let (state, p) = context::authorized(Action::ManageOwnTokens).await?;
    // A token someone else issued must not mint one that counts as the user's own.
    p.require_own_credentials()?;
    let issue = accounts::Issue {
        by_owner: true,
        expires_in_days: parse_expiry(expires_in_days.as_deref())?,
    };
    let created =
        accounts::create_token(&state.pool, &p.actor(), &p.username, &name, issue).await?;
    if context::is_plain_form_post() {
        context::set_flash_cookie(
            NEW_TOKEN_COOKIE,
            &format!("{}.{}", created.id, created.token),
            "/account",
            120,
            state.config.cookie_secure,
        );
    }
    Ok(created)
}

/// Revokes one of the signed-in user's tokens, or anyone's for an administrator.
#[server(prefix = "/api", endpoint = "revoke_token")]
pub async fn revoke_token(
    /// The token's id.
    id: i64,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{accounts, context};
    let (state, p) = context::authorized(Action::ManageOwnTokens).await?;
    accounts::revoke_token_as(&state.pool, &p, id).await
}
