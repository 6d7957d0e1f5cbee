//! The `fairness_reports` table.

use crate::domain::fairness::{Mapping, Report};
use crate::store::{Conn, Pool};
use serde::{Deserialize, Serialize};

/// A stored report's header, as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow, schemars::JsonSchema)]
pub struct ReportRow {
    /// The report's id, as in `/fairness/<id>`.
    pub report_id: i64,
    /// Model version (`name@version`).
    pub model_version: Option<String>,
    /// Or the tracking run.
    pub run_id: Option<String>,
    /// Evaluation dataset.
    pub dataset: String,
    /// SHA-256 of the file as uploaded.
    pub file_sha256: String,
    /// Its size.
    pub file_bytes: i64,
    /// Data rows.
    pub rows: i64,
    /// pass or fail.
    pub verdict: String,
    /// One sentence.
    pub sentence: String,
    /// Who uploaded it.
    pub created_by: String,
    /// When.
    pub created_at: String,
}

/// What a new report records.
pub struct NewReport<'a> {
    /// The model version scored, as entered (`credit-default@4`), if given.
    pub model_version: Option<&'a str>,
    /// Run.
    pub run_id: Option<&'a str>,
    /// The scored dataset's name.
    pub dataset: &'a str,
    /// Digest.
    pub file_sha256: &'a str,
    /// Size.
    pub file_bytes: u64,
    /// Which CSV columns hold the label, prediction and groups.
    pub mapping: &'a Mapping,
    /// The computed report.
    pub report: &'a Report,
    /// Uploader.
    pub created_by: &'a str,
    /// Time.
    pub now: &'a str,
}

/// Stores a report; returns its id.
pub async fn insert(conn: &mut Conn, r: &NewReport<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO fairness_reports (model_version, run_id, dataset, file_sha256, file_bytes, rows, mapping, report, verdict, sentence, \
           created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING report_id",
    )
    .bind(r.model_version)
    .bind(r.run_id)
    .bind(r.dataset)
    .bind(r.file_sha256)
    .bind(r.file_bytes as i64)
    .bind(r.report.overall.rows as i64)
    .bind(serde_json::to_string(r.mapping).unwrap_or_else(|_| "{}".into()))
    .bind(serde_json::to_string(r.report).unwrap_or_else(|_| "{}".into()))
    .bind(&r.report.verdict)
    .bind(&r.report.sentence)
    .bind(r.created_by)
    .bind(r.now)
    .fetch_one(conn)
    .await
}

const COLUMNS: &str = "report_id, model_version, run_id, dataset, file_sha256, file_bytes, rows, verdict, sentence, created_by, created_at";

/// Reports, newest first (at most 500).
pub async fn list(pool: &Pool) -> Result<Vec<ReportRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM fairness_reports ORDER BY created_at DESC, report_id DESC LIMIT 500"
    ))
    .fetch_all(pool)
    .await
}

/// One report with its mapping and full report.
pub async fn get(
    pool: &Pool,
    id: i64,
) -> Result<Option<(ReportRow, Mapping, Report)>, sqlx::Error> {
    let row: Option<ReportRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM fairness_reports WHERE report_id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (mapping, report): (String, String) =
        sqlx::query_as("SELECT mapping, report FROM fairness_reports WHERE report_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
    let decode = |s: &str, what: &str| {
        sqlx::Error::Decode(
            format!("fairness report {id}: stored {what} does not parse: {s}").into(),
        )
    };
    Ok(Some((
        row,
        serde_json::from_str(&mapping).map_err(|e| decode(&e.to_string(), "mapping"))?,
        serde_json::from_str(&report).map_err(|e| decode(&e.to_string(), "report"))?,
    )))
}

/// The latest report of another version of the same model, for comparison.
pub async fn previous_of_model(
    pool: &Pool,
    model_version: &str,
    before_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let model = model_version.split('@').next().unwrap_or(model_version);
    sqlx::query_scalar(
        "SELECT report_id FROM fairness_reports WHERE substr(model_version, 1, length($1) + 1) = $1 || '@' AND model_version != $2 AND report_id != $3 \
         ORDER BY created_at DESC, report_id DESC LIMIT 1",
    )
    .bind(model)
    .bind(model_version)
    .bind(before_id)
    .fetch_optional(pool)
    .await
}

/// The policy in force for a model: its own, else the default ('*'), else none stored.
pub async fn policy_for(
    pool: &Pool,
    model: Option<&str>,
) -> Result<Option<crate::domain::fairness::Policy>, sqlx::Error> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT rules, min_group_rows FROM fairness_policies WHERE model IN ($1, '*') ORDER BY model = '*' LIMIT 1",
    )
    .bind(model.unwrap_or("*"))
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(rules, min)| {
        Some(crate::domain::fairness::Policy {
            rules: serde_json::from_str(&rules).ok()?,
            min_group_rows: min.max(0) as u64,
        })
    }))
}

/// Sets a model's policy ('*' for the default).
pub async fn set_policy(
    conn: &mut Conn,
    model: &str,
    policy: &crate::domain::fairness::Policy,
    actor: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO fairness_policies (model, rules, min_group_rows, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (model) DO UPDATE SET rules = excluded.rules, min_group_rows = excluded.min_group_rows, \
           updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(model)
    .bind(serde_json::to_string(&policy.rules).unwrap_or_else(|_| "[]".into()))
    .bind(policy.min_group_rows as i64)
    .bind(actor)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every stored policy: (model, policy, updated_by, updated_at).
pub async fn policies(
    pool: &Pool,
) -> Result<Vec<(String, crate::domain::fairness::Policy, String, String)>, sqlx::Error> {
    let rows: Vec<(String, String, i64, String, String)> =
        sqlx::query_as("SELECT model, rules, min_group_rows, updated_by, updated_at FROM fairness_policies ORDER BY model")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, rules, min, by, at)| {
            Some((
                m,
                crate::domain::fairness::Policy {
                    rules: serde_json::from_str(&rules).ok()?,
                    min_group_rows: min.max(0) as u64,
                },
                by,
                at,
            ))
        })
        .collect())
}

/// The fairness reports of a model version (`name:version`), by id.
pub async fn ids_of_version(pool: &Pool, tag: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT report_id FROM fairness_reports WHERE model_version = $1 ORDER BY report_id",
    )
    .bind(tag)
    .fetch_all(pool)
    .await
}
