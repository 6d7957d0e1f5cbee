//! `/api/v1/tokens`: each user's own API tokens over REST, as on the Account page. A token is
//! created for the caller only; administrators may revoke anyone's.

use crate::api::{needs, Api};
use crate::extract::{path_id, Caller, JsonBody};
use app::domain::authz::Action;
use app::dto::TokenSummary;
use app::error::AppError;
use app::service::accounts::{self, Issue};
use app::service::state::AppState;
use app::store;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};

/// The routes, mounted by the main router.
pub fn router(state: AppState) -> Api {
    use Action::*;
    Api::gated(state.clone())
        .get(
            "/api/v1/tokens",
            list,
            needs(
                ManageOwnTokens,
                "The caller's own API tokens, newest first (never their secrets)",
            ),
        )
        .post(
            "/api/v1/tokens",
            create,
            needs(
                ManageOwnTokens,
                "Create an API token for the caller; the secret is in this answer only",
            )
            .json(),
        )
        .delete(
            "/api/v1/tokens/{id}",
            revoke,
            needs(
                ManageOwnTokens,
                "Revoke one of the caller's tokens (an admin: anyone's)",
            ),
        )
        .with_state(state)
}

/// A new API token for the caller (never for someone else: a user name is refused).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    /// Its label, unique among the caller's live tokens (`ci-pipeline`).
    name: String,
    /// Days until it stops working; no expiry when left out.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// The caller's tokens.
#[derive(Serialize, schemars::JsonSchema)]
struct TokenList {
    /// Newest first, live and revoked, never with their secrets.
    tokens: Vec<TokenSummary>,
}

async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Json<TokenList>, AppError> {
    Ok(Json(TokenList {
        tokens: store::tokens::list_for(&s.pool, p.user_id).await?,
    }))
}

/// A token just created.
#[derive(Serialize, schemars::JsonSchema)]
struct CreatedToken {
    /// Its id, for revoking it.
    id: i64,
    /// The secret to send as `Authorization: Bearer …`; it is not shown again.
    token: String,
}

async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<NewToken>,
) -> Result<Json<CreatedToken>, AppError> {
    p.require_own_credentials()?;
    let issue = Issue {
        by_owner: true,
        expires_in_days: req.expires_in_days,
    };
    let created =
        accounts::create_token(&s.pool, &p.actor(), &p.username, &req.name, issue).await?;
    Ok(Json(CreatedToken {
        id: created.id,
        token: created.token,
    }))
}

/// A token just revoked.
#[derive(Serialize, schemars::JsonSchema)]
struct Revoked {
    /// The revoked token's id.
    revoked: i64,
}

async fn revoke(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<Revoked>, AppError> {
    let id = path_id(&id, "live token")?;
    accounts::revoke_token_as(&s.pool, &p, id).await?;
    Ok(Json(Revoked { revoked: id }))
}
