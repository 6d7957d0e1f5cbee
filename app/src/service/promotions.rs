//! The promotion workflow: request, review (approve / reject), waive, withdraw, expire, roll
//! back, and the atomic alias move when a request is cleared. Every change is authorised here
//! and written to the audit trail in the same transaction.
//!
//! A request is cleared when it has the approvals its risk tier needs (the policy's
//! `rollback.approvals` for a rollback) and every check passes or is waived. An approval
//! counts only for the evidence it was given on: when the evidence changes (a new fairness
//! report, a new A/B decision, …) earlier approvals lapse and must be given again. A rollback moves
//! the alias back to the version it served before; its checks are shown but do not gate it
//! (the policy's expedited rule), because the version already served.

use crate::domain::audit_query::AuditFilterInput;
use crate::domain::authz::Action;
use crate::domain::promotion::{
    all_clear, approval_refusal, evaluate, valid_alias, waiver_refusal, Check, Evidence, Policy,
    PolicyRef, Waiver,
};
use crate::domain::webhooks::EventKind;
pub use crate::dto::registry::{Outcome, QueueItem, RequestView, ReviewView};
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::service::webhooks::emit;
use crate::service::{now_ms, now_ts};
use crate::store::audit::{self, NewEntry};
use crate::store::promotions::{self as db, Request, Review};
use crate::store::{begin_write, registry};
use crate::store::{Conn, Pool};
use serde::{Deserialize, Serialize};
use serde_json::json;

mod review;
mod views;

pub use review::{expire, review, waive, withdraw};
pub use views::{model_detail, queue, view, waiting_for};

/// What a new request says.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct NewRequest {
    /// Registered model.
    pub model: String,
    /// Version to promote (ignored for a rollback).
    #[serde(default)]
    pub version: Option<i64>,
    /// Target alias.
    pub alias: String,
    /// Why.
    pub justification: String,
}

use crate::service::ts_of_ms as ms_to_ts;

async fn policy(pool: &Pool, model: &str) -> Result<(PolicyRef, Policy), AppError> {
    db::policy_for_model(pool, model).await
}

fn checks_for(policy: &Policy, ev: &Evidence, waivers: &[Waiver]) -> Vec<Check> {
    evaluate(policy, ev, now_ms(), waivers)
}

async fn audit_entry(
    conn: &mut Conn,
    p: &str,
    action: &str,
    id: i64,
    details: serde_json::Value,
) -> Result<(), AppError> {
    audit::append(
        conn,
        NewEntry::new(p, action, "promotion", id.to_string(), details),
    )
    .await?;
    Ok(())
}

/// Queues webhook event `kind` about request `r` (`r.request_id` may be 0 for a request being
/// created: `id` is the one to name), by `actor`, with `extra` fields besides the request's.
async fn promotion_event(
    conn: &mut Conn,
    kind: EventKind,
    (id, r): (i64, &Request),
    actor: &str,
    extra: serde_json::Value,
) -> Result<(), AppError> {
    let mut data = json!({
        "request_id": id, "name": r.name, "version": r.version.to_string(), "alias": r.alias,
        "kind": r.kind, "requested_by": r.requested_by, "actor": actor,
    });
    if let (Some(d), Some(more)) = (data.as_object_mut(), extra.as_object()) {
        d.extend(more.clone());
    }
    emit(conn, kind, data, Some(&format!("/promotions/{id}"))).await?;
    Ok(())
}

fn summary(checks: &[Check]) -> serde_json::Value {
    json!(checks
        .iter()
        .map(|c| json!({ "check": c.id, "status": c.status.as_str() }))
        .collect::<Vec<_>>())
}

/// Asks for `req.model@req.version` to serve as `req.alias`; returns the request id.
pub async fn request(pool: &Pool, p: &Principal, req: &NewRequest) -> Result<i64, AppError> {
    if !p.can(Action::RequestPromotion) {
        return Err(AppError::forbidden());
    }
    let model = registry::check_name(&req.model)?.to_string();
    let alias = req.alias.trim().to_string();
    if !valid_alias(&alias) {
        return Err(AppError::validation(
            "alias",
            format!("'{alias}' is not a valid alias name"),
        ));
    }
    let version = req
        .version
        .ok_or_else(|| AppError::validation("version", "the version to promote is required"))?;
    create(
        pool,
        p,
        &model,
        version,
        &alias,
        &req.justification,
        "promotion",
    )
    .await
}

/// Asks for `alias` to go back to the version it served before the current one.
pub async fn rollback(
    pool: &Pool,
    p: &Principal,
    model: &str,
    alias: &str,
    justification: &str,
) -> Result<i64, AppError> {
    if !p.can(Action::RequestPromotion) {
        return Err(AppError::forbidden());
    }
    let moves = registry::alias_history(pool, model, Some(alias)).await?;
    let current = moves.last().and_then(|m| m.version).ok_or_else(|| {
        AppError::validation("alias", format!("'{alias}' of '{model}' serves no version"))
    })?;
    let previous = moves
        .iter()
        .rev()
        .filter_map(|m| m.version)
        .find(|v| *v != current)
        .ok_or_else(|| {
            AppError::validation(
                "alias",
                format!("'{alias}' of '{model}' has served no other version to roll back to"),
            )
        })?;
    create(pool, p, model, previous, alias, justification, "rollback").await
}

