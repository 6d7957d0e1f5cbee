//! The home page: each role's sections, read from the workspace as it stands.

use crate::error::AppError;
use crate::model::home::Home;
use leptos::prelude::*;

/// What the signed-in user's home page shows (see [`crate::server::home::home`]).
#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview() -> Result<Home, AppError> {
    use crate::domain::authz::Action;
    use crate::server::context;
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    crate::server::home::home(&state, &p).await
}
