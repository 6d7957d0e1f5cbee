//! What the promotion pages read: the reviewer queue, a request with its checks and reviews,
//! and a registered model's versions, alias history and requests.

use super::*;

/// The reviewer queue: requests in `status` (pending by default) with their check summary.
///
/// A read: requests past their expiry that the minute sweep ([`expire`]) has not closed yet are
/// shown as expired (and left out of the pending queue), not closed here.
pub async fn queue(pool: &Pool, status: Option<&str>) -> Result<Vec<QueueItem>, AppError> {
    let now = now_ts();
    let lapsed = |r: &Request| r.status == "pending" && r.expires_at <= now;
    let mut out = Vec::new();
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
        // A connection is taken only for these two reads: one held while the evidence
        // above takes its own would leave a busy pool's every connection waiting on another.
        let mut conn = pool.acquire().await?;
        let waivers = db::waivers(&mut conn, r.request_id).await?;
        let checks = checks_for(&pol, &ev, &waivers);
        let reviews = db::reviews(&mut conn, r.request_id).await?;
        drop(conn);
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

/// The pending requests of `pending` waiting for `p`'s review ("waiting for you"): `p` may
/// approve, did not request it and has not reviewed it yet. Empty for anyone who may not approve.
pub async fn waiting_for(
    pool: &Pool,
    p: &Principal,
    pending: Vec<QueueItem>,
) -> Result<Vec<QueueItem>, AppError> {
    if !p.can(Action::ApprovePromotion) {
        return Ok(Vec::new());
    }
    let reviewed = crate::store::home::reviewed_pending(pool, &p.username).await?;
    Ok(pending
        .into_iter()
        .filter(|q| {
            q.request.status == "pending"
                && q.request.requested_by != p.username
                && !reviewed.contains(&q.request.request_id)
        })
        .collect())
}

/// The request page's data, for `viewer`.
pub async fn view(pool: &Pool, viewer: &Principal, id: i64) -> Result<RequestView, AppError> {
    let r = db::get_request(&mut *pool.acquire().await?, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no promotion request #{id}")))?;
    let (mut ev, pol) = db::gather_evidence(pool, &r.name, r.version, &r.alias).await?;
    // Taken after the evidence, which reads through the pool itself (see `queue`).
    let mut conn = pool.acquire().await?;
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
    drop(conn);
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
    pool: &Pool,
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
