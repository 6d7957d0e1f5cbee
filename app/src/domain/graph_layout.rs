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

use std::collections::BTreeMap;

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
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub fn layout(keys: &[String], edges: &[(usize, usize)], opts: &LayoutOptions) -> Layout {
    let n = keys.len();
    let mut clean: Vec<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|(a, b)| a != b && *a < n && *b < n)
        .collect();
    clean.sort_unstable();
    clean.dedup();

    // Components, each named by its smallest key, in key order.
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for &(a, b) in &clean {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut comps: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for v in 0..n {
        let r = find(&mut parent, v);
        comps.entry(r).or_default().push(v);
    }
    let mut comps: Vec<Vec<usize>> = comps.into_values().collect();
    for c in &mut comps {
        c.sort_by(|a, b| keys[*a].cmp(&keys[*b]));
    }
    comps.sort_by(|a, b| keys[a[0]].cmp(&keys[b[0]]));

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
    let height = (top - opts.component_gap).max(0.0);
    let mut seen = std::collections::BTreeSet::new();
    let edges = edges
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
        .collect();
    Layout {
        nodes,
        edges,
        width,
        height,
        crossings,
    }
}

struct Placed {
    /// Per node: left, top (within the component) and layer.
    positions: Vec<(f64, f64, usize)>,
    paths: Routes,
    width: f64,
    height: f64,
    crossings: usize,
}

