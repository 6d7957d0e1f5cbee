//! Stored fairness reports and policies: each written with its audit entry in one transaction,
//! and read back for the pages.

use super::query::bad;
use super::Query;
use crate::domain::fairness::{report, Mapping, Policy, Report, Settings, Tally};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::service::audit_and_commit;
use crate::service::auth::Principal;
use crate::store::begin_write;
use crate::store::fairness::{self as db, NewReport};
use crate::store::Pool;
use serde_json::json;

/// The report of a finished upload, or why there is none (a reference group without rows).
pub fn report_of(tally: &Tally, settings: &Settings) -> Result<Report, FieldError> {
    report(tally, settings).map_err(|m| bad("reference", m.into()))
}

/// A stored report's header as the pages show it.
pub fn summary_of(r: crate::store::fairness::ReportRow) -> crate::dto::FairnessSummary {
    crate::dto::FairnessSummary {
        id: r.report_id,
        model_version: r.model_version,
        run_id: r.run_id,
        dataset: r.dataset,
        rows: r.rows,
        verdict: r.verdict,
        sentence: r.sentence,
        created_by: r.created_by,
        created_at: r.created_at,
        file_sha256: r.file_sha256,
    }
}

/// Everything a report's page shows.
pub async fn view(
    pool: &crate::store::Pool,
    id: i64,
) -> Result<crate::dto::FairnessView, crate::error::AppError> {
    use crate::store::fairness as db;
    let (row, mapping, report) = db::get(pool, id)
        .await?
        .ok_or_else(|| crate::error::AppError::not_found(format!("no fairness report {id}")))?;
    let rule = report.policy.rules.first().cloned();
    let metric = rule
        .as_ref()
        .map(|r| r.metric.clone())
        .unwrap_or_else(|| "favorable_rate".into());
    let band = rule.as_ref().map(|r| (r.min_ratio, r.max_ratio));
    let charts = report
        .tables()
        .filter_map(|(a, r)| {
            let bars: Vec<(String, f64, bool, bool)> = r
                .groups
                .iter()
                .map(|(g, gr)| {
                    (
                        g.clone(),
                        gr.metrics.get(&metric).unwrap_or(0.0),
                        *g == r.reference_group,
                        gr.pass,
                    )
                })
                .collect();
            crate::service::charts::group_bars(&bars, band, &metric.replace('_', " "), 720)
                .map(|svg| (a.to_owned(), svg))
        })
        .collect();
    let previous = match &row.model_version {
        Some(m) => match db::previous_of_model(pool, m, id).await? {
            Some(p) => db::get(pool, p).await?.map(|(r, _, _)| summary_of(r)),
            None => None,
        },
        None => None,
    };
    Ok(crate::dto::FairnessView {
        summary: summary_of(row),
        mapping,
        report,
        charts,
        previous,
    })
}

/// A finished upload to store as a report.
#[derive(Debug)]
pub struct ReportUpload<'a> {
    /// The model version it judges (`name@version`).
    pub model_version: Option<&'a str>,
    /// Or the tracking run whose predictions it judges.
    pub run_id: Option<&'a str>,
    /// The evaluation dataset's name.
    pub dataset: &'a str,
    /// SHA-256 of the file as sent.
    pub file_sha256: &'a str,
    /// The file's size as sent.
    pub file_bytes: u64,
    /// How its columns were read.
    pub mapping: &'a Mapping,
    /// The report computed from the upload.
    pub report: &'a Report,
}

