//! Promotion requests and policies over REST:
//!
//! * `POST /api/v1/promotions` `{model, version, alias, justification}` — request (scientists,
//!   product managers);
//! * `POST /api/v1/promotions/rollback` `{model, alias, justification}` — request the previous
//!   version back;
//! * `GET /api/v1/promotions?status=pending|approved|…|all` — the queue;
//! * `GET /api/v1/promotions/{id}` — checklist, evidence, reviews, history;
//! * `POST /api/v1/promotions/{id}/approve|reject` `{comment}` — reviewers, never the requester;
//! * `POST /api/v1/promotions/{id}/waive` `{check, reason}` — roles the policy names;
//! * `POST /api/v1/promotions/{id}/withdraw` — the requester;
//! * `GET /api/v1/policies` — every version of every scope; `PUT /api/v1/policies/{scope}`
//!   with the TOML text as body (admins): an invalid text is refused with its line and the
//!   version in force stays.

use app::error::AppError;
use app::service::auth::Principal;

use crate::api::{needs, Api, Body};
use crate::extract::{path_id, Caller, JsonBody};
use app::dto::registry::{Outcome, PolicyVersion, QueueItem, RequestView};
use app::service::promotions::{self, NewRequest};
use app::service::state::AppState;
use app::store::promotions as db;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

/// One promotion request as its page shows it.
#[derive(Serialize, schemars::JsonSchema)]
struct RequestBody {
    /// The request with its checklist, evidence, reviews and history, as the caller may see it.
    request: RequestView,
}

/// What a review or waiver did, and the request afterwards.
#[derive(Serialize, schemars::JsonSchema)]
struct ReviewedBody {
    /// The request's status afterwards, and whether the alias moved.
    outcome: Outcome,
    /// The request afterwards.
    request: RequestView,
}

type RequestResult = Result<Json<RequestBody>, AppError>;
type ReviewedResult = Result<Json<ReviewedBody>, AppError>;

async fn request_body(s: &AppState, p: &Principal, id: i64) -> RequestResult {
    Ok(Json(RequestBody {
        request: promotions::view(&s.pool, p, id).await?,
    }))
}

async fn reviewed_body(s: &AppState, p: &Principal, id: i64, outcome: Outcome) -> ReviewedResult {
    Ok(Json(ReviewedBody {
        outcome,
        request: promotions::view(&s.pool, p, id).await?,
    }))
}

/// The routes, mounted by the main router.
pub fn router(state: AppState) -> Api {
    use app::domain::authz::Action::*;
    Api::gated(state.clone())
        .post("/api/v1/promotions", create,
            needs(RequestPromotion, "Ask for a model version to be moved to an alias; the policy is evaluated now").json())
        .get("/api/v1/promotions", list,
            needs(ReadWorkspace, "Promotion requests").query(&[
                ("status", "pending (default), approved, rejected, withdrawn, expired or all"),
                ("waiting", "`me`: the pending requests waiting for the caller's review"),
            ]))
        .post("/api/v1/promotions/rollback", rollback,
            needs(RequestPromotion, "Ask for an alias to go back to the version it held before").json())
        .get("/api/v1/promotions/{id}", show,
            needs(ReadWorkspace, "A request with its checks, reviews and waivers"))
        .post("/api/v1/promotions/{id}/approve", approve,
            needs(ApprovePromotion, "Approve someone else's request; the last approval moves the alias").json())
        .post("/api/v1/promotions/{id}/reject", reject,
            needs(ApprovePromotion, "Reject a request, with a comment").json())
        .post("/api/v1/promotions/{id}/waive", waive,
            needs(ReadWorkspace, "Waive a failing check with a reason (the roles the policy names)").json())
        .post("/api/v1/promotions/{id}/withdraw", withdraw,
            needs(RequestPromotion, "Withdraw one's own pending request"))
        .get("/api/v1/policies", policies, needs(ReadWorkspace, "Every promotion policy in force"))
        .get("/api/v1/policies/{scope}", policy,
            needs(ReadWorkspace, "The policy in force for a scope (default, tier:<tier> or model:<name>), with its versions"))
        .put("/api/v1/policies/{scope}", save_policy,
            needs(ManagePolicies, "Save a new version of a scope's policy (its TOML text)").body(Body::Text("text/plain")))
        .with_state(state)
}

fn request_id(raw: &str) -> Result<i64, AppError> {
    path_id(raw, "promotion request")
}

async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<NewRequest>,
) -> RequestResult {
    // The evidence speaks of the model's bytes as they are now.
    if let Some(v) = req.version {
        app::service::artifact_checks::verify_version(&s.pool, &s.artifacts, req.model.trim(), v)
            .await?;
    }
    let id = promotions::request(&s.pool, &p, &req).await?;
    request_body(&s, &p, id).await
}

/// A request to point an alias back at the version it pointed at before.
#[derive(Deserialize, schemars::JsonSchema)]
struct RollbackReq {
    /// The registered model's name.
    model: String,
    /// The alias to move back, such as `production`.
    alias: String,
    /// Why, for the reviewers.
    justification: String,
}

async fn rollback(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<RollbackReq>,
) -> RequestResult {
    let id = promotions::rollback(&s.pool, &p, &req.model, &req.alias, &req.justification).await?;
    request_body(&s, &p, id).await
}

