//! The lineage around a node as the REST API and the evidence pack give it: Marquez's shape,
//! each node with its data, its edges to the other nodes shown, and what was left out.

use crate::domain::lineage::NodeRef;
use crate::error::AppError;
use crate::store::lineage;
use serde_json::Value;

/// The lineage around a node, in Marquez's shape.
#[derive(serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Graph {
    /// The nodes within the depths asked for, each with its edges to the others shown.
    pub graph: Vec<GraphNode>,
    /// The node asked about, as resolved (`dataset:<namespace>:<name>`, `job:…`, `run:…`).
    pub node_id: String,
    /// The walk stopped at its node limit before reaching the depths asked for.
    pub truncated: bool,
}

/// One node of a [`Graph`].
#[derive(serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphNode {
    /// `dataset:<namespace>:<name>`, `job:<namespace>:<name>`, `run:<id>` and so on.
    pub id: String,
    /// `DATASET`, `JOB`, `RUN`, `MODEL_VERSION` or `DEPLOYMENT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What is known of the node; its fields depend on its type (a dataset's schema and
    /// facets, a run's state and times, a model version's alias).
    pub data: Value,
    /// Edges from the shown nodes it is derived from.
    pub in_edges: Vec<Edge>,
    /// Edges to the shown nodes derived from it.
    pub out_edges: Vec<Edge>,
    /// Neighbours upstream left out of the graph (beyond the depth or the limit).
    pub hidden_upstream: usize,
    /// Neighbours downstream left out of the graph.
    pub hidden_downstream: usize,
}

/// A directed edge of a [`Graph`], from the input to what is derived from it.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Edge {
    /// The upstream node's id.
    pub origin: String,
    /// The downstream node's id.
    pub destination: String,
}

/// The graph around `start` in Marquez's shape (`{graph, nodeId, truncated}`).
pub async fn graph_json(
    pool: &crate::store::Pool,
    start: &NodeRef,
    up: usize,
    down: usize,
) -> Result<Graph, AppError> {
    let g = lineage::subgraph(pool, start, up, down).await?;
    let mut graph = Vec::with_capacity(g.nodes.len());
    let datas = lineage::nodes_data(pool, g.nodes.keys().cloned().collect()).await?;
    for ((node, (ups, downs)), data) in g.nodes.iter().zip(datas) {
        let id = node.to_string();
        let shown = |v: &Vec<NodeRef>| {
            v.iter()
                .filter(|n| g.nodes.contains_key(n))
                .cloned()
                .collect::<Vec<_>>()
        };
        let (in_shown, out_shown) = (shown(ups), shown(downs));
        let edge = |origin: String, destination: String| Edge {
            origin,
            destination,
        };
        graph.push(GraphNode {
            kind: node.type_name().to_owned(),
            data,
            in_edges: in_shown
                .iter()
                .map(|n| edge(n.to_string(), id.clone()))
                .collect(),
            out_edges: out_shown
                .iter()
                .map(|n| edge(id.clone(), n.to_string()))
                .collect(),
            hidden_upstream: ups.len() - in_shown.len(),
            hidden_downstream: downs.len() - out_shown.len(),
            id,
        });
    }
    Ok(Graph {
        graph,
        node_id: start.to_string(),
        truncated: g.truncated,
    })
}
