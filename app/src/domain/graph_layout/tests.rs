//! The layout's properties: no overlaps, few crossings, stability under edits.

use super::layering::{promote_layers, Adjacency};
use super::ordering::{pair_crossings, transpose};
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
    (1usize..40).prop_flat_map(|n| (Just(n), proptest::collection::vec((0..n, 0..n), 0..(n * 2))))
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
