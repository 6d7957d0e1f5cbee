//! The evidence pack of a model version: one JSON document with everything its promotion rests
//! on (the version, its lineage, training run, model files, A/B tests, fairness reports,
//! promotion requests and alias moves) and the audit entries about all of it, with their
//! inclusion proofs against one signed checkpoint, verifiable like an audit export.

use crate::domain::audit_query::{AuditFilter, AuditFilterInput};
use crate::domain::lineage::NodeRef;
use crate::dto::registry::ModelVersion;
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::service::lineage::graph::graph_json;
use crate::service::state::AppState;
use crate::service::{ab_tests, audit_export, now_ts, promotions};
use crate::store;
use crate::store::registry;
use serde_json::{json, Value};

/// What the pack's `artifacts.manifest_format` says the manifest is.
const MANIFEST_FORMAT: &str =
    "one line per file, sorted by path: path TAB size TAB sha256 LF; digest = sha256 of those lines";

/// The objects whose audit entries the pack carries, as (object type, object id).
type Objects = Vec<(String, String)>;

/// The pack of `name` version `version` as `p` may read it (`generated_by` names them);
/// 404 when there is no such model or version.
pub async fn evidence_pack(
    s: &AppState,
    p: &Principal,
    name: &str,
    version: i64,
) -> Result<Value, AppError> {
    let model = registry::get_model(&s.pool, name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no registered model '{name}'")))?;
    let mv = registry::get_version(&s.pool, name, version)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no version {version} of '{name}'")))?;
    let tag = format!("{name}@{version}");
    let node = NodeRef::ModelVersion {
        name: name.to_owned(),
        version: version.to_string(),
    };
    let lineage = graph_json(&s.pool, &node, 8, 2).await?;
    let run = training_run(s, &mv).await?;
    let (ab_tests, test_ids) = ab_tests_of(s, &tag).await?;
    let (fairness, report_ids) = fairness_reports_of(s, &tag).await?;
    let (promotions, request_ids) = promotions_of(s, p, name, version).await?;
    let moves: Vec<_> = registry::alias_history(&s.pool, name, None)
        .await?
        .into_iter()
        .filter(|m| m.version == Some(version) || m.previous_version == Some(version))
        .collect();
    let (artifacts, logged_model) = model_files(s, name, version).await?;
    // The audit trail's filters, in the order the pack has always listed them.
    let ids = |kind: &str, ids: &[i64]| {
        ids.iter()
            .map(|i| (kind.to_owned(), i.to_string()))
            .collect::<Vec<_>>()
    };
    let mut objects: Objects = vec![
        ("model_version".into(), tag.clone()),
        ("registered_model".into(), name.to_owned()),
    ];
    objects.extend(ids("promotion", &request_ids));
    objects.extend(ids("fairness_report", &report_ids));
    objects.extend(ids("ab_test", &test_ids));
    objects.extend(mv.run_id.iter().map(|r| ("run".to_owned(), r.clone())));
    objects.extend(logged_model.map(|m| ("logged_model".to_owned(), m)));
    let audit = audit_export::build_many(&s.pool, &audit_filters(objects)?).await?;
    Ok(json!({
        "format": "gatehouse.evidence-pack.v1",
        "generated_at": now_ts(),
        "generated_by": p.actor(),
        "model": model,
        "version": mv,
        "lineage": lineage,
        "run": run,
        "artifacts": artifacts,
        "ab_tests": ab_tests,
        "fairness_reports": fairness,
        "promotion_requests": promotions,
        "alias_history": moves,
        "audit": audit,
    }))
}

/// The run that trained the version, as the tracking API gives it (`null` without one).
async fn training_run(s: &AppState, mv: &ModelVersion) -> Result<Value, AppError> {
    let Some(r) = &mv.run_id else {
        return Ok(Value::Null);
    };
    let runs = store::tracking::runs_json(&s.pool, std::slice::from_ref(r)).await?;
    Ok(runs
        .first()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(Value::Null))
}

/// Every A/B test with the version among its variants, as its page shows it.
async fn ab_tests_of(s: &AppState, tag: &str) -> Result<(Vec<Value>, Vec<i64>), AppError> {
    let mut tests = Vec::new();
    let ids = store::ab_tests::ids_comparing_version(&s.pool, tag).await?;
    for id in &ids {
        let view = ab_tests::view(s, *id, None, false, false).await?;
        tests.push(serde_json::to_value(view).unwrap_or_default());
    }
    Ok((tests, ids))
}

/// Every fairness report of the version: the stored report, its column mapping and result.
async fn fairness_reports_of(s: &AppState, tag: &str) -> Result<(Vec<Value>, Vec<i64>), AppError> {
    let mut reports = Vec::new();
    let ids = store::fairness::ids_of_version(&s.pool, tag).await?;
    for id in &ids {
        if let Some((row, mapping, report)) = store::fairness::get(&s.pool, *id).await? {
            reports.push(json!({ "report": row, "mapping": mapping, "result": report }));
        }
    }
    Ok((reports, ids))
}

/// Every promotion request for the version, with its checks, reviews and waivers.
async fn promotions_of(
    s: &AppState,
    p: &Principal,
    name: &str,
    version: i64,
) -> Result<(Vec<promotions::RequestView>, Vec<i64>), AppError> {
    let mut views = Vec::new();
    let mut ids = Vec::new();
    for r in store::promotions::list_requests(&s.pool, None, Some(name)).await? {
        if r.version == version {
            ids.push(r.request_id);
            views.push(promotions::view(&s.pool, p, r.request_id).await?);
        }
    }
    Ok((views, ids))
}

/// The model's bytes: the manifest its digest is over and the latest re-hash (`null` when no
/// files are bound to the version), and the logged model they came from.
async fn model_files(
    s: &AppState,
    name: &str,
    version: i64,
) -> Result<(Value, Option<String>), AppError> {
    let mut conn = s.pool.acquire().await?;
    let Some(b) = store::artifacts::bound_to_version(&mut conn, name, version).await? else {
        return Ok((Value::Null, None));
    };
    let verified = store::artifacts::latest_verification(&mut conn, &b.prefix, &b.digest).await?;
    let files = json!({
        "source": b.source,
        "model_id": b.model_id,
        "digest": b.digest,
        "sealed": b.sealed,
        "manifest": b.manifest,
        "manifest_format": MANIFEST_FORMAT,
        "latest_verification": verified,
    });
    Ok((files, b.model_id))
}

/// One audit filter per object the pack is about.
fn audit_filters(objects: Objects) -> Result<Vec<AuditFilter>, AppError> {
    objects
        .into_iter()
        .map(|(t, id)| {
            AuditFilterInput {
                object_type: Some(t),
                object_id: Some(id),
                ..Default::default()
            }
            .validate()
            .map_err(AppError::from)
        })
        .collect()
}
