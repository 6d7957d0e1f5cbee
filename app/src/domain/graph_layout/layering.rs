//! Phase 2: which layer (column) each node sits in.

use std::collections::{BTreeSet, VecDeque};

use super::acyclic::Peeled;

/// Layers: longest path from the sources within the core (Kahn's order, smallest index
/// first), sources pulled next to their first consumer, then promotion; a tree node sits one
/// layer beside its parent, and all shift so the first is 0.
pub(super) fn assign_layers(
    dag: &[(usize, usize)],
    downstream: &BTreeSet<(usize, usize)>,
    peeled: &Peeled,
) -> Vec<usize> {
    let (n, core) = (peeled.core.len(), &peeled.core);
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in dag {
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
    let mut ready: BTreeSet<usize> = (0..n).filter(|v| core[*v] && indeg[*v] == 0).collect();
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
        core,
    );
    for &v in peeled.order.iter().rev() {
        if let Some(p) = peeled.parent[v] {
            layer[v] = if downstream.contains(&(p, v)) {
                layer[p] + 1
            } else {
                layer[p] - 1
            };
        }
    }
    let first = layer.iter().copied().min().unwrap_or(0);
    layer.iter().map(|l| (l - first) as usize).collect()
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
pub(super) struct Adjacency<'a> {
    /// Per node, its predecessors.
    pub(super) preds: &'a [Vec<usize>],
    /// Per node, its successors.
    pub(super) succs: &'a [Vec<usize>],
}

/// Promote layering (Nikolov and Tarassov, 2006): starting from longest paths, a node that has
/// predecessors moves right while that shortens the edges in total, pushing along the
/// successors in its way. Every node is tried once in index order; a move puts the moved
/// nodes and their neighbours back on the list (first in, first out), until no move helps.
/// Each move shortens the total edge length, so it ends.
pub(super) fn promote_layers(layer: &mut [i64], g: &Adjacency, core: &[bool]) {
    let n = layer.len();
    let mut mark = vec![0u32; n];
    let mut stamp = 0u32;
    let mut moved = Vec::new();
    let mut queued = vec![true; n];
    let mut queue: VecDeque<usize> = (0..n).collect();
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
