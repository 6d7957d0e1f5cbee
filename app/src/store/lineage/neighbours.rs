//! A lineage node's neighbours, one step up and one step down, across OpenLineage, MLflow
//! runs, model versions and deployments: one statement for any number of nodes of any kinds,
//! whose rows name their node, side and kind. A walk asks a level of nodes at a time, so on
//! PostgreSQL, where each statement is a round trip, a level of 24 training runs and their
//! datasets and jobs is one trip.

use crate::domain::lineage::NodeRef;
use crate::store::direct::{Direct, Key, Keys, Val};
use crate::store::DriverError;

/// Upstream or downstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Towards sources.
    Up,
    /// Towards consumers.
    Down,
}

// The statement's rows are `(n, side, kind, a, b)`: `n` the key's number, side 0 upstream, 1
// downstream; kind names the node `a` and `b` make (see `neighbour`). Versions are read as
// text, so every `b` is text.
const UP: i64 = 0;
const DATASET: i64 = 0;
const JOB: i64 = 1;
const RUN: i64 = 2;
const VERSION: i64 = 3;
const ALIAS: i64 = 4;

/// Every node's neighbours, for nodes of any kind, in one statement over the keys
/// `k(n, c, a, b)` of [`Keys`]; `c` is the kind: `D` a dataset (`a` namespace, `b` name), `J`
/// a job (the same), `R` a training run (`a` its id), `V` a model version (`a` the model, `b`
/// the version), `A` a deployment (`a` the model, `b` the alias). The keys come first in each
/// join (SQLite keeps a `CROSS JOIN`'s order) so that each is an index probe; versions are
/// compared as text, so no key of another kind is ever cast to a number.
const SQL: &str = "\
    SELECT k.n, CASE io.direction WHEN 'out' THEN 0 ELSE 1 END, 1, j.namespace, j.name \
    FROM k CROSS JOIN lineage_datasets d \
    JOIN lineage_job_io io ON io.dataset_id = d.dataset_id \
    JOIN lineage_jobs j ON j.job_id = io.job_id AND j.current_version = io.version \
    WHERE k.c = 'D' AND d.namespace = k.a AND d.name = k.b \
    UNION ALL \
    SELECT DISTINCT k.n, 1, 2, ri.run_uuid, NULL FROM k CROSS JOIN datasets md \
    JOIN run_inputs ri ON ri.dataset_id = md.dataset_id \
    JOIN runs r ON r.run_uuid = ri.run_uuid AND r.lifecycle_stage = 'active' \
    WHERE k.c = 'D' AND md.name = k.b \
    UNION ALL \
    SELECT k.n, CASE io.direction WHEN 'in' THEN 0 ELSE 1 END, 0, d.namespace, d.name \
    FROM k CROSS JOIN lineage_jobs j \
    JOIN lineage_job_io io ON io.job_id = j.job_id AND io.version = j.current_version \
    JOIN lineage_datasets d ON d.dataset_id = io.dataset_id \
    WHERE k.c = 'J' AND j.namespace = k.a AND j.name = k.b \
    UNION ALL \
    SELECT DISTINCT k.n, 1, 2, lr.mlflow_run_id, NULL FROM k CROSS JOIN lineage_jobs j \
    JOIN lineage_runs lr ON lr.job_id = j.job_id \
    JOIN runs r ON r.run_uuid = lr.mlflow_run_id AND r.lifecycle_stage = 'active' \
    WHERE k.c = 'J' AND j.namespace = k.a AND j.name = k.b \
    UNION ALL \
    SELECT DISTINCT k.n, 0, 1, j.namespace, j.name FROM k CROSS JOIN lineage_runs lr \
    JOIN lineage_jobs j ON j.job_id = lr.job_id \
    WHERE k.c = 'R' AND lr.mlflow_run_id = k.a AND lr.mlflow_run_id IS NOT NULL \
    UNION ALL \
    SELECT DISTINCT k.n, 0, 0, ld.namespace, ld.name FROM k CROSS JOIN run_inputs ri \
    JOIN datasets md ON md.dataset_id = ri.dataset_id \
    JOIN lineage_datasets ld ON ld.name = md.name WHERE k.c = 'R' AND ri.run_uuid = k.a \
    UNION ALL \
    SELECT k.n, 1, 3, v.name, CAST(v.version AS TEXT) FROM k CROSS JOIN model_versions v \
    WHERE k.c = 'R' AND v.run_id = k.a AND v.run_id IS NOT NULL \
    UNION ALL \
    SELECT k.n, 0, 2, v.run_id, NULL FROM k CROSS JOIN model_versions v \
    JOIN runs r ON r.run_uuid = v.run_id AND r.lifecycle_stage = 'active' \
    WHERE k.c = 'V' AND v.name = k.a AND CAST(v.version AS TEXT) = k.b \
    UNION ALL \
    SELECT k.n, 1, 4, al.alias, NULL FROM k CROSS JOIN model_aliases al \
    WHERE k.c = 'V' AND al.name = k.a AND CAST(al.version AS TEXT) = k.b \
    UNION ALL \
    SELECT k.n, 0, 3, al.name, CAST(al.version AS TEXT) FROM k CROSS JOIN model_aliases al \
    WHERE k.c = 'A' AND al.name = k.a AND al.alias = k.b";