/// Which requests to list.
#[derive(Deserialize, schemars::JsonSchema)]
struct ListQuery {
    /// `pending` (the default), `approved`, `rejected`, `withdrawn`, `expired` or `all`.
    status: Option<String>,
    /// `me`: only the pending requests waiting for the caller's review (not theirs, not yet
    /// reviewed by them, and they may approve).
    waiting: Option<String>,
}

/// The review queue.
#[derive(Serialize, schemars::JsonSchema)]
struct Queue {
    /// The requests, newest first, each with its checklist's standing.
    requests: Vec<QueueItem>,
}

async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Queue>, AppError> {
    match q.waiting.as_deref() {
        None | Some("") => {}
        Some("me") => {
            let pending = promotions::queue(&s.pool, Some("pending")).await?;
            let requests = promotions::waiting_for(&s.pool, &p, pending).await?;
            return Ok(Json(Queue { requests }));
        }
        Some(other) => {
            let why = format!("'{other}' is not supported: `me` or nothing");
            return Err(AppError::validation("waiting", why));
        }
    }
    let status = match q.status.as_deref() {
        None | Some("") => Some("pending"),
        Some("all") => None,
        Some(st @ ("pending" | "approved" | "rejected" | "withdrawn" | "expired")) => Some(st),
        Some(other) => {
            return Err(AppError::validation(
                "status",
                format!(
                "'{other}' is not a status: pending, approved, rejected, withdrawn, expired or all"
            ),
            ))
        }
    };
    Ok(Json(Queue {
        requests: promotions::queue(&s.pool, status).await?,
    }))
}

async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> RequestResult {
    request_body(&s, &p, request_id(&id)?).await
}

/// A review's reasons.
#[derive(Deserialize, schemars::JsonSchema)]
struct CommentReq {
    /// Why the reviewer approves or rejects.
    #[serde(default)]
    comment: String,
}

async fn decide(
    s: AppState,
    p: Principal,
    id: &str,
    req: CommentReq,
    approve: bool,
) -> ReviewedResult {
    let id = request_id(id)?;
    app::service::artifact_checks::verify_request(&s.pool, &s.artifacts, id).await?;
    let outcome = promotions::review(&s.pool, &p, id, approve, &req.comment).await?;
    reviewed_body(&s, &p, id, outcome).await
}

async fn approve(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CommentReq>,
) -> ReviewedResult {
    decide(s, p, &id, req, true).await
}

async fn reject(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CommentReq>,
) -> ReviewedResult {
    decide(s, p, &id, req, false).await
}

/// A waiver of one failing check.
#[derive(Deserialize, schemars::JsonSchema)]
struct WaiveReq {
    /// The check's name, as the checklist shows it.
    check: String,
    /// Why it may be waived; kept with the waiver.
    #[serde(default)]
    reason: String,
}

/// Who may waive is the policy's to say (its waiver roles); signing in is enough to ask.
async fn waive(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<WaiveReq>,
) -> ReviewedResult {
    let id = request_id(&id)?;
    let outcome = promotions::waive(&s.pool, &p, id, &req.check, &req.reason).await?;
    reviewed_body(&s, &p, id, outcome).await
}

async fn withdraw(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> RequestResult {
    let id = request_id(&id)?;
    promotions::withdraw(&s.pool, &p, id).await?;
    request_body(&s, &p, id).await
}

/// Every promotion policy version, and the built-in default.
#[derive(Serialize, schemars::JsonSchema)]
struct PromotionPolicies {
    /// Each saved version of each scope's policy, by scope, newest version first.
    policies: Vec<PolicyVersion>,
    /// The TOML in force where no scope has a policy.
    default: &'static str,
}

async fn policies(State(s): State<AppState>) -> Result<Json<PromotionPolicies>, AppError> {
    Ok(Json(PromotionPolicies {
        policies: db::policy_versions(&s.pool).await?,
        default: app::domain::promotion::DEFAULT_POLICY,
    }))
}

/// One scope's policy versions.
#[derive(Serialize, schemars::JsonSchema)]
struct ScopePolicies {
    /// `*`, `tier:low|medium|high` or `model:<name>`.
    scope: String,
    /// Its saved versions, newest first.
    versions: Vec<PolicyVersion>,
}

async fn policy(
    State(s): State<AppState>,
    Path(scope): Path<String>,
) -> Result<Json<ScopePolicies>, AppError> {
    db::check_scope(&scope)?;
    let versions: Vec<_> = db::policy_versions(&s.pool)
        .await?
        .into_iter()
        .filter(|p| p.scope == scope)
        .collect();
    Ok(Json(ScopePolicies { scope, versions }))
}

/// A policy version just saved.
#[derive(Serialize, schemars::JsonSchema)]
struct SavedPolicy {
    /// The new version, now in force for its scope.
    policy: PolicyVersion,
}

async fn save_policy(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(scope): Path<String>,
    b: Bytes,
) -> Result<Json<SavedPolicy>, AppError> {
    let text = std::str::from_utf8(&b)
        .map_err(|_| AppError::validation("text", "the policy must be UTF-8 text"))?;
    let saved = promotions::save_policy(&s.pool, &p, &scope, text).await?;
    Ok(Json(SavedPolicy { policy: saved }))
}
