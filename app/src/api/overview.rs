//! The overview: real counts and the latest audit entries the caller may see.

use crate::error::AppError;
use crate::model::AuditRow;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the overview page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// Number of user accounts.
    pub users: i64,
    /// Number of live API tokens.
    pub live_tokens: i64,
    /// Number of audit entries.
    pub audit_entries: i64,
    /// Latest entries visible to the caller: all for auditors and admins, else their own.
    pub recent: Vec<AuditRow>,
    /// Whether `recent` is the whole trail (true) or only the caller's own entries.
    pub recent_is_everyone: bool,
}

/// Counts and recent activity for the overview page.
#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use crate::domain::authz::Action;
    use crate::server::{context, db};
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    let everyone = p.can(Action::ReadAudit);
    let actor = (!everyone).then_some(p.username.as_str());
    let (totals, recent) = db::audit::overview(&state.pool, actor, 8)?;
    Ok(Overview {
        users: totals.users,
        live_tokens: totals.live_tokens,
        audit_entries: totals.audit_entries,
        recent,
        recent_is_everyone: everyone,
    })
}
