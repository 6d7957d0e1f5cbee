//! A lineage node's neighbours, one step up and one step down, across OpenLineage, MLflow
//! runs, model versions and deployments: one statement per node, whose rows name their side
//! and kind. A walk asks for every node it reaches, so on PostgreSQL, where each statement is
//! a round trip, asking once per node and not once per side and source is most of its time.

use crate::domain::lineage::NodeRef;
use crate::store::direct::{Arg, Direct, Val};
use crate::store::DriverError;

/// Upstream or downstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Towards sources.
    Up,
    /// Towards consumers.
    Down,
}

// Each statement's rows are `(side, kind, a, b)`: side 0 upstream, 1 downstream; kind names
// the node `a` and `b` make (see `node`). Versions are read as text, so every `b` is text.
const UP: i64 = 0;
const DATASET: i64 = 0;
const JOB: i64 = 1;
const RUN: i64 = 2;
const VERSION: i64 = 3;
const ALIAS: i64 = 4;

/// A dataset: upstream the jobs whose current version writes it, downstream those whose current
/// version reads it and the active MLflow training runs that logged a dataset input of its name.
const DATASET_SQL: &str = "\
    SELECT CASE io.direction WHEN 'out' THEN 0 ELSE 1 END, 1, j.namespace, j.name \
    FROM lineage_datasets d \
    JOIN lineage_job_io io ON io.dataset_id = d.dataset_id \
    JOIN lineage_jobs j ON j.job_id = io.job_id AND j.current_version = io.version \
    WHERE d.namespace = $1 AND d.name = $2 \
    UNION ALL \
    SELECT DISTINCT 1, 2, i.run_uuid, NULL FROM datasets md \
    JOIN run_inputs i ON i.dataset_id = md.dataset_id \
    JOIN runs r ON r.run_uuid = i.run_uuid AND r.lifecycle_stage = 'active' \
    WHERE md.name = $2";

/// A job: upstream the datasets its current version reads, downstream those it writes and the
/// active training runs its runs name (the `mlflow` run facet).
const JOB_SQL: &str = "\
    SELECT CASE io.direction WHEN 'in' THEN 0 ELSE 1 END, 0, d.namespace, d.name \
    FROM lineage_jobs j \
    JOIN lineage_job_io io ON io.job_id = j.job_id AND io.version = j.current_version \
    JOIN lineage_datasets d ON d.dataset_id = io.dataset_id \
    WHERE j.namespace = $1 AND j.name = $2 \
    UNION ALL \
    SELECT DISTINCT 1, 2, lr.mlflow_run_id, NULL FROM lineage_jobs j \
    JOIN lineage_runs lr ON lr.job_id = j.job_id \
    JOIN runs r ON r.run_uuid = lr.mlflow_run_id AND r.lifecycle_stage = 'active' \
    WHERE j.namespace = $1 AND j.name = $2";

/// A training run: upstream the jobs whose runs name it and the lineage datasets named as its
/// logged inputs, downstream the model versions registered from it.
const RUN_SQL: &str = "\
    SELECT DISTINCT 0, 1, j.namespace, j.name FROM lineage_runs lr \
    JOIN lineage_jobs j ON j.job_id = lr.job_id WHERE lr.mlflow_run_id = $1 \
    UNION ALL \
    SELECT DISTINCT 0, 0, ld.namespace, ld.name FROM run_inputs i \
    JOIN datasets md ON md.dataset_id = i.dataset_id \
    JOIN lineage_datasets ld ON ld.name = md.name WHERE i.run_uuid = $1 \
    UNION ALL \
    SELECT 1, 3, name, CAST(version AS TEXT) FROM model_versions WHERE run_id = $1";

/// A model version: upstream the active training run it was registered from, downstream its
/// deployments (an alias serving it, `model@alias`).
const VERSION_SQL: &str = "\
    SELECT 0, 2, v.run_id, NULL FROM model_versions v \
    JOIN runs r ON r.run_uuid = v.run_id AND r.lifecycle_stage = 'active' \
    WHERE v.name = $1 AND v.version = $2 \
    UNION ALL \
    SELECT 1, 4, alias, NULL FROM model_aliases WHERE name = $1 AND version = $2";

/// A deployment (`model@alias`): upstream the version the alias serves; nothing downstream.
const DEPLOYMENT_SQL: &str = "\
    SELECT 0, 3, name, CAST(version AS TEXT) FROM model_aliases WHERE name = $1 AND alias = $2";

/// A node's neighbours one step up and one step down, each sorted and without repeats.
pub fn both(
    db: &mut dyn Direct,
    node: &NodeRef,
) -> Result<(Vec<NodeRef>, Vec<NodeRef>), DriverError> {
    let (sql, args): (&str, Vec<Arg<'_>>) = match node {
        NodeRef::Dataset { namespace, name } => (DATASET_SQL, vec![namespace.into(), name.into()]),
        NodeRef::Job { namespace, name } => (JOB_SQL, vec![namespace.into(), name.into()]),
        NodeRef::Run(run) => (RUN_SQL, vec![run.into()]),
        // A version that is not a number names no stored version.
        NodeRef::ModelVersion { name, version } => match version.parse::<i64>() {
            Ok(v) => (VERSION_SQL, vec![name.into(), v.into()]),
            Err(_) => return Ok(Default::default()),
        },
        NodeRef::Deployment(d) => match d.rsplit_once('@') {
            Some((model, alias)) => (DEPLOYMENT_SQL, vec![model.into(), alias.into()]),
            None => return Ok(Default::default()),
        },
    };
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    for row in db.rows(sql, &args)? {
        let mut cols = row.into_iter();
        let (Some(side), Some(kind), Some(a), b) = (
            cols.next().and_then(|v| v.int()),
            cols.next().and_then(|v| v.int()),
            cols.next().and_then(Val::text),
            cols.next().and_then(Val::text),
        ) else {
            continue;
        };
        let Some(n) = neighbour(node, kind, a, b) else {
            continue;
        };
        if side == UP {
            ups.push(n);
        } else {
            downs.push(n);
        }
    }
    for v in [&mut ups, &mut downs] {
        v.sort();
        v.dedup();
    }
    Ok((ups, downs))
}

/// A node's neighbours one step up or down, sorted.
pub fn neighbours(
    db: &mut dyn Direct,
    node: &NodeRef,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    let (ups, downs) = both(db, node)?;
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