/// Lays out one connected component whose nodes are numbered in key order.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
fn layout_component(n: usize, edges: &[(usize, usize)], opts: &LayoutOptions) -> Placed {
    // 0. Trees hanging off the core (see [`peel`]) are placed after the core is ordered, so a
    // node added to one moves nothing else.
    let Peeled {
        parent: tree_parent,
        order: peel_order,
        core,
    } = peel(n, edges);

    // 1. Break cycles. A cycle through a tree can only be an edge both ways: the one towards
    // the core is reversed. Within the core: depth-first search in index (key) order; back
    // edges are reversed. Either way a tree never changes how the core's cycles break.
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut reversed = std::collections::BTreeSet::new();
    let both: std::collections::BTreeSet<(usize, usize)> = edges.iter().copied().collect();
    for &(a, b) in edges {
        if core[a] && core[b] {
            out[a].push(b);
        } else if tree_parent[a] == Some(b) && both.contains(&(b, a)) {
            reversed.insert((a, b));
        }
    }
    for o in &mut out {
        o.sort_unstable();
    }
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    for root in (0..n).filter(|v| core[*v]) {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some((v, i)) = stack.pop() {
            if i < out[v].len() {
                stack.push((v, i + 1));
                let w = out[v][i];
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {
                        reversed.insert((v, w));
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
            }
        }
    }
    let dag: Vec<(usize, usize)> = edges
        .iter()
        .map(|&(a, b)| {
            if reversed.contains(&(a, b)) {
                (b, a)
            } else {
                (a, b)
            }
        })
        .collect();

    // 2. Layers: longest path from the sources within the core (Kahn's order, smallest index
    // first); a tree node sits one layer beside its parent, and all shift so the first is 0.
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &dag {
        if core[a] && core[b] {
            succs[a].push(b);
            preds[b].push(a);
        }
    }
    for v in 0..n {
        succs[v].sort_unstable();
        succs[v].dedup();
        preds[v].sort_unstable();
        preds[v].dedup();
    }
    let mut indeg: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|v| core[*v] && indeg[*v] == 0).collect();
    let mut layer = vec![0i64; n];
    while let Some(v) = ready.pop_first() {
        for &w in &succs[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                ready.insert(w);
            }
        }
    }
    // Pull sources right, next to their first consumer, so they do not all pile up in layer 0.
    for v in (0..n).rev() {
        if core[v] && preds[v].is_empty() {
            if let Some(min) = succs[v].iter().map(|w| layer[*w]).min() {
                layer[v] = (min - 1).max(0);
            }
        }
    }
    // Then promotion: nodes move right while that shortens their edges in total; fewer
    // layers crossed means fewer dummies, and fewer crossings.
    promote_layers(
        &mut layer,
        &Adjacency {
            preds: &preds,
            succs: &succs,
        },
        &core,
    );
    let downstream: std::collections::BTreeSet<(usize, usize)> = dag.iter().copied().collect();
    for &v in peel_order.iter().rev() {
        if let Some(p) = tree_parent[v] {
            layer[v] = if downstream.contains(&(p, v)) {
                layer[p] + 1
            } else {
                layer[p] - 1
            };
        }
    }
    let first = layer.iter().copied().min().unwrap_or(0);
    let layer: Vec<usize> = layer.iter().map(|l| (l - first) as usize).collect();

    // 3. Dummy nodes: one per layer a long edge crosses. Vertex ids n.. are dummies.
    let mut vlayer = layer.clone();
    let mut chains: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    let mut adj_down: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in dag.iter().filter(|(a, b)| core[*a] && core[*b]) {
        if chains.contains_key(&(a, b)) {
            continue;
        }
        let mut chain = vec![a];
        for l in layer[a] + 1..layer[b] {
            let d = vlayer.len();
            vlayer.push(l);
            adj_down.push(Vec::new());
            chain.push(d);
        }
        chain.push(b);
        for w in chain.windows(2) {
            adj_down[w[0]].push(w[1]);
        }
        chains.insert((a, b), chain);
    }
    let total = vlayer.len();
    let mut adj_up: Vec<Vec<usize>> = vec![Vec::new(); total];
    for (v, ds) in adj_down.iter().enumerate() {
        for &w in ds {
            adj_up[w].push(v);
        }
    }
    let layers_n = vlayer.iter().copied().max().map_or(0, |m| m + 1);
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); layers_n];
    for v in (0..total).filter(|v| *v >= n || core[*v]) {
        order[vlayer[v]].push(v);
    }
    let mut pos = vec![0usize; total];
    let reindex = |order: &Vec<Vec<usize>>, pos: &mut Vec<usize>| {
        for l in order {
            for (i, v) in l.iter().enumerate() {
                pos[*v] = i;
            }
        }
    };
    reindex(&order, &mut pos);

    // 4. Crossing reduction: barycentre sweeps (stable sort), keeping the best order seen.
    let mut best = order.clone();
    let mut best_cross = count_crossings(&order, &adj_down, &pos);
    for _ in 0..opts.sweeps {
        for layer in order.iter_mut().skip(1) {
            sort_by_barycentre(layer, &adj_up, &pos);
            for (i, v) in layer.iter().enumerate() {
                pos[*v] = i;
            }
        }
        for layer in order.iter_mut().rev().skip(1) {
            sort_by_barycentre(layer, &adj_down, &pos);
            for (i, v) in layer.iter().enumerate() {
                pos[*v] = i;
            }
        }
        let c = count_crossings(&order, &adj_down, &pos);
        if c < best_cross {
            best_cross = c;
            best = order.clone();
        }
        if best_cross == 0 {
            break;
        }
    }
    let mut order = best;
    reindex(&order, &mut pos);
    // Then transposition of neighbours on the best order (once: after every sweep it costs
    // six times as much and ends higher, as the next sweep undoes most swaps).
    transpose(&mut order, &adj_up, &adj_down, &mut pos);

    // 4b. Trees: each node right beside its parent's place, siblings in key order. A node's
    // sort key is its core ancestor's relative place in its layer and index, then the indices
    // down the tree to it: a node added to a tree sorts among its siblings and moves no one.
    let mut sort_key: Vec<Vec<f64>> = vec![Vec::new(); total];
    for l in &order {
        for (i, &v) in l.iter().enumerate() {
            sort_key[v] = vec![(i as f64 + 0.5) / l.len() as f64, v as f64];
        }
    }
    for &v in peel_order.iter().rev() {
        if let Some(p) = tree_parent[v] {
            let mut k = sort_key[p].clone();
            k.push(v as f64);
            sort_key[v] = k;
            order[vlayer[v]].push(v);
            chains.insert(
                if downstream.contains(&(p, v)) {
                    (p, v)
                } else {
                    (v, p)
                },
                Vec::new(),
            );
        }
    }
    for l in order.iter_mut() {
        l.sort_by(|a, b| {
            let (ka, kb) = (&sort_key[*a], &sort_key[*b]);
            ka.iter()
                .zip(kb.iter())
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(ka.len().cmp(&kb.len()))
                .then(a.cmp(b))
        });
    }
    for ((a, b), chain) in chains.iter_mut().filter(|(_, c)| c.is_empty()) {
        *chain = vec![*a, *b];
        adj_down[*a].push(*b);
        adj_up[*b].push(*a);
    }
    reindex(&order, &mut pos);
    let best_cross = count_crossings(&order, &adj_down, &pos);

    // 5. Coordinates: slots of a node's height (dummies are thin), pulled towards the median
    // of their neighbours, never closer than the gap.
    let slot = |v: usize| if v < n { opts.node_height } else { 8.0 };
    let gap = opts.node_gap;
    let mut y = vec![0.0f64; total];
    for l in &order {
        let mut t = 0.0;
        for &v in l {
            y[v] = t;
            t += slot(v) + gap;
        }
    }
    let centre = |y: &Vec<f64>, v: usize| y[v] + slot(v) / 2.0;
    for round in 0..8 {
        let down = round % 2 == 0;
        let range: Vec<usize> = if down {
            (1..layers_n).collect()
        } else {
            (0..layers_n.saturating_sub(1)).rev().collect()
        };
        for l in range {
            let nbrs = if down { &adj_up } else { &adj_down };
            let wanted: Vec<f64> = order[l]
                .iter()
                .map(|&v| {
                    let mut c: Vec<f64> = nbrs[v].iter().map(|w| centre(&y, *w)).collect();
                    if c.is_empty() {
                        centre(&y, v) - slot(v) / 2.0
                    } else {
                        c.sort_by(f64::total_cmp);
                        c[c.len() / 2] - slot(v) / 2.0
                    }
                })
                .collect();
            // Place in order at the wanted spot or just below the previous node, then push
            // back up where the layer sits lower than it wants (balancing both ends).
            let mut placed: Vec<f64> = Vec::with_capacity(order[l].len());
            for i in 0..order[l].len() {
                let min = if i == 0 {
                    f64::MIN
                } else {
                    placed[i - 1] + slot(order[l][i - 1]) + gap
                };
                placed.push(wanted[i].max(min));
            }
            for i in (0..placed.len()).rev() {
                let v = order[l][i];
                let max = if i + 1 == placed.len() {
                    f64::MAX
                } else {
                    placed[i + 1] - slot(v) - gap
                };
                let min = if i == 0 {
                    f64::MIN
                } else {
                    placed[i - 1] + slot(order[l][i - 1]) + gap
                };
                placed[i] = placed[i].min(max).max(min).max(wanted[i].min(max));
            }
            for (i, &v) in order[l].iter().enumerate() {
                y[v] = placed[i];
            }
        }
    }
    // Shift so the top is 0.
    let min_y = y.iter().copied().fold(f64::MAX, f64::min);
    let min_y = if min_y.is_finite() { min_y } else { 0.0 };
    for v in y.iter_mut() {
        *v -= min_y;
    }
    let height = (0..total).map(|v| y[v] + slot(v)).fold(0.0, f64::max);
    let x_of = |l: usize| l as f64 * (opts.node_width + opts.layer_gap);
    let width = if layers_n == 0 {
        0.0
    } else {
        x_of(layers_n - 1) + opts.node_width
    };

    // 6. Routes: out of the right side, through each dummy, into the left side.
    let mut paths = BTreeMap::new();
    for &(a, b) in edges {
        let rev = reversed.contains(&(a, b));
        let (s, t) = if rev { (b, a) } else { (a, b) };
        let Some(chain) = chains.get(&(s, t)) else {
            continue;
        };
        let mut pts = Vec::with_capacity(chain.len() * 2);
        for (i, &v) in chain.iter().enumerate() {
            let x = x_of(vlayer[v]);
            let cy = centre(&y, v);
            if i == 0 {
                pts.push((x + opts.node_width, cy));
            } else if i + 1 == chain.len() {
                pts.push((x, cy));
            } else {
                pts.push((x, cy));
                pts.push((x + opts.node_width, cy));
            }
        }
        if rev {
            pts.reverse();
        }
        paths.insert((a, b), (pts, rev));
    }
    Placed {
        positions: (0..n).map(|v| (x_of(vlayer[v]), y[v], vlayer[v])).collect(),
        paths,
        width,
        height,
        crossings: best_cross,
    }
}

