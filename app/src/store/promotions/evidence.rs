//! The evidence a promotion is judged on, gathered from the registry, tracking, A/B tests,
//! fairness reports and lineage as stored now.

use super::policy_for_model;
use super::ts_ms;
use crate::domain::promotion::{
    AbEvidence, DatasetEvidence, Evidence, FairnessEvidence, Policy, RunEvidence,
};
use crate::error::AppError;
use crate::store::Pool;

/// The facts a promotion of `name@version` to `alias` is judged on, as stored now, and the
/// policy in force that judges them (its reference is part of the evidence).
pub async fn gather_evidence(
    pool: &Pool,
    name: &str,
    version: i64,
    alias: &str,
) -> Result<(Evidence, Policy), AppError> {
    let row: Option<(Option<String>, String)> = sqlx::query_as(
        "SELECT v.run_id, m.risk_tier FROM model_versions v JOIN registered_models m ON m.name = v.name \
         WHERE v.name = $1 AND v.version = $2",
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
        sqlx::query_scalar("SELECT version FROM model_aliases WHERE name = $1 AND alias = $2")
            .bind(name)
            .bind(alias)
            .fetch_optional(pool)
            .await?;
    let (run, datasets) = match run_id {
        Some(run_id) => training_run(pool, run_id).await?,
        None => (None, Vec::new()),
    };
    let mv = format!("{name}@{version}");
    let fairness = latest_fairness(pool, &mv).await?;
    let ab_test = latest_ab_decision(pool, &mv).await?;
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

/// The training run (when active): its author, when it ended, its latest metrics, and the
/// datasets it read.
async fn training_run(
    pool: &Pool,
    run_id: String,
) -> Result<(Option<RunEvidence>, Vec<DatasetEvidence>), AppError> {
    let info: Option<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT user_id, start_time, end_time FROM runs WHERE run_uuid = $1 AND lifecycle_stage = 'active'",
    )
    .bind(&run_id)
    .fetch_optional(pool)
    .await?;
    let Some((author, start, end)) = info else {
        return Ok((None, Vec::new()));
    };
    let metrics: Vec<(String, f64)> = sqlx::query_as(
        "SELECT key, value FROM latest_metrics WHERE run_uuid = $1 AND NOT is_nan AND value IS NOT NULL ORDER BY key",
    )
    .bind(&run_id)
    .fetch_all(pool)
    .await?;
    let datasets: Vec<DatasetEvidence> = sqlx::query_as::<_, (String, String, String)>(
        "SELECT d.name, d.digest, d.source FROM run_inputs i JOIN datasets d ON d.dataset_id = i.dataset_id \
         WHERE i.run_uuid = $1 ORDER BY d.name, d.digest",
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
    let run = RunEvidence {
        run_id,
        author,
        at_ms: end.or(start).unwrap_or(0),
        metrics: metrics.into_iter().collect(),
    };
    Ok((Some(run), datasets))
}

/// The version's latest fairness report.
async fn latest_fairness(pool: &Pool, mv: &str) -> Result<Option<FairnessEvidence>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String, Option<String>, String)>(
        "SELECT report_id, verdict, sentence, mapping, created_at \
         FROM fairness_reports WHERE model_version = $1 ORDER BY created_at DESC, report_id DESC LIMIT 1",
    )
    .bind(mv)
    .fetch_optional(pool)
    .await?
    .map(|(report_id, verdict, sentence, mapping, at)| FairnessEvidence {
        report_id,
        verdict,
        sentence,
        // The report's column mapping (JSON) names the attributes it was computed over.
        attributes: mapping
            .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
            .and_then(|m| serde_json::from_value(m.get("attributes")?.clone()).ok())
            .unwrap_or_default(),
        at_ms: ts_ms(&at),
    }))
}

/// The latest decision of an A/B test the version took part in.
async fn latest_ab_decision(pool: &Pool, mv: &str) -> Result<Option<AbEvidence>, AppError> {
    Ok(sqlx::query_as::<_, (i64, String, String, String, String)>(
        "SELECT t.test_id, t.name, d.decision, d.sentence, d.decided_at FROM ab_variants v \
         JOIN ab_tests t ON t.test_id = v.test_id JOIN ab_decisions d ON d.test_id = v.test_id \
         WHERE v.model_version = $1 ORDER BY d.decided_at DESC, d.decision_id DESC LIMIT 1",
    )
    .bind(mv)
    .fetch_optional(pool)
    .await?
    .map(|(test_id, name, decision, sentence, at)| AbEvidence {
        test_id,
        name,
        decision,
        sentence,
        at_ms: ts_ms(&at),
    }))
}
