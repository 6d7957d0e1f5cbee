//! Server functions of the Experiments (A/B tests) section.

use crate::dto::{AbTestSummary, AbTestView};
use crate::error::AppError;
use leptos::prelude::*;

pub use crate::domain::ab_tests::NewAbTest;

/// Every A/B test, newest first.
#[server(prefix = "/api", endpoint = "ab_tests")]
pub async fn list_ab_tests() -> Result<Vec<AbTestSummary>, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{ab_tests, context};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    ab_tests::summaries(&state).await
}

/// One test's page; `correction` (none, holm, bh) re-reads it with another correction.
#[server(prefix = "/api", endpoint = "ab_test")]
pub async fn get_ab_test(
    /// The A/B test's id.
    id: i64,
    /// Multiple-comparison correction: `none`, `holm` or `bh`; empty for the test's own.
    #[server(default)]
    correction: String,
) -> Result<AbTestView, AppError> {
    use crate::domain::ab_tests::Correction;
    use crate::domain::authz::Action;
    use crate::service::{ab_tests, context};
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    let new_share = take_new_share(&state, id)?;
    let correction = match correction.as_str() {
        "" => None,
        "none" => Some(Correction::None),
        "holm" => Some(Correction::Holm),
        "bh" | "benjamini_hochberg" => Some(Correction::BenjaminiHochberg),
        other => {
            return Err(AppError::validation(
                "correction",
                format!("unknown correction '{other}' (none, holm or bh)"),
            ))
        }
    };
    let mut v = ab_tests::view(
        &state,
        id,
        correction,
        p.can(Action::ManageExperiments),
        p.can(Action::DecideExperiment),
    )
    .await?;
    v.new_share = new_share;
    Ok(v)
}

/// Cookie carrying a new share link's address to the page after a plain form post (without
/// JavaScript the action's answer is not seen): `id.token`, two minutes, this section only.
#[cfg(feature = "ssr")]
const NEW_SHARE_COOKIE: &str = "gatehouse_new_share";

/// The share link just created for test `id` by a plain form post, once; clears the cookie.
#[cfg(feature = "ssr")]
fn take_new_share(
    state: &crate::service::state::AppState,
    id: i64,
) -> Result<Option<String>, AppError> {
    use crate::service::{context, cookies};
    let parts = context::parts()?;
    let Some(v) = cookies::get(&parts.headers, NEW_SHARE_COOKIE) else {
        return Ok(None);
    };
    context::set_flash_cookie(
        NEW_SHARE_COOKIE,
        "",
        "/experiments",
        0,
        state.config.cookie_secure,
    );
    Ok(v.split_once('.')
        .filter(|(i, _)| i.parse::<i64>().ok() == Some(id))
        .map(|(_, token)| format!("/shared/ab/{token}")))
}

/// The read-only page a share link opens (no account needed).
#[server(prefix = "/api", endpoint = "shared_ab_test")]
pub async fn shared_ab_test(
    /// The share link's secret token.
    token: String,
) -> Result<AbTestView, AppError> {
    use crate::service::{ab_tests, context};
    let state = context::state()?;
    ab_tests::shared(&state, &token).await
}

/// Creates a test from the form and opens its page.
#[server(prefix = "/api", endpoint = "create_ab_test")]
pub async fn create_ab_test(
    /// The test's definition as entered.
    form: NewAbTest,
) -> Result<i64, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{ab_tests, context};
    let (state, p) = context::authorized(Action::ManageExperiments).await?;
    let def = form.definition()?;
    let id = ab_tests::create(&state, &def, &p.actor(), &p.username).await?;
    leptos_axum::redirect(&format!("/experiments/{id}"));
    Ok(id)
}

/// Results pasted or uploaded as CSV (see the page for the columns).
#[server(prefix = "/api", endpoint = "upload_ab_results")]
pub async fn upload_ab_results(
    /// The A/B test's id.
    id: i64,
    /// The per-variant results as CSV text.
    csv: String,
    /// Present (the checkbox's `on`) when the rows are running totals, not daily counts.
    #[server(default)]
    cumulative: Option<String>,
) -> Result<usize, AppError> {
    use crate::domain::ab_tests::{parse_results_csv, ResultBatch};
    use crate::domain::authz::Action;
    use crate::service::{ab_tests, context};
    let (state, p) = context::authorized(Action::ManageExperiments).await?;
    let (_, def) = ab_tests::load(&state, id).await?;
    let rows = parse_results_csv(&csv)?;
    let batch = ResultBatch {
        cumulative: cumulative.is_some(),
        rows,
    };
    ab_tests::store_batch(&state, id, &def, &batch, &p.actor(), "csv").await
}

/// Records the product manager's decision.
#[server(prefix = "/api", endpoint = "decide_ab_test")]
pub async fn decide_ab_test(
    /// The A/B test's id.
    id: i64,
    /// `ship`, `roll_back` or `extend`.
    decision: String,
    /// Why, in the decider's words.
    #[server(default)]
    comment: String,
) -> Result<i64, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{ab_tests, context};
    let (state, p) = context::authorized(Action::DecideExperiment).await?;
    ab_tests::record_decision(&state, id, &decision, &comment, &p.actor()).await
}

/// Starts or stops a test.
#[server(prefix = "/api", endpoint = "set_ab_status")]
pub async fn set_ab_status(
    /// The A/B test's id.
    id: i64,
    /// `draft`, `running` or `stopped`.
    status: String,
) -> Result<(), AppError> {
    use crate::domain::ab_tests::Status;
    use crate::domain::authz::Action;
    use crate::service::{ab_tests, context};
    let (state, p) = context::authorized(Action::ManageExperiments).await?;
    let status = Status::parse(&status).ok_or_else(|| {
        AppError::validation("status", "status must be draft, running or stopped")
    })?;
    ab_tests::set_status(&state, id, status, &p.actor()).await
}

/// Creates a read-only share link; its address is shown once.
#[server(prefix = "/api", endpoint = "share_ab_test")]
pub async fn share_ab_test(
    /// The A/B test's id.
    id: i64,
    /// Days until the link expires, 1 to 90; empty for seven.
    #[server(default)]
    days: String,
) -> Result<String, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{ab_tests, context};
    let (state, p) = context::authorized(Action::ManageExperiments).await?;
    let days = if days.trim().is_empty() {
        7
    } else {
        days.trim()
            .parse::<i64>()
            .map_err(|_| AppError::validation("days", "days must be a whole number from 1 to 90"))?
    };
    let (url, _) = ab_tests::create_share(&state, id, days, &p.actor()).await?;
    if context::is_plain_form_post() {
        let token = url.rsplit('/').next().unwrap_or_default();
        context::set_flash_cookie(
            NEW_SHARE_COOKIE,
            &format!("{id}.{token}"),
            "/experiments",
            120,
            state.config.cookie_secure,
        );
    }
    Ok(url)
}

/// Revokes a share link.
#[server(prefix = "/api", endpoint = "revoke_ab_share")]
pub async fn revoke_ab_share(
    /// The A/B test's id.
    id: i64,
    /// The share link's id.
    link: i64,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{ab_tests, context};
    let (state, p) = context::authorized(Action::ManageExperiments).await?;
    ab_tests::revoke(&state, id, link, &p.actor()).await
}
