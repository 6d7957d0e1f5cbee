//! The A/B test API: `POST /api/v1/ab/analyze` (stateless), and stored experiments under
//! `/api/v1/experiments` (define, send results, record the decision, export, share).

use app::domain::ab::{analyze, Analysis, AnalysisRequest, Context, InputError};
use app::domain::authz::Action;
use app::domain::experiment::{check_batch, ExperimentDef, ResultBatch, Status};
use app::error::AppError;
use app::server::auth::{authenticate, random_secret, require, sha256_hex};
use app::server::db::abtests as db;
use app::server::db::audit::{self, NewEntry};
use app::server::db::begin_write;
use app::server::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/ab/analyze", post(analyze_stateless))
        .route("/api/v1/experiments", post(create).get(list))
        .route("/api/v1/experiments/{id}", get(show))
        .route("/api/v1/experiments/{id}/results", post(results))
        .route("/api/v1/experiments/{id}/status", post(set_status))
        .route("/api/v1/experiments/{id}/decision", post(decide))
        .route("/api/v1/experiments/{id}/export.csv", get(export_csv))
        .route(
            "/api/v1/experiments/{id}/share",
            post(share).get(list_shares),
        )
        .route(
            "/api/v1/experiments/{id}/share/{link}",
            delete(revoke_share),
        )
        .with_state(state)
}

fn input(e: InputError) -> AppError {
    AppError::validation(e.field, e.message)
}

/// Parses a JSON body; a type error names the field serde points at.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, AppError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.starts_with("missing field") || text.starts_with("unknown variant"))
            .unwrap_or("body")
            .to_owned();
        AppError::validation(field, format!("the body is not a valid request: {text}"))
    })
}

fn test_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .map_err(|_| AppError::not_found(format!("no A/B test {raw}")))
}

async fn load(s: &AppState, id: i64) -> Result<(db::TestRow, ExperimentDef), AppError> {
    db::load(&s.pool, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no A/B test {id}")))
}

/// `POST /api/v1/ab/analyze`: the full analysis of a definition with its data; nothing is
/// stored. Any signed-in role.
async fn analyze_stateless(
    State(s): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Analysis>, AppError> {
    require(authenticate(&s, &headers).await?, Action::ReadWorkspace)?;
    let req: AnalysisRequest = body(&bytes)?;
    Ok(Json(analyze(&req, Context::default()).map_err(input)?))
}

/// `POST /api/v1/experiments`: defines a test (product manager or scientist).
async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, AppError> {
    let p = require(authenticate(&s, &headers).await?, Action::ManageExperiments)?;
    let def: ExperimentDef = body(&bytes)?;
    def.validate().map_err(input)?;
    let owner = def
        .owner
        .clone()
        .filter(|o| !o.trim().is_empty())
        .unwrap_or_else(|| p.username.clone());
    let now = app::server::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    let id = db::create(&mut tx, &def, &owner, &p.actor(), &now).await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            p.actor(),
            "experiment.create",
            "ab_test",
            id.to_string(),
            json!({ "name": def.name.trim(), "owner": owner, "status": def.status.as_str(),
                    "variants": def.variants.iter().map(|v| &v.name).collect::<Vec<_>>(),
                    "metrics": def.metrics.iter().map(|m| &m.name).collect::<Vec<_>>() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "name": def.name.trim(), "status": def.status.as_str(), "url": format!("/experiments/{id}") })),
    )
        .into_response())
}

/// A test as listed: status, verdict, days and users.
pub async fn summary(s: &AppState, id: i64) -> Result<Value, AppError> {
    let (row, def) = load(s, id).await?;
    let rows = db::daily(&s.pool, id).await?;
    let analysis = db::analysis_of(&def, &rows, None).ok();
    Ok(json!({
        "id": id,
        "name": def.name,
        "owner": row.owner,
        "status": row.status,
        "start_date": def.start_date,
        "days": db::days_of(&rows).len(),
        "users": analysis.as_ref().map(|a| a.total_units),
        "verdict": analysis.as_ref().map(|a| a.verdict.decision),
        "sentence": analysis.as_ref().map(|a| a.verdict.sentence.clone()),
    }))
}

/// `GET /api/v1/experiments`.
async fn list(State(s): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, AppError> {
    require(authenticate(&s, &headers).await?, Action::ReadWorkspace)?;
    let mut out = Vec::new();
    for id in db::ids(&s.pool).await? {
        out.push(summary(&s, id).await?);
    }
    Ok(Json(json!({ "experiments": out })))
}

/// `GET /api/v1/experiments/{id}`: the definition, the analysis of all data (or why there is
/// none) and the decisions.
async fn show(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    require(authenticate(&s, &headers).await?, Action::ReadWorkspace)?;
    let id = test_id(&id)?;
    let (row, def) = load(&s, id).await?;
    let rows = db::daily(&s.pool, id).await?;
    let (analysis, why) = match db::analysis_of(&def, &rows, None) {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(e)),
    };
    Ok(Json(json!({
        "id": id,
        "status": row.status,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "definition": def,
        "days": db::days_of(&rows),
        "analysis": analysis,
        "analysis_unavailable": why,
        "decisions": db::decisions(&s.pool, id).await?,
    })))
}

