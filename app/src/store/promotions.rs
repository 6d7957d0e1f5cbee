//! Promotion policies (versioned per scope), promotion requests, reviews and waivers.

use crate::domain::promotion::{
    parse_policy, AbEvidence, DatasetEvidence, Evidence, FairnessEvidence, Policy, PolicyRef,
    RunEvidence, Waiver, DEFAULT_POLICY,
};
pub use crate::dto::registry::{PolicyVersion, PromotionRequest as Request, Review};
use crate::error::AppError;
use sha2::{Digest, Sha256};
use sqlx::{SqliteConnection, SqlitePool};

/// Validates a scope.
pub fn check_scope(scope: &str) -> Result<(), AppError> {
    let ok = scope == "*"
        || scope
            .strip_prefix("tier:")
            .is_some_and(|t| crate::domain::promotion::RISK_TIERS.contains(&t))
        || scope
            .strip_prefix("model:")
            .is_some_and(|m| !m.trim().is_empty());
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(
            "scope",
            format!(
                "'{scope}' is not a policy scope: '*', 'tier:low|medium|high' or 'model:<name>'"
            ),
        ))
    }
}

/// Stores a new version of the policy of `scope` after validating it; returns it.
pub async fn save_policy(
    conn: &mut SqliteConnection,
    scope: &str,
    text: &str,
    by: &str,
    now: &str,
) -> Result<PolicyVersion, AppError> {
    check_scope(scope)?;
    parse_policy(text).map_err(|e| AppError::validation("text", e.to_string()))?;
    let sha = hex::encode(Sha256::digest(text.as_bytes()));
    Ok(sqlx::query_as(
        "INSERT INTO promotion_policies (scope, version, text, sha256, created_by, created_at) \
         SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3, ?4, ?5 FROM promotion_policies WHERE scope = ?1 \
         RETURNING policy_id, scope, version, text, sha256, created_by, created_at",
    )
    .bind(scope)
    .bind(text)
    .bind(sha)
    .bind(by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

/// Every version of every scope, newest first within a scope.
pub async fn policy_versions(pool: &SqlitePool) -> Result<Vec<PolicyVersion>, sqlx::Error> {
    sqlx::query_as(
        "SELECT policy_id, scope, version, text, sha256, created_by, created_at FROM promotion_policies \
         ORDER BY scope, version DESC",
    )
    .fetch_all(pool)
    .await
}

/// The stored version in force for a model: its own scope, else its tier's, else `*`.
pub async fn policy_row_for(
    pool: &SqlitePool,
    model: &str,
) -> Result<Option<PolicyVersion>, sqlx::Error> {
    let tier: Option<String> =
        sqlx::query_scalar("SELECT risk_tier FROM registered_models WHERE name = ?")
            .bind(model)
            .fetch_optional(pool)
            .await?;
    let tier = tier.unwrap_or_else(|| "medium".into());
    sqlx::query_as(
        "SELECT policy_id, scope, version, text, sha256, created_by, created_at FROM promotion_policies \
         WHERE scope IN (?1, ?2, '*') \
         ORDER BY CASE scope WHEN ?1 THEN 0 WHEN ?2 THEN 1 ELSE 2 END, version DESC LIMIT 1",
    )
    .bind(format!("model:{model}"))
    .bind(format!("tier:{tier}"))
    .fetch_optional(pool)
    .await
}

/// The policy in force for a model, parsed, with its reference (the built-in default, version
/// 0, when none is stored).
pub async fn policy_for_model(
    pool: &SqlitePool,
    model: &str,
) -> Result<(PolicyRef, Policy), AppError> {
    match policy_row_for(pool, model).await? {
        Some(row) => {
            // Stored texts were validated on save; a text that no longer parses (after an
            // upgrade, say) is an internal error rather than a silent fallback.
            let policy = parse_policy(&row.text).map_err(|e| {
                tracing::error!(scope = %row.scope, version = row.version, error = %e, "stored policy does not parse");
                AppError::internal()
            })?;
            Ok((
                PolicyRef {
                    scope: row.scope,
                    version: row.version,
                    sha256: row.sha256,
                },
                policy,
            ))
        }
        None => Ok((
            PolicyRef {
                scope: "*".into(),
                version: 0,
                sha256: hex::encode(Sha256::digest(DEFAULT_POLICY.as_bytes())),
            },
            Policy::default_policy(),
        )),
    }
}

// ---- evidence ------------------------------------------------------------------------------

/// Unix ms of a stored RFC 3339 timestamp (0 when it does not parse).
pub fn ts_ms(ts: &str) -> i64 {
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

/// The facts a promotion of `name@version` to `alias` is judged on, as stored now, and the
/// policy in force that judges them (its reference is part of the evidence).
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub async fn gather_evidence(
    pool: &SqlitePool,
    name: &str,
    version: i64,
    alias: &str,
) -> Result<(Evidence, Policy), AppError> {
    let row: Option<(Option<String>, String)> = sqlx::query_as(
        "SELECT v.run_id, m.risk_tier FROM model_versions v JOIN registered_models m ON m.name = v.name \
         WHERE v.name = ? AND v.version = ?",
    )
    .bind(name)
    .bind(version)
    .fetch_optional(pool)
    .await?;
    let (run_id, risk_tier) = row.ok_or_else(|| {
        AppError::not_found(format!(
            "Model Version (name={name}, version={version}) not found"
        ))
    })?;
    let champion: Option<i64> =
        sqlx::query_scalar("SELECT version FROM model_aliases WHERE name = ? AND alias = ?")
            .bind(name)
            .bind(alias)
            .fetch_optional(pool)
            .await?;
    let mut run = None;
    let mut datasets = Vec::new();
    if let Some(run_id) = run_id {
        let info: Option<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT user_id, start_time, end_time FROM runs WHERE run_uuid = ? AND lifecycle_stage = 'active'",
        )
        .bind(&run_id)
        .fetch_optional(pool)
        .await?;
        if let Some((author, start, end)) = info {
            let metrics: Vec<(String, f64)> = sqlx::query_as(
                "SELECT key, value FROM latest_metrics WHERE run_uuid = ? AND is_nan = 0 AND value IS NOT NULL ORDER BY key",
            )
            .bind(&run_id)
            .fetch_all(pool)
            .await?;
            datasets = sqlx::query_as::<_, (String, String, String)>(
                "SELECT d.name, d.digest, d.source FROM run_inputs i JOIN datasets d ON d.dataset_id = i.dataset_id \
                 WHERE i.run_uuid = ? ORDER BY d.name, d.digest",
            )
            .bind(&run_id)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(name, digest, source)| DatasetEvidence {
                name,
                digest: Some(digest).filter(|d| !d.is_empty()),
                source,
            })
            .collect();
            run = Some(RunEvidence {
                run_id,
                author,
                at_ms: end.or(start).unwrap_or(0),
                metrics: metrics.into_iter().collect(),
            });
        }
    }
    let mv = format!("{name}@{version}");
    let fairness = sqlx::query_as::<_, (i64, String, String, Option<String>, String)>(
        "SELECT report_id, verdict, sentence, json_extract(mapping, '$.attributes'), created_at \
         FROM fairness_reports WHERE model_version = ? ORDER BY created_at DESC, report_id DESC LIMIT 1",
    )
    .bind(&mv)
    .fetch_optional(pool)
    .await?
    .map(|(report_id, verdict, sentence, attrs, at)| FairnessEvidence {
        report_id,
        verdict,
        sentence,
        attributes: attrs
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default(),
        at_ms: ts_ms(&at),
    });
    let ab_test = sqlx::query_as::<_, (i64, String, String, String, String)>(
        "SELECT t.test_id, t.name, d.decision, d.sentence, d.decided_at FROM ab_variants v \
         JOIN ab_tests t ON t.test_id = v.test_id JOIN ab_decisions d ON d.test_id = v.test_id \
         WHERE v.model_version = ? ORDER BY d.decided_at DESC, d.decision_id DESC LIMIT 1",
    )
    .bind(&mv)
    .fetch_optional(pool)
    .await?
    .map(|(test_id, name, decision, sentence, at)| AbEvidence {
        test_id,
        name,
        decision,
        sentence,
        at_ms: ts_ms(&at),
    });
    let artifact = {
        let mut conn = pool.acquire().await?;
        crate::store::artifacts::evidence_for_version(&mut conn, name, version).await?
    };
    let (policy_ref, policy) = policy_for_model(pool, name).await?;
    let ev = Evidence {
        model: name.to_string(),
        version,
        alias: alias.to_string(),
        risk_tier,
        champion,
        run,
        datasets,
        fairness,
        ab_test,
        artifact,
        policy: policy_ref,
    };
    Ok((ev, policy))
}

// ---- requests ------------------------------------------------------------------------------

const REQUEST_COLUMNS: &str = "request_id, name, version, alias, kind, justification, requested_by, requested_at, expires_at, status, \
     closed_at, closed_by, previous_version, evidence, evidence_sha256";

/// Stores a new pending request; returns its id.
pub async fn insert_request(conn: &mut SqliteConnection, r: &Request) -> Result<i64, AppError> {
    let id = sqlx::query_scalar(
        "INSERT INTO promotion_requests (name, version, alias, kind, justification, requested_by, requested_at, expires_at, status, \
         previous_version, evidence, evidence_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) \
         ON CONFLICT DO NOTHING RETURNING request_id",
    )
    .bind(&r.name)
    .bind(r.version)
    .bind(&r.alias)
    .bind(&r.kind)
    .bind(&r.justification)
    .bind(&r.requested_by)
    .bind(&r.requested_at)
    .bind(&r.expires_at)
    .bind(r.previous_version)
    .bind(&r.evidence)
    .bind(&r.evidence_sha256)
    .fetch_optional(&mut *conn)
    .await?;
    id.ok_or_else(|| {
        AppError::conflict(format!(
            "{}@{} already has a pending request for '{}'",
            r.name, r.version, r.alias
        ))
    })
}

/// One request.
pub async fn get_request(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Request>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE request_id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
}

/// Requests in a status (all when `None`), newest first.
pub async fn list_requests(
    pool: &SqlitePool,
    status: Option<&str>,
    model: Option<&str>,
) -> Result<Vec<Request>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REQUEST_COLUMNS} FROM promotion_requests WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR name = ?2) \
         ORDER BY requested_at DESC, request_id DESC LIMIT 1000"
    ))
    .bind(status)
    .bind(model)
    .fetch_all(pool)
    .await
}