/// A node's neighbours: one step upstream, one step downstream.
pub type UpDown = (Vec<NodeRef>, Vec<NodeRef>);

/// Each node's neighbours one step up and one step down, each sorted and without repeats, in
/// the order of `nodes`: one statement for all of them (none for no nodes).
pub fn around(db: &mut dyn Direct, nodes: &[NodeRef]) -> Result<Vec<UpDown>, DriverError> {
    let mut out = vec![(Vec::new(), Vec::new()); nodes.len()];
    // The nodes that can name something stored (their places in `nodes`) and their keys.
    let (mut at, mut keys) = (Vec::new(), Vec::new());
    for (i, node) in nodes.iter().enumerate() {
        if let Some(key) = key(node) {
            at.push(i);
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Ok(out);
    }
    let borrowed: Vec<Key<'_>> = keys
        .iter()
        .map(|(c, a, b)| (*c, a.as_str(), b.as_deref()))
        .collect();
    let keys = Keys::new(db, &borrowed);
    for row in db.rows(&format!("{}{SQL}", keys.with()), &keys.args())? {
        let mut cols = row.into_iter();
        let (Some(n), Some(side), Some(kind), Some(a), b) = (
            cols.next().and_then(|v| v.int()),
            cols.next().and_then(|v| v.int()),
            cols.next().and_then(|v| v.int()),
            cols.next().and_then(Val::text),
            cols.next().and_then(Val::text),
        ) else {
            continue;
        };
        let Some(&i) = usize::try_from(n - 1).ok().and_then(|n| at.get(n)) else {
            continue;
        };
        let Some(found) = neighbour(&nodes[i], kind, a, b) else {
            continue;
        };
        if side == UP {
            out[i].0.push(found);
        } else {
            out[i].1.push(found);
        }
    }
    for (ups, downs) in &mut out {
        for v in [ups, downs] {
            v.sort();
            v.dedup();
        }
    }
    Ok(out)
}

/// A node's key in [`SQL`]; none for a version that is not a number or a deployment without
/// an `@`, which name nothing stored.
fn key(node: &NodeRef) -> Option<(&'static str, String, Option<String>)> {
    Some(match node {
        NodeRef::Dataset { namespace, name } => ("D", namespace.clone(), Some(name.clone())),
        NodeRef::Job { namespace, name } => ("J", namespace.clone(), Some(name.clone())),
        NodeRef::Run(run) => ("R", run.clone(), None),
        NodeRef::ModelVersion { name, version } => {
            let version = version.parse::<i64>().ok()?.to_string();
            ("V", name.clone(), Some(version))
        }
        NodeRef::Deployment(d) => {
            let (model, alias) = d.rsplit_once('@')?;
            ("A", model.to_owned(), Some(alias.to_owned()))
        }
    })
}

/// A node's neighbours one step up or down, sorted.
pub fn neighbours(
    db: &mut dyn Direct,
    node: &NodeRef,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    let (ups, downs) = around(db, std::slice::from_ref(node))?
        .pop()
        .unwrap_or_default();
    Ok(if dir == Direction::Up { ups } else { downs })
}

/// The neighbour a row names: kind and its one or two values (`of` names a deployment's model).
fn neighbour(of: &NodeRef, kind: i64, a: String, b: Option<String>) -> Option<NodeRef> {
    Some(match (kind, b) {
        (DATASET, Some(name)) => NodeRef::Dataset { namespace: a, name },
        (JOB, Some(name)) => NodeRef::Job { namespace: a, name },
        (RUN, _) => NodeRef::Run(a),
        (VERSION, Some(version)) => NodeRef::ModelVersion { name: a, version },
        (ALIAS, _) => match of {
            NodeRef::ModelVersion { name, .. } => NodeRef::Deployment(format!("{name}@{a}")),
            _ => return None,
        },
        _ => return None,
    })
}