/// Stores a report with its audit entry; returns its id.
pub async fn store_report(
    pool: &Pool,
    p: &Principal,
    r: &ReportUpload<'_>,
) -> Result<i64, AppError> {
    let (actor, now) = (p.actor(), crate::service::now_ts());
    let mut tx = begin_write(pool).await?;
    let new = NewReport {
        model_version: r.model_version,
        run_id: r.run_id,
        dataset: r.dataset,
        file_sha256: r.file_sha256,
        file_bytes: r.file_bytes,
        mapping: r.mapping,
        report: r.report,
        created_by: &actor,
        now: &now,
    };
    let id = db::insert(&mut tx, &new).await?;
    if r.report.verdict == "fail" {
        let mv = r.model_version.unwrap_or("");
        let (name, version) = mv.rsplit_once('@').unwrap_or((mv, ""));
        let data = json!({
            "report_id": id, "name": name, "version": version, "run_id": r.run_id,
            "dataset": r.dataset, "reason": r.report.sentence, "actor": actor,
        });
        let link = format!("/fairness/{id}");
        let kind = crate::domain::webhooks::EventKind::FAIRNESS_FAILED;
        crate::service::webhooks::emit(&mut tx, kind, data, Some(&link)).await?;
    }
    let details = json!({
        "model_version": r.model_version, "run_id": r.run_id, "dataset": r.dataset,
        "file_sha256": r.file_sha256, "rows": r.report.overall.rows, "verdict": r.report.verdict,
        "policy": r.report.policy,
    });
    let object = id.to_string();
    audit_and_commit(
        tx,
        p,
        "fairness.report",
        ("fairness_report", &object),
        details,
    )
    .await?;
    Ok(id)
}

/// Sets the fairness policy of `model` (a model name without `@version`, or `*` for the
/// default); returns the name as stored.
pub async fn set_policy(
    pool: &Pool,
    p: &Principal,
    model: &str,
    policy: &Policy,
) -> Result<String, AppError> {
    let model = model.trim().to_owned();
    if model.is_empty() || model.contains('@') || model.chars().count() > 200 {
        return Err(AppError::validation(
            "model",
            "a model name (without @version), or * for the default",
        ));
    }
    policy.validate()?;
    let now = crate::service::now_ts();
    let mut tx = begin_write(pool).await?;
    db::set_policy(&mut tx, &model, policy, &p.actor(), &now).await?;
    let details = json!({ "rules": policy.rules, "min_group_rows": policy.min_group_rows });
    audit_and_commit(
        tx,
        p,
        "fairness.policy",
        ("fairness_policy", &model),
        details,
    )
    .await?;
    Ok(model)
}

/// The report settings: the query's, with the model's stored policy (or the default one)
/// unless the query gives its own rules.
pub async fn settings_for(pool: &Pool, q: &Query) -> Result<Settings, AppError> {
    let (_, mut settings) = q.settings()?;
    if q.rules.as_deref().is_none_or(|r| r.trim().is_empty()) {
        let model = q
            .model_version
            .as_deref()
            .and_then(|m| m.split('@').next())
            .filter(|m| !m.is_empty());
        if let Some(p) = db::policy_for(pool, model).await? {
            let min = if q
                .min_group_rows
                .as_deref()
                .is_some_and(|m| !m.trim().is_empty())
            {
                settings.policy.min_group_rows
            } else {
                p.min_group_rows
            };
            settings.policy = Policy {
                rules: p.rules,
                min_group_rows: min,
            };
        }
    }
    Ok(settings)
}

/// Computes and stores a finished upload's report, with its audit entry, under the settings
/// `q` asks for; returns the report's id.
pub async fn store_upload(
    pool: &Pool,
    p: &Principal,
    q: &Query,
    tally: &Tally,
    digest: &str,
    bytes: u64,
) -> Result<i64, AppError> {
    let (mapping, _) = q.settings()?;
    let settings = settings_for(pool, q).await?;
    let report = report_of(tally, &settings)?;
    let model_version = q
        .model_version
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let run_id = q.run_id.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let dataset = q.dataset.as_deref().map(str::trim).unwrap_or_default();
    let upload = ReportUpload {
        model_version,
        run_id,
        dataset,
        file_sha256: digest,
        file_bytes: bytes,
        mapping: &mapping,
        report: &report,
    };
    store_report(pool, p, &upload).await
}
