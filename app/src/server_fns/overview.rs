//! The home page: each role's sections, read from the workspace as it stands.

use crate::dto::home::Home;
use crate::error::AppError;
use leptos::prelude::*;

/// What the signed-in user's home page shows (see [`crate::service::home::home`]).
#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview() -> Result<Home, AppError> {
    use crate::domain::authz::Action;
    use crate::service::context;
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    crate::service::home::home(&state, &p).await
}
