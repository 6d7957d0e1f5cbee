//! Gatehouse's own registry reads under `/api/v1/models`: models with their risk tier,
//! where an alias pointed at a time, alias history and the evidence pack.

use crate::extract::{Caller, JsonBody};
use app::dto::registry::{AliasMove, ModelVersion, RegisteredModel};
use app::error::AppError;
use app::service::now_ms;
use app::service::registry as ops;
use app::service::state::AppState;
use app::store::registry::{self, VersionFilter};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Every registered model.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct ModelList {
    /// The models by name, each with its tags, aliases and risk tier.
    models: Vec<RegisteredModel>,
}

pub(super) async fn v1_models(State(s): State<AppState>) -> Result<Json<ModelList>, AppError> {
    let models = registry::search_models(&s.pool, "%", false, 10_000, 0).await?;
    Ok(Json(ModelList { models }))
}

/// One registered model with everything the registry holds on it.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct ModelHistory {
    /// The model, with its tags, aliases and risk tier.
    model: RegisteredModel,
    /// Every version of it, each with its tags, aliases and source run.
    versions: Vec<ModelVersion>,
    /// Every move of every alias of the model, oldest first.
    alias_history: Vec<AliasMove>,
}

pub(super) async fn v1_model(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ModelHistory>, AppError> {
    let m = registry::get_model(&s.pool, &name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no registered model '{name}'")))?;
    let versions =
        registry::search_versions(&s.pool, &[VersionFilter::NameEq(name.clone())], 10_000, 0)
            .await?;
    let history = registry::alias_history(&s.pool, &name, None).await?;
    Ok(Json(ModelHistory {
        model: m,
        versions,
        alias_history: history,
    }))
}

/// A model's risk tier, which picks the promotion policy (`tier:<tier>`).
#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct RiskTierReq {
    /// `low`, `medium` or `high`.
    risk_tier: String,
}

/// A model's risk tier after a change.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct RiskTier {
    /// The registered model's name.
    name: String,
    /// `low`, `medium` or `high`.
    risk_tier: String,
}

pub(super) async fn v1_set_risk_tier(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
    JsonBody(req): JsonBody<RiskTierReq>,
) -> Result<Json<RiskTier>, AppError> {
    let risk_tier = req.risk_tier.trim().to_owned();
    ops::set_risk_tier(&s.pool, &p, &name, &risk_tier).await?;
    Ok(Json(RiskTier { name, risk_tier }))
}

/// `at` as Unix ms, or any time form the audit filters take (RFC 3339, `YYYY-MM-DDTHH:MM` UTC,
/// `YYYY-MM-DD`), as the UI's look-up does.
fn parse_at(s: &str) -> Result<i64, AppError> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    app::domain::audit_query::parse_time_bound("at", s.trim())
        .map(|ts| app::store::promotions::ts_ms(&ts))
        .map_err(AppError::from)
}

/// Where an alias pointed at a moment, and the files it served.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct AliasAt {
    /// The registered model's name.
    name: String,
    /// The alias, such as `production`.
    alias: String,
    /// The moment asked about, Unix ms.
    at: i64,
    /// The version the alias pointed at then; absent when it pointed nowhere.
    version: Option<i64>,
    /// Since when it pointed there, Unix ms.
    since: Option<i64>,
    /// Who moved it there.
    moved_by: Option<String>,
    /// The promotion request that moved it there, if one did.
    promotion_id: Option<i64>,
    /// The digest of the files that version is bound to (`sha256:…`), to compare with what a
    /// deployment downloaded.
    digest: Option<String>,
    /// The logged model holding those files, if they are one.
    model_id: Option<String>,
    /// How many files the version's manifest lists.
    files: Option<usize>,
}

pub(super) async fn v1_alias_at(
    State(s): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<AliasAt>, AppError> {
    if registry::get_model(&s.pool, &name).await?.is_none() {
        return Err(AppError::not_found(format!("no registered model '{name}'")));
    }
    let at = match q.get("at") {
        Some(a) => parse_at(a)?,
        None => now_ms(),
    };
    let m = registry::alias_at(&s.pool, &name, &alias, at).await?;
    let version = m.as_ref().and_then(|m| m.version);
    // What a deployment pipeline compares with what it downloaded.
    let bound = match version {
        Some(v) => {
            let mut conn = s.pool.acquire().await?;
            app::store::artifacts::bound_to_version(&mut conn, &name, v).await?
        }
        None => None,
    };
    Ok(Json(AliasAt {
        name,
        alias,
        at,
        version,
        since: m.as_ref().map(|m| m.moved_at),
        moved_by: m.as_ref().map(|m| m.moved_by.clone()),
        promotion_id: m.as_ref().and_then(|m| m.promotion_id),
        digest: bound.as_ref().map(|b| b.digest.clone()),
        model_id: bound.as_ref().and_then(|b| b.model_id.clone()),
        files: bound.as_ref().map(|b| b.manifest.len()),
    }))
}

/// Every move of one alias.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct AliasHistory {
    /// The registered model's name.
    name: String,
    /// The alias, such as `production`.
    alias: String,
    /// Its moves, oldest first.
    moves: Vec<AliasMove>,
}

pub(super) async fn v1_alias_history(
    State(s): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
) -> Result<Json<AliasHistory>, AppError> {
    let moves = registry::alias_history(&s.pool, &name, Some(&alias)).await?;
    Ok(Json(AliasHistory { name, alias, moves }))
}

/// `GET /api/v1/models/{name}/versions/{version}/evidence-pack`: one JSON download with
/// everything a model version's promotion rests on: the version, its lineage, its training
/// run, the A/B tests it took part in, its fairness reports, its promotion requests with their
/// reviews and waivers, its alias moves, and the audit entries about all of these with their
/// inclusion proofs against one signed checkpoint (verifiable like an audit export).
pub(super) async fn v1_evidence_pack(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((name, version)): Path<(String, String)>,
) -> Result<axum::response::Response, AppError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let version: i64 = version.parse().map_err(|_| {
        AppError::validation("version", format!("'{version}' is not a version number"))
    })?;
    let pack = ops::evidence_pack::evidence_pack(&s, &p, &name, version).await?;
    let body = serde_json::to_string_pretty(&pack).map_err(|_| AppError::internal())?;
    let file = format!("attachment; filename=\"evidence-{name}-v{version}.json\"");
    let headers = [
        (header::CONTENT_TYPE, "application/json".to_string()),
        (header::CONTENT_DISPOSITION, file),
    ];
    Ok((headers, body).into_response())
}
