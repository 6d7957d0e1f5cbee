//! `/api/v1/tokens`: each user's own API tokens over REST, as on the Account page. A token is
//! created for the caller only; administrators may revoke anyone's.

use crate::api::{needs, Api};
use crate::extract::{path_id, Caller, JsonBody};
use app::domain::authz::Action;
use app::error::AppError;
use app::service::accounts::{self, Issue};
use app::service::state::AppState;
use app::store;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

type ApiResult = Result<Json<Value>, AppError>;

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

async fn list(State(s): State<AppState>, Caller(p): Caller) -> ApiResult {
    Ok(Json(
        json!({ "tokens": store::tokens::list_for(&s.pool, p.user_id).await? }),
    ))
}

async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<NewToken>,
) -> ApiResult {
    p.require_own_credentials()?;
    let issue = Issue {
        by_owner: true,
        expires_in_days: req.expires_in_days,
    };
    let created =
        accounts::create_token(&s.pool, &p.actor(), &p.username, &req.name, issue).await?;
    Ok(Json(json!({ "id": created.id, "token": created.token })))
}

async fn revoke(State(s): State<AppState>, Caller(p): Caller, Path(id): Path<String>) -> ApiResult {
    let id = path_id(&id, "live token")?;
    accounts::revoke_token_as(&s.pool, &p, id).await?;
    Ok(Json(json!({ "revoked": id })))
}
