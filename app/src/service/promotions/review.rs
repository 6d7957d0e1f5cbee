//! What happens to a pending request: approved or rejected by a reviewer, a check waived,
//! withdrawn by its requester, expired by the sweep; the alias moves when it is cleared.

use super::*;

/// Approves (`approve`) or rejects a pending request, with a comment.
pub async fn review(
    pool: &Pool,
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
    let (ev, pol) = evidence_of_pending(pool, id).await?;
    let mut tx = begin_write(pool).await?;
    let r = pending(&mut tx, id).await?;
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
        let extra = json!({ "comment": comment });
        let rejected = EventKind::PROMOTION_REJECTED;
        promotion_event(&mut tx, rejected, (id, &r), &p.username, extra).await?;
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
    pool: &Pool,
    p: &Principal,
    id: i64,
    check: &str,
    reason: &str,
) -> Result<Outcome, AppError> {
    p.require_own_credentials()?;
    let (ev, pol) = evidence_of_pending(pool, id).await?;
    let mut tx = begin_write(pool).await?;
    let r = pending(&mut tx, id).await?;
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
    let extra = json!({ "check": check, "reason": w.reason });
    promotion_event(
        &mut tx,
        EventKind::PROMOTION_WAIVED,
        (id, &r),
        &p.username,
        extra,
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
pub async fn withdraw(pool: &Pool, p: &Principal, id: i64) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    let r = pending(&mut tx, id).await?;
    if r.requested_by != p.username {
        return Err(AppError::Forbidden {
            message: "Only the requester can withdraw a request.".into(),
        });
    }
    db::close_request(&mut tx, id, "withdrawn", &p.username, &now_ts()).await?;
    audit_entry(&mut tx, &p.actor(), "promotion.withdraw", id, json!({})).await?;
    let withdrawn = EventKind::PROMOTION_WITHDRAWN;
    promotion_event(&mut tx, withdrawn, (id, &r), &p.username, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Closes pending requests past their expiry (as `system`); returns how many.
pub async fn expire(pool: &Pool) -> Result<usize, AppError> {
    let now = now_ts();
    let mut tx = begin_write(pool).await?;
    let ids = db::expired_ids(&mut tx, &now).await?;
    for id in &ids {
        db::close_request(&mut tx, *id, "expired", "system", &now).await?;
        audit_entry(&mut tx, "system", "promotion.expire", *id, json!({})).await?;
        if let Some(r) = db::get_request(&mut tx, *id).await? {
            let expired = EventKind::PROMOTION_EXPIRED;
            promotion_event(&mut tx, expired, (*id, &r), "system", json!({})).await?;
        }
    }
    tx.commit().await?;
    Ok(ids.len())
}
