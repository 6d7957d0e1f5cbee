//! Audit trail server functions: filtered pages and chain verification.

use crate::domain::audit_query::AuditFilterInput;
use crate::dto::{AuditRow, VerifyReport};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One page of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// Entries, newest first.
    pub entries: Vec<AuditRow>,
    /// Cursor for the next (older) page, when there is one.
    pub next_before: Option<i64>,
    /// The validated filter as query pairs, for building links.
    pub filter_query: Vec<(String, String)>,
    /// The chain verification, when it was asked for.
    pub verify: Option<VerifyReport>,
    /// The Ed25519 public key (hex) that signs the trail's checkpoints.
    pub public_key: String,
}

/// A page of audit entries matching the filter; with `verify` set, also recomputes the chain.
#[server(prefix = "/api", endpoint = "audit_page")]
pub async fn get_audit_page(
    /// Who, what, which action and when to show.
    #[server(default)]
    filter: AuditFilterInput,
    /// Whether to verify the whole chain along with the page.
    #[server(default)]
    verify: bool,
) -> Result<AuditPage, AppError> {
    use crate::domain::authz::Action;
    use crate::service::context;
    use crate::store as db;
    let (state, p) = context::authorized(Action::ReadAudit).await?;
    let f = filter.validate()?;
    let (entries, next_before) = db::audit::page_with_cursor(&state.pool, &f).await?;
    let verify = if verify {
        crate::service::auth::require(Some(p.clone()), Action::VerifyAudit)?;
        // Sign a checkpoint of the trail as it stands, so the answer covers every entry.
        crate::service::signing::checkpoint_now(&state.pool).await?;
        let report = db::audit::verify(&state.pool).await?;
        crate::service::record_verification(&state.pool, &p.username, &report).await?;
        Some(report)
    } else {
        None
    };
    Ok(AuditPage {
        entries,
        next_before,
        filter_query: f
            .to_query_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        verify,
        public_key: crate::service::signing::key_for(&state.pool)
            .map(|k| crate::service::signing::public_key_hex(&k))
            .map_err(|e| {
                tracing::error!(error = %e, "audit signing key unavailable");
                AppError::internal()
            })?,
    })
}
