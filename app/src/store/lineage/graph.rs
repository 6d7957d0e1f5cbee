//! The lineage graph read from the store: resolving a node id and the walk around a node
//! (each node's neighbours from [`super::neighbours`]).

use super::neighbours::Direction;
use crate::domain::lineage::NodeRef;
use crate::store::direct::Direct;
use crate::store::{DriverError, Pool};
use std::collections::{BTreeMap, BTreeSet};

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

/// Walks the graph from `start`, upstream and downstream, a level at a time.
///
/// Each level, both sides of it, is one statement ([`super::neighbours::around`]): on
/// PostgreSQL a statement is a round trip, and the demo's feature dataset alone feeds 24
/// training runs. Through sqlx each statement was also a trip to the connection's worker
/// thread, queued behind other requests under mixed load (300 ms per lineage page, 20 ms
/// alone); the whole walk is one blocking task on a reader of its own.
pub async fn subgraph(
    pool: &Pool,
    start: &NodeRef,
    up: usize,
    down: usize,
) -> Result<Subgraph, DriverError> {
    let start = start.clone();
    crate::store::direct::read(pool, move |db| walk(db, &start, up, down)).await
}

/// One side of a walk: its direction, its depth, the nodes it has reached and its level.
struct Side {
    dir: Direction,
    limit: usize,
    seen: BTreeSet<NodeRef>,
    level: Vec<NodeRef>,
}

fn walk(
    db: &mut dyn Direct,
    start: &NodeRef,
    up: usize,
    down: usize,
) -> Result<Subgraph, DriverError> {
    let mut g = Subgraph::default();
    let mut sides = [(Direction::Up, up), (Direction::Down, down)].map(|(dir, limit)| Side {
        dir,
        limit,
        seen: BTreeSet::from([start.clone()]),
        level: vec![start.clone()],
    });
    for depth in 0..=up.max(down) {
        // The level's nodes on both sides not read yet (each once), upstream first, as many
        // as the node limit leaves room for.
        let (mut new, mut queued) = (Vec::new(), BTreeSet::new());
        for node in sides.iter().flat_map(|s| &s.level) {
            if g.nodes.contains_key(node) || !queued.insert(node) {
                continue;
            }
            if g.nodes.len() + new.len() >= MAX_GRAPH_NODES {
                g.truncated = true;
                continue;
            }
            new.push(node.clone());
        }
        let found = super::neighbours::around(db, &new)?;
        g.nodes.extend(new.into_iter().zip(found));
        for side in &mut sides {
            let mut next = Vec::new();
            if depth < side.limit {
                for node in &side.level {
                    let Some((ups, downs)) = g.nodes.get(node) else {
                        continue;
                    };
                    let step = if side.dir == Direction::Up {
                        ups
                    } else {
                        downs
                    };
                    for n in step {
                        if side.seen.insert(n.clone()) {
                            next.push(n.clone());
                        }
                    }
                }
            }
            side.level = next;
        }
        if sides.iter().all(|s| s.level.is_empty()) {
            break;
        }
    }
    Ok(g)
}
