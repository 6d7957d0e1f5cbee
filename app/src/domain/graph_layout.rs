//! Layered (Sugiyama-style) left-to-right layout of a directed graph, in pure Rust.
//!
//! Phases: connected components are laid out apart and stacked (so a change inside one leaves
//! the others where they were); each component is peeled into its core (the part on cycles,
//! ignoring direction) and the trees hanging off it; cycles are broken by reversing the back
//! edges of a depth-first search of the core in key order; core layers are longest paths from
//! the sources, then promoted (a node moves right, with what is in its way, while that
//! shortens the edges in total), and a tree node sits one layer beside its parent; long edges
//! get a dummy node per layer they cross; crossings in the core are reduced by barycentre
//! sweeps with key order as the tie-break, keeping the best order seen, then by transposing
//! neighbours (as dot does); tree nodes are slotted in beside their parents; coordinates come
//! from pulling each node towards the median of its neighbours while keeping a minimum gap;
//! edges are routed through their dummies, which hold their own slots in each layer, so no
//! edge passes through a node.
//!
//! Stability: a node joined by one edge (the usual edit: a new run, a new output) lands in a
//! tree, so no other node changes layer (but for a shift of all) or order within its layer;
//! only the spacing around it moves. That holds wherever the component has a cycle; a
//! component that is all tree is rooted at its centre, which moves only when the new node
//! lengthens the tree's longest path.
//!
//! Everything is ordered by node keys and indices, never by hash order: the same graph gives
//! the same picture.
//!
//! Crates looked at: `rust-sugiyama` 0.3 (petgraph-based, top-to-bottom, no edge routing, last
//! released 2024) and `layout-rs` (a Graphviz-like renderer with its own SVG output, no
//! stability across edits). Neither routes edges around nodes or keeps unchanged components in
//! place, and both pull in more than this needs, so the layout is written here.

use std::collections::{BTreeMap, BTreeSet};

mod acyclic;
mod coordinates;
mod layering;
mod ordering;

use acyclic::{break_cycles, peel};
use coordinates::{routes, vertical_positions, Geometry};
use layering::assign_layers;
pub use ordering::count_crossings;
use ordering::Grid;

/// Routed polylines by (from, to), with whether each was reversed.
type Routes = BTreeMap<(usize, usize), (Vec<(f64, f64)>, bool)>;

/// Sizes and gaps, in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayoutOptions {
    /// Node box width.
    pub node_width: f64,
    /// Node box height.
    pub node_height: f64,
    /// Horizontal gap between layers (edges are drawn in it).
    pub layer_gap: f64,
    /// Vertical gap between nodes of a layer.
    pub node_gap: f64,
    /// Vertical gap between components.
    pub component_gap: f64,
    /// Barycentre sweeps (each one down and one up).
    pub sweeps: usize,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            node_width: 200.0,
            node_height: 52.0,
            layer_gap: 90.0,
            node_gap: 22.0,
            component_gap: 44.0,
            sweeps: 12,
        }
    }
}

/// A placed node: top-left corner, size and layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeBox {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// Layer (column), from 0.
    pub layer: usize,
}

/// A routed edge: the points of its polyline, from the source's right side to the target's
/// left side (or the other way round for an edge reversed to break a cycle).
#[derive(Clone, Debug, PartialEq)]
pub struct EdgePath {
    /// Source node index.
    pub from: usize,
    /// Target node index.
    pub to: usize,
    /// Polyline, in drawing order from `from` to `to`.
    pub points: Vec<(f64, f64)>,
    /// Whether the edge was reversed to break a cycle (it then runs right to left).
    pub reversed: bool,
}

/// The layout of a whole graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// One box per node, in input order.
    pub nodes: Vec<NodeBox>,
    /// One path per input edge (self-loops and repeats dropped), in input order.
    pub edges: Vec<EdgePath>,
    /// Drawing width.
    pub width: f64,
    /// Drawing height.
    pub height: f64,
    /// Edge crossings between adjacent layers, dummies included.
    pub crossings: usize,
}

