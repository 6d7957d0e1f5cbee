//! Server functions of the Models & Approvals section: the registry, the reviewer queue,
//! promotion requests and their reviews. Each authorises on the server (in
//! `crate::service::promotions`) and writes the audit trail in the same transaction.

use crate::dto::registry::{ModelDetail, QueueItem, RegisteredModel, RequestView};
use crate::error::AppError;
use leptos::prelude::*;

/// Every registered model.
#[server(prefix = "/api", endpoint = "registered_models")]
pub async fn list_models() -> Result<Vec<RegisteredModel>, AppError> {
    use crate::domain::authz::Action;
    use crate::service::context;
    use crate::store::registry;
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    Ok(registry::search_models(&state.pool, "%", false, 10_000, 0).await?)
}

/// One model: versions, alias history, requests.
#[server(prefix = "/api", endpoint = "registered_model")]
pub async fn model_page(
    /// The registered model's name.
    name: String,
) -> Result<ModelDetail, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    promotions::model_detail(&state.pool, &p, &name).await
}

/// The reviewer queue (`status`: pending by default, or approved, rejected, withdrawn,
/// expired, all).
#[server(prefix = "/api", endpoint = "promotion_queue")]
pub async fn promotion_queue(
    /// `pending` (also when empty), `approved`, `rejected`, `withdrawn`, `expired` or `all`.
    #[server(default)]
    status: String,
    /// `me`: only the pending requests waiting for the caller's review.
    #[server(default)]
    waiting: String,
) -> Result<Vec<QueueItem>, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    if waiting == "me" {
        let pending = promotions::queue(&state.pool, Some("pending")).await?;
        return promotions::waiting_for(&state.pool, &p, pending).await;
    }
    let status = match status.as_str() {
        "" | "pending" => Some("pending"),
        "all" => None,
        s @ ("approved" | "rejected" | "withdrawn" | "expired") => Some(s),
        other => {
            return Err(AppError::validation(
                "status",
                format!("'{other}' is not a status"),
            ))
        }
    };
    promotions::queue(&state.pool, status).await
}

/// One request's page.
#[server(prefix = "/api", endpoint = "promotion_request")]
pub async fn promotion_request(
    /// The promotion request's id.
    id: i64,
) -> Result<RequestView, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    promotions::view(&state.pool, &p, id).await
}

/// Asks for a version to be promoted; without JavaScript the browser follows to the request.
#[server(prefix = "/api", endpoint = "request_promotion")]
pub async fn request_promotion(
    /// The registered model's name.
    model: String,
    /// The version to promote, as text.
    version: String,
    /// The alias to point at it, for example `production`.
    alias: String,
    /// Why, for the reviewers.
    #[server(default)]
    justification: String,
) -> Result<i64, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::RequestPromotion).await?;
    let version = version.trim().parse::<i64>().map_err(|_| {
        AppError::validation("version", format!("'{version}' is not a version number"))
    })?;
    // The evidence speaks of the model's bytes as they are now.
    crate::service::artifact_checks::verify_version(
        &state.pool,
        &state.artifacts,
        model.trim(),
        version,
    )
    .await?;
    let id = promotions::request(
        &state.pool,
        &p,
        &promotions::NewRequest {
            model,
            version: Some(version),
            alias,
            justification,
        },
    )
    .await?;
    leptos_axum::redirect(&format!("/promotions/{id}"));
    Ok(id)
}

/// Asks for an alias to go back to the version it served before.
#[server(prefix = "/api", endpoint = "request_rollback")]
pub async fn request_rollback(
    /// The registered model's name.
    model: String,
    /// The alias to move back to the version it pointed at before.
    alias: String,
    /// Why, for the reviewers.
    #[server(default)]
    justification: String,
) -> Result<i64, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::RequestPromotion).await?;
    let id = promotions::rollback(&state.pool, &p, &model, &alias, &justification).await?;
    leptos_axum::redirect(&format!("/promotions/{id}"));
    Ok(id)
}

/// Approves (`decision` = approve) or rejects a request with a comment.
#[server(prefix = "/api", endpoint = "review_promotion")]
pub async fn review_promotion(
    /// The promotion request's id.
    id: i64,
    /// `approve` or `reject`.
    decision: String,
    /// The reviewer's reasons.
    #[server(default)]
    comment: String,
) -> Result<String, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::ApprovePromotion).await?;
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(AppError::validation(
                "decision",
                format!("'{other}' is not approve or reject"),
            ))
        }
    };
    crate::service::artifact_checks::verify_request(&state.pool, &state.artifacts, id).await?;
    let o = promotions::review(&state.pool, &p, id, approve, &comment).await?;
    Ok(o.status)
}

/// Waives a check with a written reason.
#[server(prefix = "/api", endpoint = "waive_check")]
pub async fn waive_check(
    /// The promotion request's id.
    id: i64,
    /// The failing check's name, as the checklist shows it.
    check: String,
    /// Why the check may be waived; kept with the waiver.
    #[server(default)]
    reason: String,
) -> Result<String, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    let o = promotions::waive(&state.pool, &p, id, &check, &reason).await?;
    Ok(o.status)
}

/// Withdraws one's own request.
#[server(prefix = "/api", endpoint = "withdraw_promotion")]
pub async fn withdraw_promotion(
    /// The promotion request's id.
    id: i64,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::RequestPromotion).await?;
    promotions::withdraw(&state.pool, &p, id).await?;
    Ok(())
}

/// Every stored policy version and the built-in default.
#[server(prefix = "/api", endpoint = "list_policies")]
pub async fn list_policies() -> Result<crate::dto::registry::PoliciesView, AppError> {
    use crate::domain::authz::Action;
    use crate::service::context;
    use crate::store::promotions;
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    Ok(crate::dto::registry::PoliciesView {
        versions: promotions::policy_versions(&state.pool).await?,
        default_text: crate::domain::promotion::DEFAULT_POLICY.to_string(),
        can_edit: p.can(Action::ManagePolicies),
    })
}

/// Saves a new version of the policy of `scope` (admins); returns its version number.
#[server(prefix = "/api", endpoint = "save_policy")]
pub async fn save_policy(
    /// `*`, `tier:low|medium|high` or `model:<name>`.
    scope: String,
    /// The policy as TOML.
    text: String,
) -> Result<i64, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, promotions};
    let (state, p) = context::authorized(Action::ManagePolicies).await?;
    // Browsers send textarea lines with CRLF; store the text as written.
    let text = text.replace("\r\n", "\n");
    Ok(promotions::save_policy(&state.pool, &p, &scope, &text)
        .await?
        .version)
}

/// The version `alias` of `name` served at `at` (RFC 3339, or `YYYY-MM-DDTHH:MM` UTC).
#[server(prefix = "/api", endpoint = "alias_at")]
pub async fn alias_at(
    /// The registered model's name.
    name: String,
    /// The alias, for example `production`.
    alias: String,
    /// The moment to ask about, RFC 3339.
    at: String,
) -> Result<Option<crate::dto::registry::AliasMove>, AppError> {
    use crate::domain::authz::Action;
    use crate::service::context;
    use crate::store::promotions;
    use crate::store::registry;
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    let ts = crate::domain::audit_query::parse_time_bound("at", at.trim())?;
    Ok(registry::alias_at(&state.pool, &name, &alias, promotions::ts_ms(&ts)).await?)
}