async fn create(
    pool: &Pool,
    p: &Principal,
    model: &str,
    version: i64,
    alias: &str,
    justification: &str,
    kind: &str,
) -> Result<i64, AppError> {
    let justification = justification.trim();
    if justification.chars().count() < 10 {
        return Err(AppError::validation(
            "justification",
            "say why in at least 10 characters",
        ));
    }
    let (ev, pol) = db::gather_evidence(pool, model, version, alias).await?;
    if ev.champion == Some(version) {
        return Err(AppError::validation(
            "version",
            format!("{model}@{version} already serves as '{alias}'"),
        ));
    }
    let checks = checks_for(&pol, &ev, &[]);
    let now = now_ms();
    let r = Request {
        request_id: 0,
        name: model.to_string(),
        version,
        alias: alias.to_string(),
        kind: kind.to_string(),
        justification: justification.to_string(),
        requested_by: p.username.clone(),
        requested_at: ms_to_ts(now),
        expires_at: ms_to_ts(now + i64::from(pol.request_expiry_days) * 86_400_000),
        status: "pending".into(),
        closed_at: None,
        closed_by: None,
        previous_version: ev.champion,
        evidence: ev.canonical(),
        evidence_sha256: ev.digest(),
    };
    let mut tx = begin_write(pool).await?;
    let id = db::insert_request(&mut tx, &r).await?;
    audit_entry(
        &mut tx,
        &p.actor(),
        if kind == "rollback" {
            "promotion.rollback_request"
        } else {
            "promotion.request"
        },
        id,
        json!({
            "model": model, "version": version, "alias": alias, "previous_version": ev.champion,
            "justification": justification, "evidence_sha256": r.evidence_sha256,
            "policy": ev.policy, "checks": summary(&checks),
        }),
    )
    .await?;
    let by = p.username.as_str();
    promotion_event(
        &mut tx,
        EventKind::PROMOTION_REQUESTED,
        (id, &r),
        by,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Approvals given on the evidence whose digest is `digest`: the ones that count.
fn standing_approvals(reviews: &[Review], digest: &str) -> u32 {
    reviews
        .iter()
        .filter(|x| x.decision == "approve" && x.evidence_sha256 == digest)
        .count() as u32
}

/// The pending request `id`'s evidence and policy as they stand, read before a review's write
/// begins: the evidence reads through the pool, and a write transaction held meanwhile would,
/// on a busy server, leave every pooled connection waiting for another.
async fn evidence_of_pending(pool: &Pool, id: i64) -> Result<(Evidence, Policy), AppError> {
    let r = pending(&mut *pool.acquire().await?, id).await?;
    db::gather_evidence(pool, &r.name, r.version, &r.alias).await
}

async fn pending(conn: &mut Conn, id: i64) -> Result<Request, AppError> {
    let r = db::get_request(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no promotion request #{id}")))?;
    if r.status != "pending" {
        return Err(AppError::conflict(format!(
            "request #{id} is {} and can no longer change",
            r.status
        )));
    }
    if r.expires_at <= now_ts() {
        return Err(AppError::conflict(format!(
            "request #{id} expired on {}",
            r.expires_at
        )));
    }
    Ok(r)
}

/// Moves the alias when the request is cleared; true when it moved.
async fn apply_if_cleared(
    conn: &mut Conn,
    r: &Request,
    pol: &Policy,
    ev: &Evidence,
    by: &Principal,
) -> Result<bool, AppError> {
    let waivers = db::waivers(conn, r.request_id).await?;
    let checks = checks_for(pol, ev, &waivers);
    let approvals = standing_approvals(&db::reviews(conn, r.request_id).await?, &ev.digest());
    let rollback = r.kind == "rollback";
    let needed = pol.approvals_needed(&ev.risk_tier, rollback);
    if approvals < needed || !(rollback || all_clear(&checks)) {
        return Ok(false);
    }
    let now = now_ms();
    let before = registry::set_alias(
        conn,
        &r.name,
        &r.alias,
        r.version,
        &by.username,
        now,
        Some(r.request_id),
        if rollback { "rollback" } else { "promotion" },
    )
    .await?;
    db::close_request(conn, r.request_id, "approved", &by.username, &ms_to_ts(now)).await?;
    let how = format!("{} #{}", r.kind, r.request_id);
    crate::service::registry::alias_events(conn, &r.name, &r.alias, (before, r.version), &how)
        .await?;
    let approved = EventKind::PROMOTION_APPROVED;
    let extra =
        json!({ "approvals": approvals, "previous_version": before.map(|v| v.to_string()) });
    promotion_event(conn, approved, (r.request_id, r), &by.username, extra).await?;
    audit::append(
        conn,
        NewEntry::new(
            by.actor(),
            "registry.alias.set",
            "model_version",
            format!("{}@{}", r.name, r.version),
            json!({
                "alias": r.alias, "previous_version": before, "promotion": r.request_id,
                "approvals": approvals, "evidence_sha256": ev.digest(), "checks": summary(&checks),
                "waived": waivers.iter().map(|w| &w.check).collect::<Vec<_>>(),
            }),
        ),
    )
    .await?;
    Ok(true)
}

/// Saves a new version of the policy of `scope` (admins) with its audit entry.
pub async fn save_policy(
    pool: &Pool,
    p: &Principal,
    scope: &str,
    text: &str,
) -> Result<crate::dto::registry::PolicyVersion, AppError> {
    if !p.can(Action::ManagePolicies) {
        return Err(AppError::forbidden());
    }
    let mut tx = begin_write(pool).await?;
    let saved = db::save_policy(&mut tx, scope.trim(), text, &p.username, &now_ts()).await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            p.actor(),
            "policy.promotion.save",
            "promotion_policy",
            format!("{}#{}", saved.scope, saved.version),
            json!({ "scope": saved.scope, "version": saved.version, "sha256": saved.sha256, "text": saved.text }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}