/// Lays out `keys.len()` nodes (keys order ties and must be unique) with the given edges
/// (`(from, to)` indices into `keys`).
pub fn layout(keys: &[String], edges: &[(usize, usize)], opts: &LayoutOptions) -> Layout {
    let n = keys.len();
    let mut clean: Vec<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|(a, b)| a != b && *a < n && *b < n)
        .collect();
    clean.sort_unstable();
    clean.dedup();
    let comps = components(keys, &clean);

    let mut nodes = vec![
        NodeBox {
            x: 0.0,
            y: 0.0,
            w: opts.node_width,
            h: opts.node_height,
            layer: 0,
        };
        n
    ];
    let mut paths: Routes = BTreeMap::new();
    let (mut top, mut width, mut crossings) = (0.0f64, 0.0f64, 0usize);
    let mut comp_of = vec![0usize; n];
    for (ci, c) in comps.iter().enumerate() {
        for &v in c {
            comp_of[v] = ci;
        }
    }
    for (ci, members) in comps.iter().enumerate() {
        let local: BTreeMap<usize, usize> =
            members.iter().enumerate().map(|(i, v)| (*v, i)).collect();
        let local_edges: Vec<(usize, usize)> = clean
            .iter()
            .filter(|(a, _)| comp_of[*a] == ci)
            .map(|(a, b)| (local[a], local[b]))
            .collect();
        let placed = layout_component(members.len(), &local_edges, opts);
        for (i, v) in members.iter().enumerate() {
            let (x, y, layer) = placed.positions[i];
            nodes[*v] = NodeBox {
                x,
                y: y + top,
                w: opts.node_width,
                h: opts.node_height,
                layer,
            };
        }
        for ((a, b), (pts, rev)) in placed.paths {
            paths.insert(
                (members[a], members[b]),
                (pts.into_iter().map(|(x, y)| (x, y + top)).collect(), rev),
            );
        }
        crossings += placed.crossings;
        width = width.max(placed.width);
        top += placed.height + opts.component_gap;
    }
    Layout {
        nodes,
        edges: in_input_order(edges, &paths),
        width,
        height: (top - opts.component_gap).max(0.0),
        crossings,
    }
}

/// The connected components (ignoring direction), each sorted by key, in the order of their
/// smallest keys.
fn components(keys: &[String], edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    for &(a, b) in edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut comps: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for v in 0..keys.len() {
        let r = find(&mut parent, v);
        comps.entry(r).or_default().push(v);
    }
    let mut comps: Vec<Vec<usize>> = comps.into_values().collect();
    for c in &mut comps {
        c.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
    }
    comps.sort_by(|a, b| keys[a[0]].cmp(&keys[b[0]]));
    comps
}

/// One path per input edge that was routed, repeats dropped, in input order.
fn in_input_order(edges: &[(usize, usize)], paths: &Routes) -> Vec<EdgePath> {
    let mut seen = BTreeSet::new();
    edges
        .iter()
        .filter(|e| seen.insert(**e))
        .filter_map(|&(a, b)| {
            let (pts, reversed) = paths.get(&(a, b))?.clone();
            Some(EdgePath {
                from: a,
                to: b,
                points: pts,
                reversed,
            })
        })
        .collect()
}

/// One component's layout, in the component's own node numbering.
struct Placed {
    /// Per node: left, top (within the component) and layer.
    positions: Vec<(f64, f64, usize)>,
    /// The routed edges.
    paths: Routes,
    /// Drawing width.
    width: f64,
    /// Drawing height.
    height: f64,
    /// Edge crossings between adjacent layers.
    crossings: usize,
}

/// Lays out one connected component whose nodes are numbered in key order, phase by phase
/// (see the module's documentation).
fn layout_component(n: usize, edges: &[(usize, usize)], opts: &LayoutOptions) -> Placed {
    // 0. Trees hanging off the core are placed after the core is ordered, so a node added to
    // one moves nothing else.
    let peeled = peel(n, edges);
    // 1. Break cycles.
    let (reversed, dag) = break_cycles(edges, &peeled);
    let downstream: BTreeSet<(usize, usize)> = dag.iter().copied().collect();
    // 2. Layers.
    let layer = assign_layers(&dag, &downstream, &peeled);
    // 3. Dummy nodes for long edges in the core.
    let mut grid = Grid::with_dummies(&layer, &dag, &peeled.core);
    // 4. Crossing reduction in the core, then the trees slotted in beside their parents.
    grid.reduce_crossings(opts.sweeps);
    let crossings = grid.place_trees(&peeled, &downstream);
    // 5. Coordinates.
    let geometry = Geometry { real: n, opts };
    let y = vertical_positions(&grid, &geometry);
    let height = (0..grid.vlayer.len())
        .map(|v| y[v] + geometry.slot(v))
        .fold(0.0, f64::max);
    let layers_n = grid.order.len();
    let width = if layers_n == 0 {
        0.0
    } else {
        geometry.x_of(layers_n - 1) + opts.node_width
    };
    // 6. Routes.
    let paths = routes(edges, &reversed, &grid, &y, &geometry);
    Placed {
        positions: (0..n)
            .map(|v| (geometry.x_of(grid.vlayer[v]), y[v], grid.vlayer[v]))
            .collect(),
        paths,
        width,
        height,
        crossings,
    }
}

#[cfg(test)]
mod tests;
