//! What the lineage graph shows of each node: a dataset's schema and versions, a job's latest
//! run, a training run's status, a model version's aliases.

use crate::domain::lineage::NodeRef;
use crate::store::direct::{Direct, Val};
use crate::store::{DriverError, Pool};
use serde_json::{json, Value};

/// What the graph shows of each node, in order, read in one blocking task.
pub async fn nodes_data(pool: &Pool, nodes: Vec<NodeRef>) -> Result<Vec<Value>, DriverError> {
    crate::store::direct::read(pool, move |db| {
        nodes.iter().map(|n| node_data(db, n)).collect()
    })
    .await
}

/// A row's values as JSON (integers as numbers, text as strings, NULL as null).
fn json_row(row: Option<Vec<Val>>, width: usize) -> Vec<Value> {
    let mut out: Vec<Value> = row
        .unwrap_or_default()
        .into_iter()
        .map(|v| match v {
            Val::Null => Value::Null,
            Val::Int(i) => json!(i),
            Val::Text(t) => json!(t),
        })
        .collect();
    out.resize(width, Value::Null);
    out
}

/// What the graph shows of a node.
pub fn node_data(db: &mut dyn Direct, node: &NodeRef) -> Result<Value, DriverError> {
    Ok(match node {
        NodeRef::Dataset { namespace, name } => {
            let row = db.row(
                "SELECT fields, current_version, created_at, updated_at FROM lineage_datasets WHERE namespace = $1 AND name = $2",
                &[namespace.into(), name.into()],
            )?;
            match row {
                Some(row) => {
                    let r = json_row(Some(row), 4);
                    let fields = r[0]
                        .as_str()
                        .and_then(|f| serde_json::from_str::<Value>(f).ok())
                        .unwrap_or(json!([]));
                    json!({
                        "id": { "namespace": namespace, "name": name },
                        "namespace": namespace, "name": name,
                        "fields": fields,
                        "currentVersion": r[1], "createdAt": r[2], "updatedAt": r[3],
                    })
                }
                None => json!({ "namespace": namespace, "name": name }),
            }
        }
        NodeRef::Job { namespace, name } => {
            let row = db.row(
                "SELECT current_version, created_at, updated_at FROM lineage_jobs WHERE namespace = $1 AND name = $2",
                &[namespace.into(), name.into()],
            )?;
            let latest = db.row(
                "SELECT r.run_id, r.state, r.started_at, r.ended_at, r.error_message FROM lineage_runs r \
                 JOIN lineage_jobs j ON j.job_id = r.job_id WHERE j.namespace = $1 AND j.name = $2 \
                 ORDER BY r.last_event_time DESC, r.run_id DESC LIMIT 1",
                &[namespace.into(), name.into()],
            )?;
            // A job not stored yet shows empty texts, as before it had a row.
            let r = match row {
                Some(row) => json_row(Some(row), 3),
                None => vec![Value::Null, json!(""), json!("")],
            };
            json!({
                "id": { "namespace": namespace, "name": name },
                "namespace": namespace, "name": name,
                "currentVersion": r[0], "createdAt": r[1], "updatedAt": r[2],
                "latestRun": latest.map(|l| {
                    let l = json_row(Some(l), 5);
                    json!({
                        "id": l[0], "state": l[1], "startedAt": l[2], "endedAt": l[3], "errorMessage": l[4],
                    })
                }),
            })
        }
        NodeRef::Run(run) => {
            let row = db.row(
                "SELECT run_name, experiment_id, status, start_time, end_time FROM runs WHERE run_uuid = $1",
                &[run.into()],
            )?;
            match row {
                Some(row) => {
                    let r = json_row(Some(row), 5);
                    let exp = r[1].as_i64().map(|e| e.to_string());
                    json!({
                        "runId": run, "name": r[0], "experimentId": exp, "status": r[2],
                        "startTime": r[3], "endTime": r[4],
                    })
                }
                None => json!({ "runId": run }),
            }
        }
        NodeRef::ModelVersion { name, version } => json!({ "name": name, "version": version }),
        NodeRef::Deployment(name) => json!({ "name": name }),
    })
}
