//! Server functions of the Fairness section.

use crate::dto::{FairnessSummary, FairnessView};
use crate::error::AppError;
use leptos::prelude::*;

/// Reports, newest first, and whether the viewer may upload.
#[server(prefix = "/api", endpoint = "fairness_reports")]
pub async fn list_fairness_reports() -> Result<(Vec<FairnessSummary>, bool), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, fairness};
    use crate::store as db;
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    let rows = db::fairness::list(&state.pool).await?;
    Ok((
        rows.into_iter().map(fairness::summary_of).collect(),
        p.can(Action::IngestTracking) || p.can(Action::ReviewFairness),
    ))
}

/// One report's page.
#[server(prefix = "/api", endpoint = "fairness_report")]
pub async fn get_fairness_report(
    /// The fairness report's id.
    id: i64,
) -> Result<FairnessView, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, fairness};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    fairness::view(&state.pool, id).await
}
