//! What the lineage graph shows of each node: a dataset's schema and versions, a job's latest
//! run, a training run's status, a model version's aliases. Each kind of node is one statement
//! for all the nodes of that kind on a page ([`Keys`]).

use crate::domain::lineage::NodeRef;
use crate::store::direct::{Direct, Key, Keys, Val};
use crate::store::{DriverError, Pool};
use serde_json::{json, Value};
use std::collections::HashMap;

/// What the graph shows of each node, in order, read in one blocking task.
pub async fn nodes_data(pool: &Pool, nodes: Vec<NodeRef>) -> Result<Vec<Value>, DriverError> {
    crate::store::direct::read(pool, move |db| data_of(db, &nodes)).await
}

/// A value as JSON (integers as numbers, text as strings, NULL as null).
fn json_val(v: Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Int(i) => json!(i),
        Val::Text(t) => json!(t),
    }
}

/// Every node's row, one statement for all kinds: text columns `t1`-`t8`, then integers
/// `i1`-`i3`. A dataset: fields, current version, created, updated. A job (with its latest run,
/// NULLs when it has none): current version, created, updated, then the run's id, state, start,
/// end and error. A training run: name and status, then experiment, start and end.
const NODES: &str = "SELECT k.n, d.fields, d.current_version, d.created_at, d.updated_at, \
      NULL, NULL, NULL, NULL, CAST(NULL AS bigint), CAST(NULL AS bigint), CAST(NULL AS bigint) \
    FROM k CROSS JOIN lineage_datasets d WHERE k.c = 'D' AND d.namespace = k.a AND d.name = k.b \
    UNION ALL SELECT k.n, j.current_version, j.created_at, j.updated_at, \
      r.run_id, r.state, r.started_at, r.ended_at, r.error_message, NULL, NULL, NULL \
    FROM k CROSS JOIN lineage_jobs j LEFT JOIN lineage_runs r ON r.run_id = \
      (SELECT l.run_id FROM lineage_runs l WHERE l.job_id = j.job_id \
       ORDER BY l.last_event_time DESC, l.run_id DESC LIMIT 1) \
    WHERE k.c = 'J' AND j.namespace = k.a AND j.name = k.b \
    UNION ALL SELECT k.n, r.run_name, r.status, NULL, NULL, NULL, NULL, NULL, NULL, \
      r.experiment_id, r.start_time, r.end_time \
    FROM k CROSS JOIN runs r WHERE k.c = 'R' AND r.run_uuid = k.a";

const RUNS: &str = "SELECT k.n, r.run_name, r.experiment_id, r.status, r.start_time, r.end_time \
    FROM k CROSS JOIN runs r WHERE r.run_uuid = k.a";

/// The names of training runs (those stored with one), by id, in one statement.
pub fn run_names_in(
    db: &mut dyn Direct,
    ids: &[String],
) -> Result<HashMap<String, String>, DriverError> {
    let keys: Vec<Key<'_>> = ids.iter().map(|id| ("", id.as_str(), None)).collect();
    let rows = keyed_rows(db, RUNS, &keys)?;
    Ok(ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let name = rows.get(&(i + 1))?.first()?.as_str()?;
            Some((id.clone(), name.to_owned()))
        })
        .collect())
}

/// [`run_names_in`] in a blocking task of its own.
pub async fn run_names(
    pool: &Pool,
    ids: Vec<String>,
) -> Result<HashMap<String, String>, DriverError> {
    crate::store::direct::read(pool, move |db| run_names_in(db, &ids)).await
}

/// Each key's row (by its number from 1): its values after the number, as JSON.
fn keyed_rows(
    db: &mut dyn Direct,
    sql: &str,
    keys: &[Key<'_>],
) -> Result<HashMap<usize, Vec<Value>>, DriverError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let keys = Keys::new(db, keys);
    let mut out = HashMap::new();
    for row in db.rows(&format!("{}{sql}", keys.with()), &keys.args())? {
        let mut cols = row.into_iter();
        if let Some(n) = cols.next().and_then(|v| v.int()) {
            let n = usize::try_from(n).unwrap_or_default();
            out.insert(n, cols.map(json_val).collect());
        }
    }
    Ok(out)
}

/// What the graph shows of a node.
pub fn node_data(db: &mut dyn Direct, node: &NodeRef) -> Result<Value, DriverError> {
    Ok(data_of(db, std::slice::from_ref(node))?
        .pop()
        .unwrap_or(Value::Null))
}

/// What the graph shows of each node, in order: one statement for all of them ([`NODES`]; one
/// per kind was a round trip each on PostgreSQL).
pub fn data_of(db: &mut dyn Direct, nodes: &[NodeRef]) -> Result<Vec<Value>, DriverError> {
    // The stored nodes' keys, numbered from 1 in the order of `nodes` (0: nothing to read).
    let mut keys: Vec<Key<'_>> = Vec::new();
    let mut number = Vec::with_capacity(nodes.len());
    for node in nodes {
        let key = match node {
            NodeRef::Dataset { namespace, name } => Some(("D", namespace, Some(name.as_str()))),
            NodeRef::Job { namespace, name } => Some(("J", namespace, Some(name.as_str()))),
            NodeRef::Run(run) => Some(("R", run, None)),
            NodeRef::ModelVersion { .. } | NodeRef::Deployment(_) => None,
        };
        number.push(key.map_or(0, |(c, a, b)| {
            keys.push((c, a.as_str(), b));
            keys.len()
        }));
    }
    let rows = keyed_rows(db, NODES, &keys)?;
    Ok(nodes
        .iter()
        .zip(number)
        .map(|(node, n)| {
            let row = rows.get(&n).map(Vec::as_slice);
            match node {
                NodeRef::Dataset { namespace, name } => dataset(namespace, name, row),
                NodeRef::Job { namespace, name } => job(namespace, name, row),
                NodeRef::Run(run) => match row {
                    Some(r) => {
                        let exp = r[8].as_i64().map(|e| e.to_string());
                        json!({
                            "runId": run, "name": r[0], "experimentId": exp, "status": r[1],
                            "startTime": r[9], "endTime": r[10],
                        })
                    }
                    None => json!({ "runId": run }),
                },
                NodeRef::ModelVersion { name, version } => {
                    json!({ "name": name, "version": version })
                }
                NodeRef::Deployment(name) => json!({ "name": name }),
            }
        })
        .collect())
}

fn dataset(namespace: &str, name: &str, row: Option<&[Value]>) -> Value {
    match row {
        Some(r) => {
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

fn job(namespace: &str, name: &str, row: Option<&[Value]>) -> Value {
    // A job not stored yet shows empty texts, as before it had a row.
    let none = vec![Value::Null, json!(""), json!("")];
    let r = row.unwrap_or(&none);
    let latest = row.filter(|r| !r[3].is_null()).map(|l| {
        json!({
            "id": l[3], "state": l[4], "startedAt": l[5], "endedAt": l[6], "errorMessage": l[7],
        })
    });
    json!({
        "id": { "namespace": namespace, "name": name },
        "namespace": namespace, "name": name,
        "currentVersion": r[0], "createdAt": r[1], "updatedAt": r[2],
        "latestRun": latest,
    })
}
