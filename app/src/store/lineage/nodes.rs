//! What the lineage graph shows of each node: a dataset's schema and versions, a job's latest
//! run, a training run's status, a model version's aliases.

use crate::domain::lineage::NodeRef;
use crate::store::Pool;
use rusqlite::OptionalExtension;
use serde_json::{json, Value};

/// A job's latest run: id, state, start, end and error message.
type LatestRunRow = (String, String, String, Option<String>, Option<String>);
/// An MLflow run: name, experiment, status, start and end.
type TrainingRunRow = (String, i64, String, Option<i64>, Option<i64>);

/// What the graph shows of each node, in order, read in one blocking task.
pub async fn nodes_data(pool: &Pool, nodes: Vec<NodeRef>) -> Result<Vec<Value>, rusqlite::Error> {
    crate::store::read_blocking(pool, move |db| {
        nodes.iter().map(|n| node_data(db, n)).collect()
    })
    .await
}

/// What the graph shows of a node.
pub fn node_data(db: &rusqlite::Connection, node: &NodeRef) -> Result<Value, rusqlite::Error> {
    Ok(match node {
        NodeRef::Dataset { namespace, name } => {
            let row = db
                .prepare_cached(
                    "SELECT fields, current_version, created_at, updated_at FROM lineage_datasets WHERE namespace = ? AND name = ?",
                )?
                .query_row([namespace, name], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .optional()?;
            match row {
                Some((fields, version, created, updated)) => json!({
                    "id": { "namespace": namespace, "name": name },
                    "namespace": namespace, "name": name,
                    "fields": serde_json::from_str::<Value>(&fields).unwrap_or(json!([])),
                    "currentVersion": version, "createdAt": created, "updatedAt": updated,
                }),
                None => json!({ "namespace": namespace, "name": name }),
            }
        }
        NodeRef::Job { namespace, name } => {
            let row = db
                .prepare_cached(
                    "SELECT current_version, created_at, updated_at FROM lineage_jobs WHERE namespace = ? AND name = ?",
                )?
                .query_row([namespace, name], |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .optional()?;
            let latest: Option<LatestRunRow> = db
                .prepare_cached(
                    "SELECT r.run_id, r.state, r.started_at, r.ended_at, r.error_message FROM lineage_runs r \
                     JOIN lineage_jobs j ON j.job_id = r.job_id WHERE j.namespace = ? AND j.name = ? \
                     ORDER BY r.last_event_time DESC, r.run_id DESC LIMIT 1",
                )?
                .query_row([namespace, name], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            let (version, created, updated) = row.unwrap_or_default();
            json!({
                "id": { "namespace": namespace, "name": name },
                "namespace": namespace, "name": name,
                "currentVersion": version, "createdAt": created, "updatedAt": updated,
                "latestRun": latest.map(|(id, state, started, ended, error)| json!({
                    "id": id, "state": state, "startedAt": started, "endedAt": ended, "errorMessage": error,
                })),
            })
        }
        NodeRef::Run(run) => {
            let row: Option<TrainingRunRow> = db
                .prepare_cached(
                    "SELECT run_name, experiment_id, status, start_time, end_time FROM runs WHERE run_uuid = ?",
                )?
                .query_row([run], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            match row {
                Some((name, exp, status, start, end)) => json!({
                    "runId": run, "name": name, "experimentId": exp.to_string(), "status": status,
                    "startTime": start, "endTime": end,
                }),
                None => json!({ "runId": run }),
            }
        }
        NodeRef::ModelVersion { name, version } => json!({ "name": name, "version": version }),
        NodeRef::Deployment(name) => json!({ "name": name }),
    })
}
