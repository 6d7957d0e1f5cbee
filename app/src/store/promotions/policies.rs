//! Promotion policies, versioned per scope (a model or everywhere): save, list, and the one
//! in force for a model.

use super::PolicyVersion;
use crate::domain::promotion::{parse_policy, Policy, PolicyRef, DEFAULT_POLICY};
use crate::error::AppError;
use crate::store::{Conn, Pool};
use sha2::{Digest, Sha256};

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
    conn: &mut Conn,
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
         SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5 FROM promotion_policies WHERE scope = $1 \
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
pub async fn policy_versions(pool: &Pool) -> Result<Vec<PolicyVersion>, sqlx::Error> {
    sqlx::query_as(
        "SELECT policy_id, scope, version, text, sha256, created_by, created_at FROM promotion_policies \
         ORDER BY scope, version DESC",
    )
    .fetch_all(pool)
    .await
}

/// The stored version in force for a model: its own scope, else its tier's, else `*`.
pub async fn policy_row_for(
    pool: &Pool,
    model: &str,
) -> Result<Option<PolicyVersion>, sqlx::Error> {
    let tier: Option<String> =
        sqlx::query_scalar("SELECT risk_tier FROM registered_models WHERE name = $1")
            .bind(model)
            .fetch_optional(pool)
            .await?;
    let tier = tier.unwrap_or_else(|| "medium".into());
    sqlx::query_as(
        "SELECT policy_id, scope, version, text, sha256, created_by, created_at FROM promotion_policies \
         WHERE scope IN ($1, $2, '*') \
         ORDER BY CASE scope WHEN $1 THEN 0 WHEN $2 THEN 1 ELSE 2 END, version DESC LIMIT 1",
    )
    .bind(format!("model:{model}"))
    .bind(format!("tier:{tier}"))
    .fetch_optional(pool)
    .await
}

/// The policy in force for a model, parsed, with its reference (the built-in default, version
/// 0, when none is stored).
pub async fn policy_for_model(pool: &Pool, model: &str) -> Result<(PolicyRef, Policy), AppError> {
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
