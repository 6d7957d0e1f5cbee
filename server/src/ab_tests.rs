//! The A/B test API: `POST /api/v1/ab/analyze` (stateless), and stored experiments under
//! `/api/v1/experiments` (define, send results, record the decision, export, share).

use crate::api::{needs, Api};
use crate::extract::{path_id, Caller, Created, JsonBody, NoContent};
use app::domain::ab_tests::{analyze, Analysis, AnalysisRequest, Context};
use app::domain::ab_tests::{ExperimentDef, ResultBatch, Status};
use app::domain::authz::Action;
use app::error::AppError;
use app::service::ab_tests as ops;
use app::service::state::AppState;
use app::store::ab_tests as db;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The routes.
pub fn router(state: AppState) -> Api {
    use Action::*;
    Api::gated(state.clone())
        .post(
            "/api/v1/ab/analyze",
            analyze_stateless,
            needs(
                ReadWorkspace,
                "Analyse a definition with its data; nothing is stored",
            )
            .json(),
        )
        .post(
            "/api/v1/experiments",
            create,
            needs(ManageExperiments, "Define an A/B test").json(),
        )
        .get(
            "/api/v1/experiments",
            list,
            needs(ReadWorkspace, "List A/B tests with their verdicts"),
        )
        .get(
            "/api/v1/experiments/{id}",
            show,
            needs(ReadWorkspace, "An A/B test with its full analysis"),
        )
        .post(
            "/api/v1/experiments/{id}/results",
            results,
            needs(ManageExperiments, "Send per-arm daily results").json(),
        )
        .post(
            "/api/v1/experiments/{id}/status",
            set_status,
            needs(ManageExperiments, "Start, stop or archive a test").json(),
        )
        .post(
            "/api/v1/experiments/{id}/decision",
            decide,
            needs(
                DecideExperiment,
                "Record the decision (ship, roll back, extend)",
            )
            .json(),
        )
        .get(
            "/api/v1/experiments/{id}/export.csv",
            export_csv,
            needs(ReadWorkspace, "The analysis as CSV"),
        )
        .post(
            "/api/v1/experiments/{id}/share",
            share,
            needs(ManageExperiments, "Create a read-only share link").json(),
        )
        .get(
            "/api/v1/experiments/{id}/share",
            list_shares,
            needs(ManageExperiments, "List a test's share links"),
        )
        .delete(
            "/api/v1/experiments/{id}/share/{link}",
            revoke_share,
            needs(ManageExperiments, "Revoke a share link"),
        )
        .with_state(state)
}

fn test_id(raw: &str) -> Result<i64, AppError> {
    path_id(raw, "A/B test")
}

/// `POST /api/v1/ab/analyze`: the full analysis of a definition with its data; nothing is
/// stored. Any signed-in role.
async fn analyze_stateless(
    JsonBody(req): JsonBody<AnalysisRequest>,
) -> Result<Json<Analysis>, AppError> {
    Ok(Json(analyze(&req, Context::default())?))
}

/// `POST /api/v1/experiments`: defines a test (product manager or scientist).
async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(def): JsonBody<ExperimentDef>,
) -> Result<Created<Json<Value>>, AppError> {
    let id = ops::create(&s, &def, &p.actor(), &p.username).await?;
    Ok(Created(Json(
        json!({ "id": id, "name": def.name.trim(), "status": def.status.as_str(), "url": format!("/experiments/{id}") }),
    )))
}

/// `GET /api/v1/experiments`.
async fn list(State(s): State<AppState>) -> Result<Json<Value>, AppError> {
    let mut out = Vec::new();
    for id in db::ids(&s.pool).await? {
        out.push(ops::summary(&s, id).await?);
    }
    Ok(Json(json!({ "experiments": out })))
}

/// `GET /api/v1/experiments/{id}`: the definition, the analysis of all data (or why there is
/// none) and the decisions.
async fn show(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let id = test_id(&id)?;
    let t = ops::snapshot(&s, id, None).await?;
    let (analysis, why) = match t.analysis {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(Json(json!({
        "id": id,
        "status": t.row.status,
        "created_by": t.row.created_by,
        "created_at": t.row.created_at,
        "definition": t.def,
        "days": t.days,
        "analysis": analysis,
        "analysis_unavailable": why,
        "decisions": db::decisions(&s.pool, id).await?,
    })))
}

/// `POST /api/v1/experiments/{id}/results`: a batch of daily (or cumulative) rows. All rows
/// are checked before any is stored; one audit entry per request.
async fn results(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(batch): JsonBody<ResultBatch>,
) -> Result<Created<Json<Value>>, AppError> {
    let id = test_id(&id)?;
    let (_, def) = ops::load(&s, id).await?;
    let stored = ops::store_batch(&s, id, &def, &batch, &p.actor(), "api").await?;
    Ok(Created(Json(json!({ "stored": stored }))))
}

/// A test's new status.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct StatusBody {
    /// `running` or `stopped` (a test is decided through its decision).
    status: Status,
}

/// `POST /api/v1/experiments/{id}/status`: draft → running → stopped (or back to running).
/// Deciding goes through the decision endpoint.
async fn set_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<StatusBody>,
) -> Result<Json<Value>, AppError> {
    let id = test_id(&id)?;
    ops::set_status(&s, id, b.status, &p.actor()).await?;
    Ok(Json(json!({ "id": id, "status": b.status })))
}

/// The product decision on a test, recorded with the analysis it was made on.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct DecisionBody {
    /// `ship`, `roll_back` or `extend`.
    decision: String,
    /// Why, in a sentence or two.
    #[serde(default)]
    comment: String,
}

/// `POST /api/v1/experiments/{id}/decision` (product manager).
async fn decide(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> Result<Created<Json<Value>>, AppError> {
    let id = test_id(&id)?;
    let did = ops::record_decision(&s, id, &b.decision, &b.comment, &p.actor()).await?;
    Ok(Created(Json(json!({ "id": did, "decision": b.decision }))))
}

/// `GET /api/v1/experiments/{id}/export.csv`.
async fn export_csv(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = test_id(&id)?;
    let t = ops::snapshot(&s, id, None).await?;
    let a = t.analysis.map_err(|e| AppError::conflict(e.to_string()))?;
    let def = t.def;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"ab-test-{id}.csv\""),
            ),
        ],
        ops::analysis_csv(&def, &a),
    )
        .into_response())
}

/// A read-only link to a test's results, for people without an account.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ShareBody {
    /// Days until the link stops working (default 7; no body at all asks for the default).
    #[serde(default = "week")]
    days: i64,
}

fn week() -> i64 {
    7
}

/// `POST /api/v1/experiments/{id}/share` → `{url, expires_at}`; the URL is shown once.
async fn share(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ShareBody>,
) -> Result<Created<Json<Value>>, AppError> {
    let id = test_id(&id)?;
    let (url, expires_at) = ops::create_share(&s, id, b.days, &p.actor()).await?;
    Ok(Created(Json(
        json!({ "url": url, "expires_at": expires_at }),
    )))
}

/// `GET /api/v1/experiments/{id}/share`: the links (without tokens).
async fn list_shares(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = test_id(&id)?;
    ops::load(&s, id).await?;
    Ok(Json(json!({ "links": db::shares(&s.pool, id).await? })))
}

/// `DELETE /api/v1/experiments/{id}/share/{link}`.
async fn revoke_share(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((id, link)): Path<(String, String)>,
) -> Result<NoContent, AppError> {
    let id = test_id(&id)?;
    let link = path_id(&link, "share link")?;
    ops::revoke(&s, id, link, &p.actor()).await?;
    Ok(NoContent)
}
