//! The lineage explorer's server function; the view is built in
//! [`crate::service::lineage::explorer`].

use crate::dto::{LineageQuery, LineageView};
use crate::error::AppError;
use leptos::prelude::*;

pub use crate::domain::lineage::MAX_EXPLORER_DEPTH;

/// The explorer's data (see [`LineageQuery`]): `q` searches; `node` centres the graph
/// (`up`/`down` depths, default 2); `selected` opens a node's panel, with `field` its column
/// lineage; `focus` keeps only the paths through the selected node; `blast` lists and
/// highlights everything downstream of it.
#[server(prefix = "/api", endpoint = "explore_lineage")]
pub async fn explore_lineage(
    /// Focus node, direction, depth and filters.
    #[server(default)]
    query: LineageQuery,
) -> Result<LineageView, AppError> {
    use crate::service::{context, lineage};
    let (state, _) = context::authorized(crate::domain::authz::Action::ReadWorkspace).await?;
    lineage::explore(&state.pool, query).await
}
