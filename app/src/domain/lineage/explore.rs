//! The lineage explorer's graph logic: what a focus keeps, the edges among the nodes shown,
//! how a node is labelled, and the SVG path of a routed edge.

use super::NodeRef;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

/// Deepest walk the explorer draws, upstream or downstream.
pub const MAX_EXPLORER_DEPTH: usize = 10;

/// Nodes with their upstream and downstream neighbours (all of them, shown or not).
pub type Neighbours = BTreeMap<NodeRef, (Vec<NodeRef>, Vec<NodeRef>)>;

/// Of the `shown` nodes, those on some path through `through`: the node itself and its
/// ancestors and descendants reachable through shown nodes.
pub fn paths_through(
    graph: &Neighbours,
    shown: &BTreeSet<NodeRef>,
    through: &NodeRef,
) -> BTreeSet<NodeRef> {
    let mut keep = BTreeSet::from([through.clone()]);
    for upward in [true, false] {
        let mut queue = VecDeque::from([through.clone()]);
        while let Some(n) = queue.pop_front() {
            let Some((ups, downs)) = graph.get(&n) else {
                continue;
            };
            for m in if upward { ups } else { downs } {
                if shown.contains(m) && keep.insert(m.clone()) {
                    queue.push_back(m.clone());
                }
            }
        }
    }
    keep
}

/// The edges among `keys`, as pairs of indices into `keys` from upstream to downstream.
pub fn edges_among(graph: &Neighbours, keys: &[NodeRef]) -> Vec<(usize, usize)> {
    let index: BTreeMap<&NodeRef, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let mut edges = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if let Some((_, downs)) = graph.get(k) {
            edges.extend(downs.iter().filter_map(|d| index.get(d)).map(|j| (i, *j)));
        }
    }
    edges
}

/// How the explorer draws a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeLabel {
    /// `dataset`, `job`, `run`, `model` or `deployment`: the node's shape and colour.
    pub kind: &'static str,
    /// The main line: the name (a run's name when it has one, `model v3` for a version).
    pub label: String,
    /// The second line: the namespace, or what kind of thing the node is.
    pub sublabel: String,
    /// A job's latest run state or a training run's status, when known.
    pub state: Option<String>,
}

/// The label of `node` from what the store knows of it (`data`, as in the lineage API).
pub fn node_label(node: &NodeRef, data: &Value) -> NodeLabel {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let (kind, label, sublabel, state) = match node {
        NodeRef::Dataset { namespace, name } => ("dataset", name.clone(), namespace.clone(), None),
        NodeRef::Job { namespace, name } => (
            "job",
            name.clone(),
            namespace.clone(),
            text(&data["latestRun"]["state"]),
        ),
        NodeRef::Run(id) => (
            "run",
            text(&data["name"]).unwrap_or_else(|| id.clone()),
            "training run".to_owned(),
            text(&data["status"]),
        ),
        NodeRef::ModelVersion { name, version } => (
            "model",
            format!("{name} v{version}"),
            "model version".to_owned(),
            None,
        ),
        NodeRef::Deployment(name) => ("deployment", name.clone(), "deployment".to_owned(), None),
    };
    NodeLabel {
        kind,
        label,
        sublabel,
        state,
    }
}

/// SVG path data through a routed polyline: curves between layers, straight through dummies.
pub fn edge_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, w) in points.windows(2).enumerate() {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if i == 0 {
            let _ = write!(d, "M{x0:.1},{y0:.1}");
        }
        if (y1 - y0).abs() < 0.5 {
            let _ = write!(d, " L{x1:.1},{y1:.1}");
        } else {
            let dx = (x1 - x0) / 2.0;
            let _ = write!(
                d,
                " C{:.1},{y0:.1} {:.1},{y1:.1} {x1:.1},{y1:.1}",
                x0 + dx,
                x1 - dx
            );
        }
    }
    d
}