/// A component split into its core and the trees hanging off it.
struct Peeled {
    /// Per tree node, the neighbour it hangs from (towards the core).
    parent: Vec<Option<usize>>,
    /// Tree nodes, leaves first: every node comes before its parent.
    order: Vec<usize>,
    /// Whether each node is in the core.
    core: Vec<bool>,
}

/// Peels a connected component, ignoring edge direction, one round of leaves at a time: what
/// remains is the core (the 2-core; for a tree, its centre, the smaller index of two). A node
/// added by one edge lands in a tree and leaves the core as it was, and the core alone is
/// ordered by crossing reduction, so the rest of the picture keeps its order.
fn peel(n: usize, edges: &[(usize, usize)]) -> Peeled {
    let mut nbrs: Vec<std::collections::BTreeSet<usize>> = vec![Default::default(); n];
    for &(a, b) in edges {
        if a != b {
            nbrs[a].insert(b);
            nbrs[b].insert(a);
        }
    }
    let mut degree: Vec<usize> = nbrs.iter().map(|s| s.len()).collect();
    let mut core = vec![true; n];
    let mut parent = vec![None; n];
    let mut order = Vec::new();
    let mut remaining = n;
    let mut round: Vec<usize> = (0..n).filter(|v| degree[*v] <= 1).collect();
    while !round.is_empty() {
        if round.len() >= remaining {
            // The last one or two nodes of a tree: the smaller index stays as its root.
            let root = round[0];
            for &v in &round[1..] {
                core[v] = false;
                parent[v] = Some(root);
                order.push(v);
            }
            break;
        }
        let mut next = std::collections::BTreeSet::new();
        for &v in &round {
            core[v] = false;
            remaining -= 1;
            order.push(v);
            if let Some(&p) = nbrs[v].iter().find(|w| core[**w]) {
                parent[v] = Some(p);
                degree[p] -= 1;
                if degree[p] == 1 {
                    next.insert(p);
                }
            }
        }
        round = next.into_iter().filter(|v| core[*v]).collect();
    }
    Peeled {
        parent,
        order,
        core,
    }
}