/// Reviews of a request, oldest first.
pub async fn reviews(conn: &mut SqliteConnection, id: i64) -> Result<Vec<Review>, sqlx::Error> {
    sqlx::query_as(
        "SELECT reviewer, decision, comment, evidence_sha256, reviewed_at FROM promotion_reviews \
         WHERE request_id = ? ORDER BY reviewed_at, review_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
}

/// Records a review (one per reviewer and request). An approval given on evidence that has
/// since changed has lapsed: the reviewer's new review replaces it (the lapsed one stays in
/// the audit trail); a review on the current evidence cannot be given twice.
pub async fn insert_review(
    conn: &mut SqliteConnection,
    id: i64,
    r: &Review,
) -> Result<(), AppError> {
    let done = sqlx::query(
        "INSERT INTO promotion_reviews (request_id, reviewer, decision, comment, evidence_sha256, reviewed_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (request_id, reviewer) DO UPDATE SET \
           decision = excluded.decision, comment = excluded.comment, \
           evidence_sha256 = excluded.evidence_sha256, reviewed_at = excluded.reviewed_at \
         WHERE promotion_reviews.evidence_sha256 <> excluded.evidence_sha256",
    )
    .bind(id)
    .bind(&r.reviewer)
    .bind(&r.decision)
    .bind(&r.comment)
    .bind(&r.evidence_sha256)
    .bind(&r.reviewed_at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::conflict(
            "You have already reviewed this request.",
        ));
    }
    Ok(())
}

