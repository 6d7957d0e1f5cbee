//! The A/B test API: `POST /api/v1/ab/analyze` (stateless), and stored experiments under
//! `/api/v1/experiments` (define, send results, record the decision, export, share).

use crate::api::{needs, Api};
use crate::extract::{path_id, Caller, Created, JsonBody, NoContent};
use app::domain::ab_tests::{analyze, Analysis, AnalysisRequest, Context};
use app::domain::ab_tests::{ExperimentDef, ResultBatch, Status};
use app::domain::authz::Action;
use app::dto::{AbTestSummary, DecisionRow, ShareLink};
use app::error::AppError;
use app::service::ab_tests as ops;
use app::service::state::AppState;
use app::store::ab_tests as db;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

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

/// A test just defined.
#[derive(Serialize, JsonSchema)]
struct CreatedTest {
    /// Its id, for the other `/api/v1/experiments/{id}` operations.
    id: i64,
    /// Its name, trimmed as stored.
    name: String,
    /// Its status: `draft` unless the definition asked for `running`.
    status: Status,
    /// Its page in the UI.
    url: String,
}

/// `POST /api/v1/experiments`: defines a test (product manager or scientist).
async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(def): JsonBody<ExperimentDef>,
) -> Result<Created<Json<CreatedTest>>, AppError> {
    let id = ops::create(&s, &def, &p.actor(), &p.username).await?;
    Ok(Created(Json(CreatedTest {
        id,
        name: def.name.trim().to_owned(),
        status: def.status,
        url: format!("/experiments/{id}"),
    })))
}

/// Every A/B test.
#[derive(Serialize, JsonSchema)]
struct TestList {
    /// The tests, oldest first, each with its current verdict.
    experiments: Vec<AbTestSummary>,
}

/// `GET /api/v1/experiments`.
async fn list(State(s): State<AppState>) -> Result<Json<TestList>, AppError> {
    let mut experiments = Vec::new();
    for id in db::ids(&s.pool).await? {
        experiments.push(ops::summary(&s, id).await?);
    }
    Ok(Json(TestList { experiments }))
}

/// One A/B test as stored, with the analysis of all its data.
#[derive(Serialize, JsonSchema)]
struct TestDetail {
    /// The test's id.
    id: i64,
    /// Draft, running, stopped or decided.
    status: Status,
    /// The account that defined it.
    created_by: String,
    /// When it was defined, RFC 3339.
    created_at: String,
    /// The definition: variants, weights, metrics, alpha and the rest.
    definition: ExperimentDef,
    /// The days with any result, in order.
    days: Vec<String>,
    /// The analysis, when the data can be analysed.
    analysis: Option<Analysis>,
    /// Why there is no analysis (no data yet, a variant without units), when there is none.
    analysis_unavailable: Option<String>,
    /// The recorded decisions, newest first.
    decisions: Vec<DecisionRow>,
}

/// `GET /api/v1/experiments/{id}`: the definition, the analysis of all data (or why there is
/// none) and the decisions.
async fn show(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TestDetail>, AppError> {
    let id = test_id(&id)?;
    let t = ops::snapshot(&s, id, None).await?;
    let (analysis, why) = match t.analysis {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(Json(TestDetail {
        id,
        status: t.row.status,
        created_by: t.row.created_by,
        created_at: t.row.created_at,
        definition: t.def,
        days: t.days,
        analysis,
        analysis_unavailable: why,
        decisions: db::decisions(&s.pool, id).await?,
    }))
}

/// How many result rows a batch stored.
#[derive(Serialize, JsonSchema)]
struct Stored {
    /// Rows stored (a row for a day already stored replaces it).
    stored: usize,
}

/// `POST /api/v1/experiments/{id}/results`: a batch of daily (or cumulative) rows. All rows
/// are checked before any is stored; one audit entry per request.
async fn results(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(batch): JsonBody<ResultBatch>,
) -> Result<Created<Json<Stored>>, AppError> {
    let id = test_id(&id)?;
    let (_, def) = ops::load(&s, id).await?;
    let stored = ops::store_batch(&s, id, &def, &batch, &p.actor(), "api").await?;
    Ok(Created(Json(Stored { stored })))
}

/// A test's new status.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct StatusBody {
    /// `running` or `stopped` (a test is decided through its decision).
    status: Status,
}

/// A test's status after a change.
#[derive(Serialize, JsonSchema)]
struct StatusChanged {
    /// The test's id.
    id: i64,
    /// Its new status.
    status: Status,
}

/// `POST /api/v1/experiments/{id}/status`: draft → running → stopped (or back to running).
/// Deciding goes through the decision endpoint.
async fn set_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<StatusBody>,
) -> Result<Json<StatusChanged>, AppError> {
    let id = test_id(&id)?;
    ops::set_status(&s, id, b.status, &p.actor()).await?;
    Ok(Json(StatusChanged {
        id,
        status: b.status,
    }))
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

/// A decision just recorded.
#[derive(Serialize, JsonSchema)]
struct Decided {
    /// The decision's id.
    id: i64,
    /// `ship`, `roll_back` or `extend`, as sent.
    decision: String,
}

/// `POST /api/v1/experiments/{id}/decision` (product manager).
async fn decide(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> Result<Created<Json<Decided>>, AppError> {
    let id = test_id(&id)?;
    let did = ops::record_decision(&s, id, &b.decision, &b.comment, &p.actor()).await?;
    Ok(Created(Json(Decided {
        id: did,
        decision: b.decision,
    })))
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
        app::domain::ab_tests::export::analysis_csv(&def, &a),
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

/// A share link just made; its address is not shown again.
#[derive(Serialize, JsonSchema)]
struct NewShare {
    /// The link's full address, with its secret token.
    url: String,
    /// When it stops working, RFC 3339.
    expires_at: String,
}

/// `POST /api/v1/experiments/{id}/share` → `{url, expires_at}`; the URL is shown once.
async fn share(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ShareBody>,
) -> Result<Created<Json<NewShare>>, AppError> {
    let id = test_id(&id)?;
    let (url, expires_at) = ops::create_share(&s, id, b.days, &p.actor()).await?;
    Ok(Created(Json(NewShare { url, expires_at })))
}

/// A test's share links.
#[derive(Serialize, JsonSchema)]
struct ShareList {
    /// The links, newest first, without their tokens.
    links: Vec<ShareLink>,
}

/// `GET /api/v1/experiments/{id}/share`: the links (without tokens).
async fn list_shares(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ShareList>, AppError> {
    let id = test_id(&id)?;
    ops::load(&s, id).await?;
    Ok(Json(ShareList {
        links: db::shares(&s.pool, id).await?,
    }))
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