/// Sorts a layer by the mean position of each vertex's neighbours in the adjacent layer;
/// vertices without neighbours keep their place (stable sort on the current position).
fn sort_by_barycentre(layer: &mut [usize], nbrs: &[Vec<usize>], pos: &[usize]) {
    let mut keyed: Vec<(f64, usize, usize)> = layer
        .iter()
        .map(|&v| {
            let b = if nbrs[v].is_empty() {
                pos[v] as f64
            } else {
                nbrs[v].iter().map(|w| pos[*w] as f64).sum::<f64>() / nbrs[v].len() as f64
            };
            (b, pos[v], v)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (i, (_, _, v)) in keyed.into_iter().enumerate() {
        layer[i] = v;
    }
}

/// Moves `v` one layer right, and with it every successor it would otherwise touch (and theirs);
/// returns the change in total edge length, with the moved nodes in `moved` for undoing.
/// `mark`/`stamp` tell which nodes moved in this promotion.
fn promote(
    v: usize,
    layer: &mut [i64],
    g: &Adjacency,
    moved: &mut Vec<usize>,
    mark: &mut [u32],
    stamp: u32,
) -> i64 {
    // An explicit stack: long chains would overflow the call stack.
    let mut stack = vec![v];
    mark[v] = stamp;
    let mut diff = 0;
    while let Some(x) = stack.pop() {
        for &w in &g.succs[x] {
            if layer[w] == layer[x] + 1 && mark[w] != stamp {
                mark[w] = stamp;
                stack.push(w);
            }
        }
        moved.push(x);
        diff += g.preds[x].len() as i64 - g.succs[x].len() as i64;
    }
    for &x in moved.iter() {
        layer[x] += 1;
    }
    diff
}

/// A component's edges both ways (core nodes only).
struct Adjacency<'a> {
    preds: &'a [Vec<usize>],
    succs: &'a [Vec<usize>],
}

/// Promote layering (Nikolov and Tarassov, 2006): starting from longest paths, a node that has
/// predecessors moves right while that shortens the edges in total, pushing along the
/// successors in its way. Every node is tried once in index order; a move puts the moved
/// nodes and their neighbours back on the list (first in, first out), until no move helps.
/// Each move shortens the total edge length, so it ends.
fn promote_layers(layer: &mut [i64], g: &Adjacency, core: &[bool]) {
    let n = layer.len();
    let mut mark = vec![0u32; n];
    let mut stamp = 0u32;
    let mut moved = Vec::new();
    let mut queued = vec![true; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).collect();
    while let Some(v) = queue.pop_front() {
        queued[v] = false;
        if !core[v] || g.preds[v].is_empty() {
            continue;
        }
        moved.clear();
        stamp += 1;
        if promote(v, layer, g, &mut moved, &mut mark, stamp) < 0 {
            for &x in &moved {
                for &w in g.preds[x]
                    .iter()
                    .chain(&g.succs[x])
                    .chain(std::iter::once(&x))
                {
                    if !queued[w] {
                        queued[w] = true;
                        queue.push_back(w);
                    }
                }
            }
        } else {
            for &x in &moved {
                layer[x] -= 1;
            }
        }
    }
}

/// Crossings between the edges of `u` and those of `v` (u placed before v) towards one
/// neighbouring layer, given each one's neighbour positions sorted: pairs `a` of u, `b` of v
/// with `a > b`.
fn pair_crossings(u: &[usize], v: &[usize]) -> usize {
    let (mut c, mut j) = (0, 0);
    for &a in u {
        while j < v.len() && v[j] < a {
            j += 1;
        }
        c += j;
    }
    c
}

/// Transposition (as in Gansner et al.'s dot): swaps neighbours in a layer wherever that
/// lowers the crossings with both adjacent layers, layer by layer, until a round changes
/// nothing (at most a few rounds).
fn transpose(order: &mut [Vec<usize>], up: &[Vec<usize>], down: &[Vec<usize>], pos: &mut [usize]) {
    let sorted = |nbrs: &[usize], pos: &[usize]| {
        let mut p: Vec<usize> = nbrs.iter().map(|w| pos[*w]).collect();
        p.sort_unstable();
        p
    };
    for _ in 0..6 {
        let mut improved = false;
        for layer in order.iter_mut() {
            if layer.len() < 2 {
                continue;
            }
            // Neighbour layers stay fixed while this one changes: sort each node's ends once.
            let ups: Vec<Vec<usize>> = layer.iter().map(|v| sorted(&up[*v], pos)).collect();
            let downs: Vec<Vec<usize>> = layer.iter().map(|v| sorted(&down[*v], pos)).collect();
            let mut idx: Vec<usize> = (0..layer.len()).collect();
            let mut changed = true;
            while changed {
                changed = false;
                for i in 0..idx.len() - 1 {
                    let (a, b) = (idx[i], idx[i + 1]);
                    let now =
                        pair_crossings(&ups[a], &ups[b]) + pair_crossings(&downs[a], &downs[b]);
                    let swapped =
                        pair_crossings(&ups[b], &ups[a]) + pair_crossings(&downs[b], &downs[a]);
                    if swapped < now {
                        idx.swap(i, i + 1);
                        changed = true;
                        improved = true;
                    }
                }
            }
            let sorted_layer: Vec<usize> = idx.iter().map(|i| layer[*i]).collect();
            for (i, v) in sorted_layer.iter().enumerate() {
                pos[*v] = i;
            }
            *layer = sorted_layer;
        }
        if !improved {
            break;
        }
    }
}

/// Crossings between each pair of adjacent layers: inversions among the edges sorted by
/// their upper end, counted with a Fenwick tree (Barth, Jünger and Mutzel's bilayer count).
pub fn count_crossings(order: &[Vec<usize>], down: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    for l in 0..order.len().saturating_sub(1) {
        let mut ends: Vec<(usize, usize)> = Vec::new();
        for &v in &order[l] {
            for &w in &down[v] {
                ends.push((pos[v], pos[w]));
            }
        }
        ends.sort_unstable();
        let width = order[l + 1].len() + 1;
        let mut tree = vec![0usize; width + 1];
        for (seen, &(_, lower)) in ends.iter().enumerate() {
            // Edges already seen whose lower end is greater cross this one.
            let mut i = lower + 1;
            let mut le = 0;
            while i > 0 {
                le += tree[i];
                i &= i - 1;
            }
            total += seen - le;
            let mut i = lower + 1;
            while i <= width {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i:04}")).collect()
    }

    fn overlaps(a: &NodeBox, b: &NodeBox) -> bool {
        a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
    }

    #[test]
    fn a_chain_runs_left_to_right_without_crossings() {
        let l = layout(
            &keys(4),
            &[(0, 1), (1, 2), (2, 3)],
            &LayoutOptions::default(),
        );
        let xs: Vec<f64> = l.nodes.iter().map(|n| n.x).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        assert_eq!(l.crossings, 0);
        assert_eq!(l.edges.len(), 3);
    }

    #[test]
    fn a_cycle_is_broken_by_reversing_one_edge() {
        let l = layout(
            &keys(3),
            &[(0, 1), (1, 2), (2, 0)],
            &LayoutOptions::default(),
        );
        assert_eq!(l.edges.iter().filter(|e| e.reversed).count(), 1);
        let back = l.edges.iter().find(|e| e.reversed).unwrap();
        assert!(
            l.nodes[back.from].x > l.nodes[back.to].x,
            "drawn right to left"
        );
    }

    #[test]
    fn long_edges_are_routed_through_free_slots() {
        // 0 → 1 → 2 → 3 and 0 → 3: the long edge must not pass through 1 or 2.
        let l = layout(
            &keys(4),
            &[(0, 1), (1, 2), (2, 3), (0, 3)],
            &LayoutOptions::default(),
        );
        let long = l.edges.iter().find(|e| e.from == 0 && e.to == 3).unwrap();
        assert!(long.points.len() > 2);
        for p in &long.points[1..long.points.len() - 1] {
            for b in &l.nodes[1..3] {
                let inside = p.0 > b.x && p.0 < b.x + b.w && p.1 > b.y && p.1 < b.y + b.h;
                assert!(!inside, "{p:?} inside {b:?}");
            }
        }
    }

    #[test]
    fn crossings_are_counted() {
        // Two layers with edges a→d and b→c, where the barycentre order cannot be
        // used (counted directly on a fixed order).
        let order = vec![vec![0, 1], vec![2, 3]];
        let down = vec![vec![3], vec![2], vec![], vec![]];
        let pos = vec![0, 1, 0, 1];
        assert_eq!(count_crossings(&order, &down, &pos), 1);
        let l = layout(&keys(4), &[(0, 3), (1, 2)], &LayoutOptions::default());
        assert_eq!(l.crossings, 0, "two separate components never cross");
    }

    #[test]
    fn promotion_shortens_edges_that_longest_paths_stretch() {
        // 0→1→2→{3,5} is long; 0→4→{3,5} is short, so longest paths leave 4 in layer 1 with
        // two edges that each cross a layer. Promoted, 4 moves to layer 2: one edge longer,
        // two shorter.
        let preds = vec![vec![], vec![0], vec![1], vec![2, 4], vec![0], vec![2, 4]];
        let succs = vec![vec![1, 4], vec![2], vec![3, 5], vec![], vec![3, 5], vec![]];
        let g = Adjacency {
            preds: &preds,
            succs: &succs,
        };
        let mut layer = vec![0, 1, 2, 3, 1, 3];
        promote_layers(&mut layer, &g, &[true; 6]);
        assert_eq!(layer, vec![0, 1, 2, 3, 2, 3]);
        // A move that gains nothing is undone: 4 in layer 2 cannot go on without pushing 3 and
        // 5 (and lengthening four edges).
        let mut again = layer.clone();
        promote_layers(&mut again, &g, &[true; 6]);
        assert_eq!(again, layer);
    }

    #[test]
    fn transposition_swaps_neighbours_where_that_removes_crossings() {
        // Layer 1 holds 2 and 3 in the order [3, 2]; 0→2 and 1→3 cross until they swap.
        let mut order = vec![vec![0, 1], vec![3, 2]];
        let down = vec![vec![2], vec![3], vec![], vec![]];
        let up = vec![vec![], vec![], vec![0], vec![1]];
        let mut pos = vec![0, 1, 1, 0];
        assert_eq!(count_crossings(&order, &down, &pos), 1);
        transpose(&mut order, &up, &down, &mut pos);
        assert_eq!(count_crossings(&order, &down, &pos), 0);
        assert_eq!(pos[2] + pos[3], 1);
        assert_eq!(pair_crossings(&[0, 2], &[1]), 1);
        assert_eq!(
            pair_crossings(&[1], &[1]),
            0,
            "a shared end is not a crossing"
        );
    }

    /// The nodes connected to `u`, ignoring direction.
    fn component(n: usize, edges: &[(usize, usize)], u: usize) -> Vec<usize> {
        let mut seen = vec![false; n];
        let mut stack = vec![u];
        seen[u] = true;
        while let Some(v) = stack.pop() {
            for &(a, b) in edges {
                for (x, y) in [(a, b), (b, a)] {
                    if x == v && !seen[y] {
                        seen[y] = true;
                        stack.push(y);
                    }
                }
            }
        }
        (0..n).filter(|v| seen[*v]).collect()
    }

    /// Whether `u`'s component has a cycle, ignoring direction (a non-empty 2-core).
    fn has_core(n: usize, edges: &[(usize, usize)], u: usize) -> bool {
        let comp = component(n, edges, u);
        let mut pairs: Vec<(usize, usize)> = edges
            .iter()
            .filter(|(a, b)| a != b && comp.contains(a))
            .map(|&(a, b)| (a.min(b), a.max(b)))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs.len() >= comp.len()
    }

    fn graph() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
        (1usize..40)
            .prop_flat_map(|n| (Just(n), proptest::collection::vec((0..n, 0..n), 0..(n * 2))))
    }

    proptest! {
        #[test]
        fn no_two_nodes_overlap((n, edges) in graph()) {
            let l = layout(&keys(n), &edges, &LayoutOptions::default());
            for i in 0..n {
                for j in i + 1..n {
                    prop_assert!(!overlaps(&l.nodes[i], &l.nodes[j]), "{i} and {j} overlap");
                }
            }
        }

        #[test]
        fn every_edge_goes_left_to_right_after_cycle_handling((n, edges) in graph()) {
            let l = layout(&keys(n), &edges, &LayoutOptions::default());
            for e in &l.edges {
                let (s, t) = if e.reversed { (e.to, e.from) } else { (e.from, e.to) };
                prop_assert!(l.nodes[s].layer < l.nodes[t].layer, "{e:?}");
                prop_assert!(l.nodes[s].x < l.nodes[t].x);
            }
        }

        #[test]
        fn the_same_input_gives_the_same_output((n, edges) in graph()) {
            let a = layout(&keys(n), &edges, &LayoutOptions::default());
            let b = layout(&keys(n), &edges, &LayoutOptions::default());
            prop_assert_eq!(a, b);
        }

        #[test]
        fn a_node_added_by_one_edge_leaves_the_order_of_the_rest(
            (n, edges) in graph(),
            at in any::<prop::sample::Index>(),
            upstream in any::<bool>(),
            key_first in any::<bool>(),
        ) {
            // Where the neighbour's component has a cycle (ignoring direction), a node joined
            // to it by one edge changes no other node's layer (but for a shift of all) nor
            // its order within its layer.
            let u = at.index(n);
            let mut edges = edges;
            if n >= 3 && !has_core(n, &edges, u) {
                // Give u's component a cycle (direction mixed).
                edges.extend([(u, (u + 1) % n), ((u + 2) % n, (u + 1) % n), ((u + 2) % n, u)]);
            }
            prop_assume!(has_core(n, &edges, u));
            let base = layout(&keys(n), &edges, &LayoutOptions::default());
            let mut k = keys(n);
            k.push(if key_first { "a-new".into() } else { "z-new".into() });
            let mut more = edges.clone();
            more.push(if upstream { (n, u) } else { (u, n) });
            let grown = layout(&k, &more, &LayoutOptions::default());
            let comp = component(n, &edges, u);
            let shift = grown.nodes[u].layer as i64 - base.nodes[u].layer as i64;
            for &i in &comp {
                prop_assert_eq!(grown.nodes[i].layer as i64 - base.nodes[i].layer as i64, shift, "node {} changed layer", i);
                for &j in &comp {
                    if base.nodes[i].layer == base.nodes[j].layer && base.nodes[i].y < base.nodes[j].y {
                        prop_assert!(grown.nodes[i].y < grown.nodes[j].y, "{} and {} swapped", i, j);
                    }
                }
            }
        }

        #[test]
        fn adding_a_node_elsewhere_leaves_a_component_in_place((n, edges) in graph()) {
            // A new node joined to a new neighbour forms its own component: every existing
            // node keeps its position relative to its component's first node.
            let base = layout(&keys(n), &edges, &LayoutOptions::default());
            let mut k = keys(n);
            k.push("zz-new".into());
            k.push("zz-new-2".into());
            let mut more = edges.clone();
            more.push((n, n + 1));
            let grown = layout(&k, &more, &LayoutOptions::default());
            for i in 0..n {
                prop_assert_eq!(base.nodes[i].x, grown.nodes[i].x);
                prop_assert_eq!(base.nodes[i].y, grown.nodes[i].y, "node {} moved", i);
            }
        }
    }
}
