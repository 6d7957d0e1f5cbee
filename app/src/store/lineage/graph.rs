//! The lineage graph read from the store: resolving a node id, a node's neighbours one step
//! up or down (across OpenLineage, MLflow runs, model versions and deployments), the walk
//! around a node and what each node shows.

use crate::domain::lineage::NodeRef;
use crate::store::direct::{Arg, Direct, Val};
use crate::store::{DriverError, Pool};
use std::collections::{BTreeMap, VecDeque};

/// Upstream or downstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Towards sources.
    Up,
    /// Towards consumers.
    Down,
}

fn dataset_ref((namespace, name): (String, String)) -> NodeRef {
    NodeRef::Dataset { namespace, name }
}

fn job_ref((namespace, name): (String, String)) -> NodeRef {
    NodeRef::Job { namespace, name }
}

/// The node an id names, if it exists. Ambiguous dataset and job ids (colons in the
/// namespace or name) resolve to the reading that exists; an OpenLineage run id resolves to
/// its job, an MLflow run id to the training run.
pub async fn resolve(pool: &Pool, id: &str) -> Result<Option<NodeRef>, crate::error::AppError> {
    let candidates = NodeRef::parse_candidates(id)
        .map_err(|e| crate::error::AppError::validation("nodeId", e))?;
    for c in candidates {
        let found = match &c {
            NodeRef::Dataset { namespace, name } => sqlx::query_scalar::<_, i64>(
                "SELECT 1 FROM lineage_datasets WHERE namespace = $1 AND name = $2",
            )
            .bind(namespace)
            .bind(name)
            .fetch_optional(pool)
            .await?
            .map(|_| c.clone()),
            NodeRef::Job { namespace, name } => sqlx::query_scalar::<_, i64>(
                "SELECT 1 FROM lineage_jobs WHERE namespace = $1 AND name = $2",
            )
            .bind(namespace)
            .bind(name)
            .fetch_optional(pool)
            .await?
            .map(|_| c.clone()),
            NodeRef::Run(run) => {
                let mlflow = sqlx::query_scalar::<_, i64>(
                    "SELECT 1 FROM runs WHERE run_uuid = $1 AND lifecycle_stage = 'active'",
                )
                .bind(run)
                .fetch_optional(pool)
                .await?;
                if mlflow.is_some() {
                    Some(c.clone())
                } else {
                    sqlx::query_as::<_, (String, String)>(
                        "SELECT j.namespace, j.name FROM lineage_runs r JOIN lineage_jobs j ON j.job_id = r.job_id WHERE r.run_id = $1",
                    )
                    .bind(run)
                    .fetch_optional(pool)
                    .await?
                    .map(job_ref)
                }
            }
            NodeRef::ModelVersion { name, version } => match version.parse::<i64>() {
                Ok(v) => sqlx::query_scalar::<_, i64>(
                    "SELECT 1 FROM model_versions WHERE name = $1 AND version = $2",
                )
                .bind(name)
                .bind(v)
                .fetch_optional(pool)
                .await?
                .map(|_| c.clone()),
                Err(_) => None,
            },
            NodeRef::Deployment(d) => match d.rsplit_once('@') {
                Some((model, alias)) => sqlx::query_scalar::<_, i64>(
                    "SELECT 1 FROM model_aliases WHERE name = $1 AND alias = $2",
                )
                .bind(model)
                .bind(alias)
                .fetch_optional(pool)
                .await?
                .map(|_| c.clone()),
                None => None,
            },
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn version_ref((name, version): (String, i64)) -> NodeRef {
    NodeRef::ModelVersion {
        name,
        version: version.to_string(),
    }
}

/// Rows of one or two text columns (a second column may be an integer version).
fn texts(db: &mut dyn Direct, sql: &str, args: &[Arg<'_>]) -> Result<Vec<String>, DriverError> {
    db.texts(sql, args)
}

/// A second column's value: text, or an integer (a model version).
trait Second: Sized {
    fn from_val(v: Val) -> Option<Self>;
}

impl Second for String {
    fn from_val(v: Val) -> Option<Self> {
        match v {
            Val::Int(i) => Some(i.to_string()),
            v => v.text(),
        }
    }
}

impl Second for i64 {
    fn from_val(v: Val) -> Option<Self> {
        v.int()
    }
}

fn text_pairs<B: Second>(
    db: &mut dyn Direct,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Vec<(String, B)>, DriverError> {
    Ok(db
        .rows(sql, args)?
        .into_iter()
        .filter_map(|r| {
            let mut r = r.into_iter();
            Some((r.next()?.text()?, B::from_val(r.next()?)?))
        })
        .collect())
}

/// A node's neighbours one step up or down, sorted.
pub fn neighbours(
    db: &mut dyn Direct,
    node: &NodeRef,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    let mut out = match node {
        NodeRef::Dataset { namespace, name } => dataset_neighbours(db, namespace, name, dir)?,
        NodeRef::Job { namespace, name } => job_neighbours(db, namespace, name, dir)?,
        NodeRef::Run(run) => run_neighbours(db, run, dir)?,
        NodeRef::ModelVersion { name, version } => version_neighbours(db, name, version, dir)?,
        NodeRef::Deployment(d) => deployment_neighbours(db, d, dir)?,
    };
    out.sort();
    out.dedup();
    Ok(out)
}

/// Jobs whose current version reads (down) or writes (up) the dataset; downstream also the
/// MLflow training runs that logged a dataset input of its name.
fn dataset_neighbours(
    db: &mut dyn Direct,
    namespace: &str,
    name: &str,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    let io = if dir == Direction::Up { "out" } else { "in" };
    // Jobs whose current version reads (down) or writes (up) the dataset.
    let mut v: Vec<NodeRef> = text_pairs(
        db,
        "SELECT j.namespace, j.name FROM lineage_datasets d \
         JOIN lineage_job_io io ON io.dataset_id = d.dataset_id AND io.direction = $1 \
         JOIN lineage_jobs j ON j.job_id = io.job_id AND j.current_version = io.version \
         WHERE d.namespace = $2 AND d.name = $3",
        &[io.into(), namespace.into(), name.into()],
    )?
    .into_iter()
    .map(job_ref)
    .collect();
    if dir == Direction::Down {
        // MLflow training runs that logged a dataset input of this name.
        v.extend(
            texts(
                db,
                "SELECT DISTINCT i.run_uuid FROM datasets md JOIN run_inputs i ON i.dataset_id = md.dataset_id \
                 JOIN runs r ON r.run_uuid = i.run_uuid AND r.lifecycle_stage = 'active' WHERE md.name = $1",
                &[name.into()],
            )?
            .into_iter()
            .map(NodeRef::Run),
        );
    }
    Ok(v)
}

/// The datasets the job's current version reads (up) or writes (down); downstream also the
/// training runs its runs name (the `mlflow` run facet).
fn job_neighbours(
    db: &mut dyn Direct,
    namespace: &str,
    name: &str,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    let mut v: Vec<NodeRef> = text_pairs(
        db,
        "SELECT d.namespace, d.name FROM lineage_jobs j \
         JOIN lineage_job_io io ON io.job_id = j.job_id AND io.version = j.current_version AND io.direction = $1 \
         JOIN lineage_datasets d ON d.dataset_id = io.dataset_id \
         WHERE j.namespace = $2 AND j.name = $3",
        &[
            if dir == Direction::Up { "in" } else { "out" }.into(),
            namespace.into(),
            name.into(),
        ],
    )?
    .into_iter()
    .map(dataset_ref)
    .collect();
    if dir == Direction::Down {
        // Training runs this job's runs name (the `mlflow` run facet).
        v.extend(
            texts(
                db,
                "SELECT DISTINCT lr.mlflow_run_id FROM lineage_jobs j JOIN lineage_runs lr ON lr.job_id = j.job_id \
                 JOIN runs r ON r.run_uuid = lr.mlflow_run_id AND r.lifecycle_stage = 'active' \
                 WHERE j.namespace = $1 AND j.name = $2",
                &[namespace.into(), name.into()],
            )?
            .into_iter()
            .map(NodeRef::Run),
        );
    }
    Ok(v)
}

/// Upstream, the jobs whose runs name the training run and the datasets it logged as inputs;
/// downstream, the model versions registered from it.
fn run_neighbours(
    db: &mut dyn Direct,
    run: &str,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    if dir == Direction::Down {
        return Ok(text_pairs(
            db,
            "SELECT name, version FROM model_versions WHERE run_id = $1",
            &[run.into()],
        )?
        .into_iter()
        .map(version_ref)
        .collect());
    }
    let mut v: Vec<NodeRef> = text_pairs(
        db,
        "SELECT DISTINCT j.namespace, j.name FROM lineage_runs lr JOIN lineage_jobs j ON j.job_id = lr.job_id WHERE lr.mlflow_run_id = $1",
        &[run.into()],
    )?
    .into_iter()
    .map(job_ref)
    .collect();
    v.extend(
        text_pairs(
            db,
            "SELECT DISTINCT ld.namespace, ld.name FROM run_inputs i JOIN datasets md ON md.dataset_id = i.dataset_id \
             JOIN lineage_datasets ld ON ld.name = md.name WHERE i.run_uuid = $1",
            &[run.into()],
        )?
        .into_iter()
        .map(dataset_ref),
    );
    Ok(v)
}

/// Upstream, the training run the version was registered from; downstream, its deployments
/// (an alias serving the version, `model@alias`).
fn version_neighbours(
    db: &mut dyn Direct,
    name: &str,
    version: &str,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    Ok(match dir {
        Direction::Up => texts(
        db,
        "SELECT v.run_id FROM model_versions v JOIN runs r ON r.run_uuid = v.run_id AND r.lifecycle_stage = 'active' \
         WHERE v.name = $1 AND v.version = $2",
        &[name.into(), Arg::Int(version.parse::<i64>().unwrap_or(-1))],
    )?
    .into_iter()
    .map(NodeRef::Run)
    .collect(),
        Direction::Down => texts(
        db,
        "SELECT alias FROM model_aliases WHERE name = $1 AND version = $2",
        &[name.into(), Arg::Int(version.parse::<i64>().unwrap_or(-1))],
    )?
    .into_iter()
    .map(|alias| NodeRef::Deployment(format!("{name}@{alias}")))
    .collect(),
    })
}

/// Upstream, the version the alias serves; nothing downstream.
fn deployment_neighbours(
    db: &mut dyn Direct,
    d: &str,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    if dir == Direction::Down {
        return Ok(Vec::new());
    }
    Ok(match d.rsplit_once('@') {
        Some((model, alias)) => text_pairs(
            db,
            "SELECT name, version FROM model_aliases WHERE name = $1 AND alias = $2",
            &[model.into(), alias.into()],
        )?
        .into_iter()
        .map(version_ref)
        .collect(),
        None => Vec::new(),
    })
}

/// Most nodes one lineage answer holds.
pub const MAX_GRAPH_NODES: usize = 2000;

/// A subgraph around a node: every node within `up` steps upstream or `down` steps
/// downstream, each with its neighbours (so edges and hidden counts can be drawn).
#[derive(Clone, Debug, Default)]
pub struct Subgraph {
    /// Nodes with their upstream and downstream neighbours (all of them, shown or not).
    pub nodes: BTreeMap<NodeRef, (Vec<NodeRef>, Vec<NodeRef>)>,
    /// Whether [`MAX_GRAPH_NODES`] cut the walk short.
    pub truncated: bool,
}

/// Walks the graph from `start`, upstream and downstream separately.
///
/// A walk is two or more queries per node. Through sqlx each was a trip to the connection's
/// worker thread, and under mixed load each trip queued behind other requests (300 ms per
/// lineage page, 20 ms alone); the whole walk is now one blocking task on a reader of its own.
pub async fn subgraph(
    pool: &Pool,
    start: &NodeRef,
    up: usize,
    down: usize,
) -> Result<Subgraph, DriverError> {
    let start = start.clone();
    crate::store::direct::read(pool, move |db| walk(db, &start, up, down)).await
}

fn walk(
    db: &mut dyn Direct,
    start: &NodeRef,
    up: usize,
    down: usize,
) -> Result<Subgraph, DriverError> {
    let mut g = Subgraph::default();
    let mut depth_of: BTreeMap<(NodeRef, bool), usize> = BTreeMap::new();
    for (dir, limit) in [(Direction::Up, up), (Direction::Down, down)] {
        let mut queue = VecDeque::from([(start.clone(), 0usize)]);
        while let Some((node, depth)) = queue.pop_front() {
            let key = (node.clone(), dir == Direction::Up);
            if depth_of.contains_key(&key) {
                continue;
            }
            depth_of.insert(key, depth);
            if !g.nodes.contains_key(&node) {
                if g.nodes.len() >= MAX_GRAPH_NODES {
                    g.truncated = true;
                    continue;
                }
                let ups = neighbours(db, &node, Direction::Up)?;
                let downs = neighbours(db, &node, Direction::Down)?;
                g.nodes.insert(node.clone(), (ups, downs));
            }
            if depth < limit {
                let next = match g.nodes.get(&node) {
                    Some((ups, downs)) => {
                        if dir == Direction::Up {
                            ups.clone()
                        } else {
                            downs.clone()
                        }
                    }
                    None => Vec::new(),
                };
                queue.extend(next.into_iter().map(|n| (n, depth + 1)));
            }
        }
    }
    Ok(g)
}