/// `POST /api/v1/experiments/{id}/results`: a batch of daily (or cumulative) rows. All rows
/// are checked before any is stored; one audit entry per request.
async fn results(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, AppError> {
    let p = require(authenticate(&s, &headers).await?, Action::ManageExperiments)?;
    let id = test_id(&id)?;
    let (_, def) = load(&s, id).await?;
    let batch: ResultBatch = body(&bytes)?;
    let stored = store_batch(&s, id, &def, &batch, &p.actor(), "api").await?;
    Ok((StatusCode::CREATED, Json(json!({ "stored": stored }))).into_response())
}

/// Checks and stores a batch with its audit entry, in one transaction.
pub async fn store_batch(
    s: &AppState,
    id: i64,
    def: &ExperimentDef,
    batch: &ResultBatch,
    actor: &str,
    source: &str,
) -> Result<usize, AppError> {
    check_batch(def, batch).map_err(input)?;
    let mut tx = begin_write(&s.pool).await?;
    let stored = db::store_results(&mut tx, id, def, batch).await?;
    let mut days: Vec<&str> = batch.rows.iter().map(|r| r.day.as_str()).collect();
    days.sort_unstable();
    days.dedup();
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.results",
            "ab_test",
            id.to_string(),
            json!({ "rows": stored, "days": days, "cumulative": batch.cumulative, "source": source }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(stored)
}

#[derive(serde::Deserialize)]
struct StatusBody {
    status: Status,
}

/// `POST /api/v1/experiments/{id}/status`: draft → running → stopped (or back to running).
/// Deciding goes through the decision endpoint.
async fn set_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, AppError> {
    let p = require(authenticate(&s, &headers).await?, Action::ManageExperiments)?;
    let id = test_id(&id)?;
    let (row, _) = load(&s, id).await?;
    let b: StatusBody = body(&bytes)?;
    if b.status == Status::Decided {
        return Err(AppError::validation(
            "status",
            "record a decision to decide a test",
        ));
    }
    if row.status == Status::Decided {
        return Err(AppError::conflict(
            "the test is decided; record an 'extend' decision to run it again",
        ));
    }
    let now = app::server::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    db::set_status(&mut tx, id, b.status, &now).await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            p.actor(),
            "experiment.status",
            "ab_test",
            id.to_string(),
            json!({ "from": row.status.as_str(), "to": b.status.as_str() }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({ "id": id, "status": b.status })))
}

#[derive(serde::Deserialize)]
struct DecisionBody {
    decision: String,
    #[serde(default)]
    comment: String,
}

/// Records a decision with the analysis it rests on; audited, and the evidence step 6 links.
pub async fn record_decision(
    s: &AppState,
    id: i64,
    decision: &str,
    comment: &str,
    actor: &str,
) -> Result<i64, AppError> {
    if !matches!(decision, "ship" | "roll_back" | "extend") {
        return Err(AppError::validation(
            "decision",
            "decision must be ship, roll_back or extend",
        ));
    }
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(AppError::validation("comment", "say why in a comment"));
    }
    if comment.chars().count() > 5000 {
        return Err(AppError::validation(
            "comment",
            "the comment is longer than 5,000 characters",
        ));
    }
    let (_, def) = load(s, id).await?;
    let rows = db::daily(&s.pool, id).await?;
    let analysis = db::analysis_of(&def, &rows, None).ok();
    let now = app::server::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    let did = db::record_decision(
        &mut tx,
        id,
        decision,
        comment,
        analysis.as_ref(),
        actor,
        &now,
    )
    .await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.decide",
            "ab_test",
            id.to_string(),
            json!({
                "decision": decision,
                "comment": comment,
                "decision_id": did,
                "verdict": analysis.as_ref().map(|a| a.verdict.decision),
                "sentence": analysis.as_ref().map(|a| a.verdict.sentence.clone()),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(did)
}

/// `POST /api/v1/experiments/{id}/decision` (product manager).
async fn decide(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, AppError> {
    let p = require(authenticate(&s, &headers).await?, Action::DecideExperiment)?;
    let id = test_id(&id)?;
    let b: DecisionBody = body(&bytes)?;
    let did = record_decision(&s, id, &b.decision, &b.comment, &p.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": did, "decision": b.decision })),
    )
        .into_response())
}

/// The analysis as CSV: one line per metric × treatment.
pub fn analysis_csv(def: &ExperimentDef, a: &Analysis) -> String {
    let mut out = String::from(
        "experiment,metric,role,variant,control_units,treatment_units,control_mean,treatment_mean,abs_diff,abs_diff_ci_low,abs_diff_ci_high,rel_lift,rel_lift_ci_low,rel_lift_ci_high,p_value,p_value_adjusted,chance_to_win,significant,basis\n",
    );
    let esc = |s: &str| {
        if s.contains([',', '"', '\n']) || s.starts_with(['=', '+', '-', '@']) {
            format!("\"'{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for m in &a.metrics {
        for c in &m.comparisons {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                esc(&def.name),
                esc(&m.name),
                if m.role == app::domain::ab::MetricRole::Goal {
                    "goal"
                } else {
                    "guardrail"
                },
                esc(&c.variant),
                c.control_units,
                c.treatment_units,
                c.control_mean,
                c.treatment_mean,
                c.abs_diff,
                c.abs_diff_ci[0],
                c.abs_diff_ci[1],
                c.rel_lift,
                c.decision_rel_lift_ci[0],
                c.decision_rel_lift_ci[1],
                c.p_value,
                c.p_value_adjusted,
                c.chance_to_win,
                c.significant,
                c.basis
            ));
        }
    }
    out
}

/// `GET /api/v1/experiments/{id}/export.csv`.
async fn export_csv(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    require(authenticate(&s, &headers).await?, Action::ReadWorkspace)?;
    let id = test_id(&id)?;
    let (_, def) = load(&s, id).await?;
    let rows = db::daily(&s.pool, id).await?;
    let a = db::analysis_of(&def, &rows, None).map_err(AppError::conflict)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"ab-test-{id}.csv\""),
            ),
        ],
        analysis_csv(&def, &a),
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct ShareBody {
    #[serde(default = "week")]
    days: i64,
}

