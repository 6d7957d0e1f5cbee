//! The lineage graph read from the store: resolving a node id, a node's neighbours one step
//! up or down (across OpenLineage, MLflow runs, model versions and deployments), the walk
//! around a node and what each node shows.

use crate::domain::lineage::NodeRef;
use crate::store::direct::Direct;
use crate::store::{DriverError, Pool};
use std::collections::{BTreeMap, BTreeSet};

mod neighbours;
pub use neighbours::neighbours_of;

/// Upstream or downstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Towards sources.
    Up,
    /// Towards consumers.
    Down,
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

/// A node's neighbours one step up or down, sorted.
pub fn neighbours(
    db: &mut dyn Direct,
    node: &NodeRef,
    dir: Direction,
) -> Result<Vec<NodeRef>, DriverError> {
    let mut all = neighbours_of(db, std::slice::from_ref(node), dir)?;
    Ok(all.remove(node).unwrap_or_default())
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

/// Walks the graph from `start`, upstream and downstream separately, a level at a time: the
/// neighbours of every node first met at one depth are read together ([`neighbours_of`]), so
/// the walk is a few statements per level rather than several per node (each a round trip on
/// PostgreSQL). The whole walk is one blocking task on a reader of its own.
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
    for (dir, limit) in [(Direction::Up, up), (Direction::Down, down)] {
        let mut seen: BTreeSet<NodeRef> = BTreeSet::new();
        let mut frontier = vec![start.clone()];
        for depth in 0..=limit {
            // In the order met (breadth first), each node once per direction.
            let level: Vec<NodeRef> = frontier
                .into_iter()
                .filter(|n| seen.insert(n.clone()))
                .collect();
            if level.is_empty() {
                break;
            }
            let mut fresh = Vec::new();
            let mut kept = Vec::new();
            for n in level {
                if !g.nodes.contains_key(&n) {
                    if g.nodes.len() + fresh.len() >= MAX_GRAPH_NODES {
                        g.truncated = true;
                        continue;
                    }
                    fresh.push(n.clone());
                }
                kept.push(n);
            }
            let mut ups = neighbours_of(db, &fresh, Direction::Up)?;
            let mut downs = neighbours_of(db, &fresh, Direction::Down)?;
            for n in fresh {
                let u = ups.remove(&n).unwrap_or_default();
                let d = downs.remove(&n).unwrap_or_default();
                g.nodes.insert(n, (u, d));
            }
            if depth == limit {
                break;
            }
            frontier = kept
                .iter()
                .filter_map(|n| g.nodes.get(n))
                .flat_map(|(u, d)| if dir == Direction::Up { u } else { d })
                .cloned()
                .collect();
        }
    }
    Ok(g)
}
