//! Phases 0 and 1: the core and its trees, and breaking cycles.

use std::collections::BTreeSet;

/// An edge, `(from, to)`.
type Edge = (usize, usize);

/// A component split into its core and the trees hanging off it.
pub(super) struct Peeled {
    /// Per tree node, the neighbour it hangs from (towards the core).
    pub(super) parent: Vec<Option<usize>>,
    /// Tree nodes, leaves first: every node comes before its parent.
    pub(super) order: Vec<usize>,
    /// Whether each node is in the core.
    pub(super) core: Vec<bool>,
}

/// Peels a connected component, ignoring edge direction, one round of leaves at a time: what
/// remains is the core (the 2-core; for a tree, its centre, the smaller index of two). A node
/// added by one edge lands in a tree and leaves the core as it was, and the core alone is
/// ordered by crossing reduction, so the rest of the picture keeps its order.
pub(super) fn peel(n: usize, edges: &[(usize, usize)]) -> Peeled {
    let mut nbrs: Vec<BTreeSet<usize>> = vec![Default::default(); n];
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
        let mut next = BTreeSet::new();
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

/// Breaks the component's cycles; answers the reversed edges and every edge as laid out
/// (reversed ones turned round). A cycle through a tree can only be an edge both ways: the one
/// towards the core is reversed. Within the core: depth-first search in index (key) order;
/// back edges are reversed. Either way a tree never changes how the core's cycles break.
pub(super) fn break_cycles(
    edges: &[(usize, usize)],
    peeled: &Peeled,
) -> (BTreeSet<Edge>, Vec<Edge>) {
    let (n, core) = (peeled.core.len(), &peeled.core);
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut reversed = BTreeSet::new();
    let both: BTreeSet<(usize, usize)> = edges.iter().copied().collect();
    for &(a, b) in edges {
        if core[a] && core[b] {
            out[a].push(b);
        } else if peeled.parent[a] == Some(b) && both.contains(&(b, a)) {
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
    let dag = edges
        .iter()
        .map(|&(a, b)| {
            if reversed.contains(&(a, b)) {
                (b, a)
            } else {
                (a, b)
            }
        })
        .collect();
    (reversed, dag)
}
