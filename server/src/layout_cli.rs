//! `server layout FILE`: times the lineage layout on a graph read from JSON, so the figure and
//! the crossing count can be compared with other layout engines on the same input.
//!
//! The file holds `{"nodes": [...], "edges": [...]}`. Nodes are ids (strings) or objects with
//! an `id`; edges are `[from, to]` pairs of ids or of node indices, or objects with
//! `source`/`target` (or `from`/`to`).

use app::domain::graph_layout::{layout, Layout, LayoutOptions};
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A graph read from JSON: node keys and edges as index pairs.
pub struct GraphInput {
    /// Node ids, in file order.
    pub keys: Vec<String>,
    /// Edges as indices into `keys`.
    pub edges: Vec<(usize, usize)>,
}

/// Reads the graph format described in the module docs.
pub fn parse_graph(v: &Value) -> anyhow::Result<GraphInput> {
    let nodes = v["nodes"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("\"nodes\" must be an array"))?;
    let mut keys = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        let id = match n {
            Value::String(s) => s.clone(),
            Value::Number(x) => x.to_string(),
            Value::Object(o) => match o.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(x)) => x.to_string(),
                _ => anyhow::bail!("nodes[{i}] has no id"),
            },
            _ => anyhow::bail!("nodes[{i}] is neither an id nor an object"),
        };
        keys.push(id);
    }
    let index: HashMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    anyhow::ensure!(index.len() == keys.len(), "node ids must be unique");
    let end = |e: &Value, i: usize| -> anyhow::Result<usize> {
        match e {
            Value::String(s) => index
                .get(s.as_str())
                .copied()
                .ok_or_else(|| anyhow::anyhow!("edges[{i}] names unknown node {s}")),
            Value::Number(x) => x
                .as_u64()
                .map(|x| x as usize)
                .filter(|x| *x < keys.len())
                .ok_or_else(|| anyhow::anyhow!("edges[{i}] has a node index out of range")),
            _ => anyhow::bail!("edges[{i}] has an end that is neither an id nor an index"),
        }
    };
    let mut edges = Vec::new();
    for (i, e) in v["edges"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("\"edges\" must be an array"))?
        .iter()
        .enumerate()
    {
        let (a, b) = match e {
            Value::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
            Value::Object(o) => (
                o.get("source")
                    .or_else(|| o.get("from"))
                    .unwrap_or(&Value::Null),
                o.get("target")
                    .or_else(|| o.get("to"))
                    .unwrap_or(&Value::Null),
            ),
            _ => anyhow::bail!("edges[{i}] must be a [from, to] pair or an object"),
        };
        edges.push((end(a, i)?, end(b, i)?));
    }
    Ok(GraphInput { keys, edges })
}

/// Lays the graph out `runs` times; returns the layout and the median time.
pub fn time_layout(g: &GraphInput, runs: usize) -> (Layout, Duration) {
    let opts = LayoutOptions::default();
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let l = layout(&g.keys, &g.edges, &opts);
        times.push(t.elapsed());
        last = Some(l);
    }
    times.sort();
    let l = last.unwrap_or_else(|| layout(&g.keys, &g.edges, &opts));
    (l, times[times.len() / 2])
}

/// One line of figures for a timed layout.
pub fn report(g: &GraphInput, l: &Layout, median: Duration) -> String {
    let layers = l.nodes.iter().map(|n| n.layer).max().map_or(0, |m| m + 1);
    format!(
        "{} nodes, {} edges: layout median {:.1} ms, {} crossings, {} layers, {:.0} × {:.0} px, {} edges reversed",
        g.keys.len(),
        g.edges.len(),
        median.as_secs_f64() * 1e3,
        l.crossings,
        layers,
        l.width,
        l.height,
        l.edges.iter().filter(|e| e.reversed).count()
    )
}

/// The layout as JSON for other tools: `nodes` with `id`, the box (`x`, `y` of its top-left
/// corner, `width`, `height`, in pixels), `layer` and `order` (its place in the layer, top
/// first); `edges` with `source`, `target` (ids), `points` (the polyline) and `reversed`; and
/// the drawing's `width`, `height` and the `crossings` counted.
pub fn positions(g: &GraphInput, l: &Layout) -> Value {
    // A node's place in its layer is its rank by top edge (ties by input order).
    let mut by_layer: Vec<usize> = (0..l.nodes.len()).collect();
    by_layer.sort_by(|a, b| {
        let (na, nb) = (&l.nodes[*a], &l.nodes[*b]);
        na.layer
            .cmp(&nb.layer)
            .then(na.y.total_cmp(&nb.y))
            .then(a.cmp(b))
    });
    let mut order = vec![0usize; l.nodes.len()];
    let mut prev_layer = None;
    let mut rank = 0;
    for v in by_layer {
        if prev_layer != Some(l.nodes[v].layer) {
            prev_layer = Some(l.nodes[v].layer);
            rank = 0;
        }
        order[v] = rank;
        rank += 1;
    }
    serde_json::json!({
        "nodes": l.nodes.iter().enumerate().map(|(i, n)| serde_json::json!({
            "id": g.keys[i], "x": n.x, "y": n.y, "width": n.w, "height": n.h,
            "layer": n.layer, "order": order[i],
        })).collect::<Vec<_>>(),
        "edges": l.edges.iter().map(|e| serde_json::json!({
            "source": g.keys[e.from], "target": g.keys[e.to],
            "points": e.points.iter().map(|(x, y)| [*x, *y]).collect::<Vec<_>>(),
            "reversed": e.reversed,
        })).collect::<Vec<_>>(),
        "width": l.width,
        "height": l.height,
        "crossings": l.crossings,
    })
}
