//! Runs read as plain rows and made into documents in Rust: PostgreSQL's path.
//!
//! SQLite builds a run's MLflow document itself ([`super::RUN_JSON`]) in microseconds.
//! PostgreSQL's JSON functions cost about 40 µs a run (a `json_build_object` per param, tag
//! and metric), which made a 100-run `runs/search` page three times SQLite's; here the same
//! page is three statements of rows (attributes; params, tags and metrics; inputs), one
//! connection, and the documents are written by serde, key for key as [`super::RUN_JSON`].

use super::run_doc::RunDoc;
use super::{DatasetInput, MetricPoint, Run, RunInfo};
use crate::store::Pool;
use std::collections::HashMap;

/// The ids bound as one JSON array, so the statements are the same text for any page size
/// (and stay prepared).
const IDS: &str = "WITH ids AS (SELECT json_array_elements_text(CAST($1 AS json)) AS run_uuid)";

/// Full runs for the given ids, in the given order (missing ids are skipped).
pub async fn load_runs_rows(pool: &Pool, ids: &[String]) -> Result<Vec<Run>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let bound = serde_json::to_string(ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut conn = pool.acquire().await?;
    let conn: &mut crate::store::Conn = &mut conn;
    type InfoRow = (
        String,
        i64,
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
        String,
        String,
    );
    let infos: Vec<InfoRow> = sqlx::query_as(&format!(
        "{IDS} SELECT r.run_uuid, r.experiment_id, r.run_name, r.user_id, r.status, r.start_time, \
         r.end_time, r.artifact_uri, r.lifecycle_stage FROM ids JOIN runs r ON r.run_uuid = ids.run_uuid"
    ))
    .bind(&bound)
    .fetch_all(&mut *conn)
    .await?;
    let mut runs: HashMap<String, Run> = infos
        .into_iter()
        .map(
            |(
                run_uuid,
                experiment_id,
                run_name,
                user_id,
                status,
                start_time,
                end_time,
                artifact_uri,
                lifecycle_stage,
            )| {
                let info = RunInfo {
                    run_uuid: run_uuid.clone(),
                    experiment_id,
                    run_name,
                    user_id,
                    status,
                    start_time,
                    end_time,
                    artifact_uri,
                    lifecycle_stage,
                };
                (run_uuid, empty_run(info))
            },
        )
        .collect();
    read_values(conn, &bound, &mut runs).await?;
    read_inputs(conn, &bound, &mut runs).await?;
    Ok(ids
        .iter()
        .filter_map(|id| runs.remove(id))
        .map(|mut run| {
            run.metrics.sort_by(|a, b| a.key.cmp(&b.key));
            run.inputs
                .sort_by(|a, b| (&a.name, &a.digest).cmp(&(&b.name, &b.digest)));
            run
        })
        .collect())
}

fn empty_run(info: RunInfo) -> Run {
    Run {
        info,
        metrics: Vec::new(),
        params: Default::default(),
        tags: Default::default(),
        inputs: Vec::new(),
    }
}

/// Params (kind 0), tags (1) and latest metrics (2) of the runs, in one statement.
async fn read_values(
    conn: &mut crate::store::Conn,
    bound: &str,
    runs: &mut HashMap<String, Run>,
) -> Result<(), sqlx::Error> {
    type ValueRow = (
        String,
        i64,
        String,
        Option<String>,
        Option<f64>,
        bool,
        i64,
        i64,
    );
    let rows: Vec<ValueRow> = sqlx::query_as(&format!(
        "{IDS} SELECT p.run_uuid, CAST(0 AS BIGINT), p.key, p.value, CAST(NULL AS DOUBLE PRECISION), FALSE, \
           CAST(0 AS BIGINT), CAST(0 AS BIGINT) FROM ids JOIN params p ON p.run_uuid = ids.run_uuid \
         UNION ALL SELECT t.run_uuid, 1, t.key, t.value, NULL, FALSE, 0, 0 \
           FROM ids JOIN run_tags t ON t.run_uuid = ids.run_uuid \
         UNION ALL SELECT m.run_uuid, 2, m.key, NULL, m.value, m.is_nan, m.timestamp, m.step \
           FROM ids JOIN latest_metrics m ON m.run_uuid = ids.run_uuid"
    ))
    .bind(bound)
    .fetch_all(&mut *conn)
    .await?;
    for (run_uuid, kind, key, text, number, is_nan, timestamp, step) in rows {
        let Some(run) = runs.get_mut(&run_uuid) else {
            continue;
        };
        match kind {
            0 => {
                run.params.insert(key, text.unwrap_or_default());
            }
            1 => {
                run.tags.insert(key, text.unwrap_or_default());
            }
            _ => run.metrics.push(MetricPoint {
                key,
                // NaN is stored as a flag (SQLite cannot hold it), the value NULL.
                value: if is_nan {
                    f64::NAN
                } else {
                    number.unwrap_or(f64::NAN)
                },
                timestamp,
                step,
            }),
        }
    }
    Ok(())
}

/// The runs' dataset inputs with their tags (stored as a JSON array of `[key, value]`).
async fn read_inputs(
    conn: &mut crate::store::Conn,
    bound: &str,
    runs: &mut HashMap<String, Run>,
) -> Result<(), sqlx::Error> {
    type InputRow = (
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<InputRow> = sqlx::query_as(&format!(
        "{IDS} SELECT i.run_uuid, i.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile \
         FROM ids JOIN run_inputs i ON i.run_uuid = ids.run_uuid JOIN datasets d ON d.dataset_id = i.dataset_id"
    ))
    .bind(bound)
    .fetch_all(&mut *conn)
    .await?;
    for (run_uuid, tags, name, digest, source_type, source, schema, profile) in rows {
        let Some(run) = runs.get_mut(&run_uuid) else {
            continue;
        };
        let tags: Vec<(String, String)> =
            serde_json::from_str(&tags).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        run.inputs.push(DatasetInput {
            name,
            digest,
            source_type,
            source,
            schema,
            profile,
            tags,
        });
    }
    Ok(())
}

/// Runs in MLflow's JSON shape for the given ids, in the given order, from rows.
pub async fn runs_json_rows(pool: &Pool, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    load_runs_rows(pool, ids)
        .await?
        .iter()
        .map(|run| {
            serde_json::to_string(&RunDoc::from(run)).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        })
        .collect()
}
