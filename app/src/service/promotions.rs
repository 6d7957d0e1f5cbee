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
pub use crate::dto::registry::{Outcome, QueueItem, RequestView, ReviewView};
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::service::{now_ms, now_ts};
use crate::store::audit::{self, NewEntry};
use crate::store::promotions::{self as db, Request, Review};
use crate::store::{begin_write, registry};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{SqliteConnection, SqlitePool};

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

fn ms_to_ts(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    crate::domain::audit_chain::format_ts(t)
}

async fn policy(pool: &SqlitePool, model: &str) -> Result<(PolicyRef, Policy), AppError> {
    db::policy_for_model(pool, model).await
}

fn checks_for(policy: &Policy, ev: &Evidence, waivers: &[Waiver]) -> Vec<Check> {
    evaluate(policy, ev, now_ms(), waivers)
}

async fn audit_entry(
    conn: &mut SqliteConnection,
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

fn summary(checks: &[Check]) -> serde_json::Value {
    json!(checks
        .iter()
        .map(|c| json!({ "check": c.id, "status": c.status.as_str() }))
        .collect::<Vec<_>>())
}

/// Asks for `req.model@req.version` to serve as `req.alias`; returns the request id.
pub async fn request(pool: &SqlitePool, p: &Principal, req: &NewRequest) -> Result<i64, AppError> {
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
    pool: &SqlitePool,
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
    pool: &SqlitePool,
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

async fn pending(conn: &mut SqliteConnection, id: i64) -> Result<Request, AppError> {
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
    conn: &mut SqliteConnection,
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

/// Approves (`approve`) or rejects a pending request, with a comment.
pub async fn review(
    pool: &SqlitePool,
    p: &Principal,
    id: i64,
    approve: bool,
    comment: &str,
) -> Result<Outcome, AppError> {
    p.require_own_credentials()?;
    if !p.can(Action::ApprovePromotion) {
        return Err(AppError::forbidden());
    }
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(AppError::validation("comment", "a review needs a comment"));
    }
    let mut tx = begin_write(pool).await?;
    let r = pending(&mut tx, id).await?;
    let (ev, pol) = db::gather_evidence(pool, &r.name, r.version, &r.alias).await?;
    if approve {
        let author = ev.run.as_ref().map(|r| r.author.as_str());
        if let Some(why) = approval_refusal(&pol, &r.requested_by, &p.username, author) {
            return Err(AppError::Forbidden { message: why });
        }
    } else if r.requested_by == p.username {
        return Err(AppError::Forbidden {
            message: "You requested this promotion: withdraw it instead of rejecting it.".into(),
        });
    }
    let digest = ev.digest();
    db::insert_review(
        &mut tx,
        id,
        &Review {
            reviewer: p.username.clone(),
            decision: if approve { "approve" } else { "reject" }.into(),
            comment: comment.to_string(),
            evidence_sha256: digest.clone(),
            reviewed_at: now_ts(),
        },
    )
    .await?;
    audit_entry(
        &mut tx,
        &p.actor(),
        if approve {
            "promotion.approve"
        } else {
            "promotion.reject"
        },
        id,
        json!({ "comment": comment, "evidence_sha256": digest }),
    )
    .await?;
    let outcome = if approve {
        let moved = apply_if_cleared(&mut tx, &r, &pol, &ev, p).await?;
        Outcome {
            status: if moved { "approved" } else { "pending" }.into(),
            alias_moved: moved,
        }
    } else {
        db::close_request(&mut tx, id, "rejected", &p.username, &now_ts()).await?;
        Outcome {
            status: "rejected".into(),
            alias_moved: false,
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Waives a failing or missing check with a written reason.
pub async fn waive(
    pool: &SqlitePool,
    p: &Principal,
    id: i64,
    check: &str,
    reason: &str,
) -> Result<Outcome, AppError> {
    p.require_own_credentials()?;
    let mut tx = begin_write(pool).await?;
    let r = pending(&mut tx, id).await?;
    let (ev, pol) = db::gather_evidence(pool, &r.name, r.version, &r.alias).await?;
    let existing = db::waivers(&mut tx, id).await?;
    let checks = checks_for(&pol, &ev, &existing);
    let c = checks.iter().find(|c| c.id == check).ok_or_else(|| {
        AppError::validation("check", format!("no check '{check}' on this request"))
    })?;
    if r.requested_by == p.username {
        return Err(AppError::Forbidden {
            message: "You requested this promotion: someone else has to waive its checks.".into(),
        });
    }
    if let Some(why) = waiver_refusal(&pol, c, &p.roles, reason) {
        // A missing reason is the user's input to fix; anything else is the policy's refusal.
        return Err(if why.contains("written reason") {
            AppError::validation("reason", why)
        } else {
            AppError::Forbidden { message: why }
        });
    }
    let w = Waiver {
        check: check.to_string(),
        by: p.username.clone(),
        reason: reason.trim().to_string(),
        at: now_ts(),
    };
    db::insert_waiver(&mut tx, id, &w).await?;
    audit_entry(
        &mut tx,
        &p.actor(),
        "promotion.waive",
        id,
        json!({ "check": check, "status": c.status.as_str(), "reason": w.reason, "evidence_sha256": ev.digest() }),
    )
    .await?;
    let moved = apply_if_cleared(&mut tx, &r, &pol, &ev, p).await?;
    tx.commit().await?;
    Ok(Outcome {
        status: if moved { "approved" } else { "pending" }.into(),
        alias_moved: moved,
    })
}

/// Withdraws one's own pending request.
pub async fn withdraw(pool: &SqlitePool, p: &Principal, id: i64) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    let r = pending(&mut tx, id).await?;
    if r.requested_by != p.username {
        return Err(AppError::Forbidden {
            message: "Only the requester can withdraw a request.".into(),
        });
    }
    db::close_request(&mut tx, id, "withdrawn", &p.username, &now_ts()).await?;
    audit_entry(&mut tx, &p.actor(), "promotion.withdraw", id, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Closes pending requests past their expiry (as `system`); returns how many.
pub async fn expire(pool: &SqlitePool) -> Result<usize, AppError> {
    let now = now_ts();
    let mut tx = begin_write(pool).await?;
    let ids = db::expired_ids(&mut tx, &now).await?;
    for id in &ids {
        db::close_request(&mut tx, *id, "expired", "system", &now).await?;
        audit_entry(&mut tx, "system", "promotion.expire", *id, json!({})).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// The reviewer queue: requests in `status` (pending by default) with their check summary.
///
/// A read: requests past their expiry that the minute sweep ([`expire`]) has not closed yet are
/// shown as expired (and left out of the pending queue), not closed here.
pub async fn queue(pool: &SqlitePool, status: Option<&str>) -> Result<Vec<QueueItem>, AppError> {
    let now = now_ts();
    let lapsed = |r: &Request| r.status == "pending" && r.expires_at <= now;
    let mut out = Vec::new();
    let mut conn = pool.acquire().await?;
    let wanted = |r: &Request| match status {
        None => true,
        Some("pending") => !lapsed(r),
        Some("expired") => true,
        Some(s) => r.status == s,
    };
    let mut rows = db::list_requests(pool, status.filter(|s| *s != "expired"), None).await?;
    if status == Some("expired") {
        rows.retain(|r| r.status == "expired" || lapsed(r));
    }
    for mut r in rows.into_iter().filter(wanted) {
        let (ev, pol) = if r.status == "pending" {
            db::gather_evidence(pool, &r.name, r.version, &r.alias).await?
        } else {
            let ev: Evidence = serde_json::from_str(&r.evidence).map_err(|e| {
                tracing::error!(error = %e, id = r.request_id, "stored evidence does not parse");
                AppError::internal()
            })?;
            (ev, policy(pool, &r.name).await?.1)
        };
        if lapsed(&r) {
            r.status = "expired".into();
        }
        let waivers = db::waivers(&mut conn, r.request_id).await?;
        let checks = checks_for(&pol, &ev, &waivers);
        let reviews = db::reviews(&mut conn, r.request_id).await?;
        // Closed requests keep the approvals they were decided on; open ones count only those
        // given on the evidence as it stands.
        let approvals = if r.status == "pending" {
            standing_approvals(&reviews, &ev.digest())
        } else {
            reviews.iter().filter(|x| x.decision == "approve").count() as u32
        };
        // The age is computed here: the page must not read the clock (the browser's wasm has
        // none, and a clock read while rendering would differ between server and hydration).
        let age_secs = time::OffsetDateTime::parse(
            &r.requested_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map(|t| (time::OffsetDateTime::now_utc() - t).whole_seconds().max(0))
        .unwrap_or(0);
        out.push(QueueItem {
            age_secs,
            risk_tier: ev.risk_tier.clone(),
            checks_clear: checks
                .iter()
                .filter(|c| all_clear(std::slice::from_ref(c)))
                .count(),
            checks_total: checks.len(),
            open_checks: checks
                .iter()
                .filter(|c| !all_clear(std::slice::from_ref(c)))
                .map(|c| c.label.clone())
                .collect(),
            waived_checks: checks
                .iter()
                .filter(|c| c.waiver.is_some())
                .map(|c| c.label.clone())
                .collect(),
            approvals,
            approvals_needed: pol.approvals_needed(&ev.risk_tier, r.kind == "rollback"),
            request: r,
        });
    }
    Ok(out)
}

/// The request page's data, for `viewer`.
pub async fn view(pool: &SqlitePool, viewer: &Principal, id: i64) -> Result<RequestView, AppError> {
    let mut conn = pool.acquire().await?;
    let r = db::get_request(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no promotion request #{id}")))?;
    let (mut ev, pol) = db::gather_evidence(pool, &r.name, r.version, &r.alias).await?;
    let policy_ref = ev.policy.clone();
    if r.status != "pending" {
        // The alias was judged against what it served when the request was open; once
        // approved it serves this version, which is not a change in the evidence.
        ev.champion = r.previous_version;
    }
    let waivers = db::waivers(&mut conn, id).await?;
    let checks = checks_for(&pol, &ev, &waivers);
    let digest = ev.digest();
    let reviews: Vec<ReviewView> = db::reviews(&mut conn, id)
        .await?
        .into_iter()
        .map(|review| ReviewView {
            evidence_changed: review.evidence_sha256 != digest,
            review,
        })
        .collect();
    let open = r.status == "pending";
    let approvals = reviews
        .iter()
        .filter(|x| x.review.decision == "approve" && (!open || !x.evidence_changed))
        .count() as u32;
    let author = ev.run.as_ref().map(|r| r.author.as_str());
    let approve_refusal = if !open {
        Some(format!("This request is {}.", r.status))
    } else if viewer.delegated {
        Some(
            "This API token was issued by someone else: approving needs your own session or token."
                .into(),
        )
    } else if !viewer.can(Action::ApprovePromotion) {
        Some("Approving needs the reviewer role.".into())
    } else if reviews
        .iter()
        .any(|x| x.review.reviewer == viewer.username && !x.evidence_changed)
    {
        Some("You have reviewed this request.".into())
    } else {
        approval_refusal(&pol, &r.requested_by, &viewer.username, author)
    };
    let can_waive = open
        && !viewer.delegated
        && r.requested_by != viewer.username
        && viewer.roles.iter().any(|x| pol.waiver_roles.contains(x));
    let history = match (AuditFilterInput {
        object_type: Some("promotion".into()),
        object_id: Some(id.to_string()),
        ..Default::default()
    })
    .validate()
    {
        Ok(f) if viewer.can(Action::ReadAudit) || viewer.can(Action::ReadWorkspace) => {
            let mut rows = audit::page(pool, &f, 200).await?;
            rows.reverse();
            rows
        }
        _ => Vec::new(),
    };
    Ok(RequestView {
        changed_since_request: digest != r.evidence_sha256,
        can_withdraw: open && r.requested_by == viewer.username,
        approvals_needed: pol.approvals_needed(&ev.risk_tier, r.kind == "rollback"),
        request: r,
        checks,
        evidence: ev,
        evidence_sha256: digest,
        reviews,
        approvals,
        policy: policy_ref,
        approve_refusal,
        can_waive,
        history,
    })
}

/// A registered model's page data.
pub async fn model_detail(
    pool: &SqlitePool,
    viewer: &Principal,
    name: &str,
) -> Result<crate::dto::registry::ModelDetail, AppError> {
    let model = registry::get_model(pool, name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no registered model '{name}'")))?;
    let versions = registry::search_versions(
        pool,
        &[registry::VersionFilter::NameEq(name.to_string())],
        10_000,
        0,
    )
    .await?;
    let history = registry::alias_history(pool, name, None).await?;
    let requests = db::list_requests(pool, None, Some(name)).await?;
    Ok(crate::dto::registry::ModelDetail {
        model,
        versions,
        history,
        requests,
        can_request: viewer.can(Action::RequestPromotion),
    })
}

/// Saves a new version of the policy of `scope` (admins) with its audit entry.
pub async fn save_policy(
    pool: &SqlitePool,
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