fn week() -> i64 {
    7
}

/// Creates a read-only share link: a random token (only its hash is stored) valid for `days`.
pub async fn create_share(
    s: &AppState,
    id: i64,
    days: i64,
    actor: &str,
) -> Result<(String, String), AppError> {
    if !(1..=90).contains(&days) {
        return Err(AppError::validation(
            "days",
            "a share link lasts 1 to 90 days",
        ));
    }
    load(s, id).await?;
    let token = random_secret();
    let now = app::server::now_ts();
    let expires = app::domain::audit_chain::format_ts(
        time::OffsetDateTime::now_utc() + time::Duration::days(days),
    );
    let mut tx = begin_write(&s.pool).await?;
    let link = db::create_share(&mut tx, id, &sha256_hex(&token), actor, &now, &expires).await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.share",
            "ab_test",
            id.to_string(),
            json!({ "link_id": link, "expires_at": expires }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((format!("/shared/ab/{token}"), expires))
}

/// `POST /api/v1/experiments/{id}/share` → `{url, expires_at}`; the URL is shown once.
async fn share(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, AppError> {
    let p = require(authenticate(&s, &headers).await?, Action::ManageExperiments)?;
    let id = test_id(&id)?;
    let b: ShareBody = if bytes.is_empty() {
        ShareBody { days: week() }
    } else {
        body(&bytes)?
    };
    let (url, expires_at) = create_share(&s, id, b.days, &p.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "url": url, "expires_at": expires_at })),
    )
        .into_response())
}

/// `GET /api/v1/experiments/{id}/share`: the links (without tokens).
async fn list_shares(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    require(authenticate(&s, &headers).await?, Action::ManageExperiments)?;
    let id = test_id(&id)?;
    load(&s, id).await?;
    Ok(Json(json!({ "links": db::shares(&s.pool, id).await? })))
}

/// Revokes a share link; audited.
pub async fn revoke(s: &AppState, id: i64, link: i64, actor: &str) -> Result<(), AppError> {
    let now = app::server::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    if !db::revoke_share(&mut tx, id, link, &now).await? {
        return Err(AppError::not_found(format!(
            "no live share link {link} on A/B test {id}"
        )));
    }
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.share_revoke",
            "ab_test",
            id.to_string(),
            json!({ "link_id": link }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `DELETE /api/v1/experiments/{id}/share/{link}`.
async fn revoke_share(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, link)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let p = require(authenticate(&s, &headers).await?, Action::ManageExperiments)?;
    let id = test_id(&id)?;
    let link = link
        .parse::<i64>()
        .map_err(|_| AppError::not_found(format!("no share link {link}")))?;
    revoke(&s, id, link, &p.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