/// Waivers of a request.
pub async fn waivers(conn: &mut SqliteConnection, id: i64) -> Result<Vec<Waiver>, sqlx::Error> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT check_id, waived_by, reason, waived_at FROM promotion_waivers WHERE request_id = ? ORDER BY waived_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(check, by, reason, at)| Waiver {
            check,
            by,
            reason,
            at,
        })
        .collect())
}

/// Records a waiver (one per check and request).
pub async fn insert_waiver(
    conn: &mut SqliteConnection,
    id: i64,
    w: &Waiver,
) -> Result<(), AppError> {
    let done = sqlx::query(
        "INSERT INTO promotion_waivers (request_id, check_id, reason, waived_by, waived_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(&w.check)
    .bind(&w.reason)
    .bind(&w.by)
    .bind(&w.at)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::conflict(format!(
            "'{}' is already waived",
            w.check
        )));
    }
    Ok(())
}

/// Closes a pending request; false when it was no longer pending.
pub async fn close_request(
    conn: &mut SqliteConnection,
    id: i64,
    status: &str,
    by: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE promotion_requests SET status = ?, closed_at = ?, closed_by = ? WHERE request_id = ? AND status = 'pending'",
    )
    .bind(status)
    .bind(now)
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pending requests past their expiry.
pub async fn expired_ids(conn: &mut SqliteConnection, now: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT request_id FROM promotion_requests WHERE status = 'pending' AND expires_at <= ? ORDER BY request_id",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await
}

/// The model name and version a promotion request is for.
pub async fn target_of(
    pool: &SqlitePool,
    request_id: i64,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT name, version FROM promotion_requests WHERE request_id = ?")
        .bind(request_id)
        .fetch_optional(pool)
        .await
}
