//! The lineage graph as the lineage page shows it.

use serde::{Deserialize, Serialize};

/// A node of the drawn lineage graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct GraphNode {
    /// Node id (`dataset:<ns>:<name>`, `job:…`, `run:…`).
    pub id: String,
    /// `dataset`, `job`, `run`, `model` or `deployment`.
    pub kind: String,
    /// Main label (the name).
    pub label: String,
    /// Second line: namespace, or a run's status.
    pub sublabel: String,
    /// Latest run state of a job, or a training run's status (styles the node).
    pub state: Option<String>,
    /// Neighbours upstream that are not drawn.
    pub hidden_up: usize,
    /// Neighbours downstream that are not drawn.
    pub hidden_down: usize,
    /// Box: left, top, width, height.
    pub rect: (f64, f64, f64, f64),
    /// In the blast radius or on a focused path.
    pub highlighted: bool,
}

/// A drawn edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct GraphEdge {
    /// SVG path data.
    pub d: String,
    /// Drawn as part of a highlight.
    pub highlighted: bool,
}

/// A node's details for the side panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct NodeDetail {
    /// Node id.
    pub id: String,
    /// Kind, as in [`GraphNode`].
    pub kind: String,
    /// The node's name within its namespace.
    pub name: String,
    /// Namespace (empty for runs).
    pub namespace: String,
    /// Schema fields: name, type, description.
    pub fields: Vec<(String, String, String)>,
    /// Versions, newest first: version, created, producing run.
    pub versions: Vec<(String, String, String)>,
    /// Latest runs, newest first: run id, state, started, duration, error.
    pub runs: Vec<(String, String, String, String, String)>,
    /// Facets as pretty JSON.
    pub facets: String,
    /// Training runs linked here (id, name), for the compare page.
    pub training_runs: Vec<(String, String)>,
    /// The selected field and where its values come from (dataset, field), transitively.
    pub column_lineage: Option<(String, Vec<(String, String)>)>,
}

/// The Lineage page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct LineageView {
    /// Search hits: type, namespace, name, node id.
    pub hits: Vec<(String, String, String, String)>,
    /// The node the graph is centred on.
    pub node: Option<String>,
    /// Drawn nodes.
    pub nodes: Vec<GraphNode>,
    /// Drawn edges.
    pub edges: Vec<GraphEdge>,
    /// Drawing size.
    pub size: (f64, f64),
    /// Depths shown: upstream, downstream.
    pub depth: (usize, usize),
    /// Whether only paths through the selected node are drawn.
    pub focus: bool,
    /// The selected node's details.
    pub detail: Option<NodeDetail>,
    /// The blast radius of the selected node, when asked: (kind, id, label), by kind.
    pub blast: Option<Vec<(String, String, String)>>,
    /// Whether the walk stopped at its node limit.
    pub truncated: bool,
    /// Whether there is lineage to show: a node was asked for and found, or the store holds a
    /// dataset or a job (for the empty state).
    pub has_lineage: bool,
}

/// What the lineage explorer is asked for (its URL query).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct LineageQuery {
    /// Search text.
    #[serde(default)]
    pub q: String,
    /// Node the graph is centred on.
    #[serde(default)]
    pub node: String,
    /// Upstream depth (default 2).
    #[serde(default)]
    pub up: Option<usize>,
    /// Downstream depth (default 2).
    #[serde(default)]
    pub down: Option<usize>,
    /// Node whose panel is open (default: `node`).
    #[serde(default)]
    pub selected: String,
    /// Dataset field whose column lineage is shown.
    #[serde(default)]
    pub field: String,
    /// Only the paths through the selected node.
    #[serde(default)]
    pub focus: bool,
    /// List and highlight everything downstream of the selected node.
    #[serde(default)]
    pub blast: bool,
}
