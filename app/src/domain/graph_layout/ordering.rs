//! Phases 3 and 4: dummy vertices for long edges, and the order of each layer.

use std::collections::{BTreeMap, BTreeSet};

use super::acyclic::Peeled;

/// The layered graph being ordered: real nodes `0..n`, then a dummy vertex for each layer a
/// long core edge crosses.
pub(super) struct Grid {
    /// Layer of each vertex, dummies included.
    pub(super) vlayer: Vec<usize>,
    /// Per edge as laid out (from, to): the vertices it passes through, ends included.
    pub(super) chains: BTreeMap<(usize, usize), Vec<usize>>,
    /// Per vertex, its neighbours one layer right.
    pub(super) down: Vec<Vec<usize>>,
    /// Per vertex, its neighbours one layer left.
    pub(super) up: Vec<Vec<usize>>,
    /// The vertices of each layer, top to bottom.
    pub(super) order: Vec<Vec<usize>>,
    /// Each vertex's index within its layer.
    pos: Vec<usize>,
}

impl Grid {
    /// The core's vertices in layers, with one dummy per layer a long edge crosses (vertex ids
    /// `n..` are dummies), each layer in index order.
    pub(super) fn with_dummies(layer: &[usize], dag: &[(usize, usize)], core: &[bool]) -> Grid {
        let n = layer.len();
        let mut vlayer = layer.to_vec();
        let mut chains: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        let mut down: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b) in dag.iter().filter(|(a, b)| core[*a] && core[*b]) {
            if chains.contains_key(&(a, b)) {
                continue;
            }
            let mut chain = vec![a];
            for l in layer[a] + 1..layer[b] {
                let d = vlayer.len();
                vlayer.push(l);
                down.push(Vec::new());
                chain.push(d);
            }
            chain.push(b);
            for w in chain.windows(2) {
                down[w[0]].push(w[1]);
            }
            chains.insert((a, b), chain);
        }
        let total = vlayer.len();
        let mut up: Vec<Vec<usize>> = vec![Vec::new(); total];
        for (v, ds) in down.iter().enumerate() {
            for &w in ds {
                up[w].push(v);
            }
        }
        let layers_n = vlayer.iter().copied().max().map_or(0, |m| m + 1);
        let mut order: Vec<Vec<usize>> = vec![Vec::new(); layers_n];
        for v in (0..total).filter(|v| *v >= n || core[*v]) {
            order[vlayer[v]].push(v);
        }
        let mut grid = Grid {
            vlayer,
            chains,
            down,
            up,
            order,
            pos: vec![0usize; total],
        };
        grid.reindex();
        grid
    }

    /// Recomputes each vertex's index within its layer.
    fn reindex(&mut self) {
        for l in &self.order {
            for (i, v) in l.iter().enumerate() {
                self.pos[*v] = i;
            }
        }
    }

    /// Crossing reduction: barycentre sweeps (stable sort), keeping the best order seen, then
    /// transposition of neighbours on the best order (once: after every sweep it costs six
    /// times as much and ends higher, as the next sweep undoes most swaps).
    pub(super) fn reduce_crossings(&mut self, sweeps: usize) {
        let mut best = self.order.clone();
        let mut best_cross = count_crossings(&self.order, &self.down, &self.pos);
        for _ in 0..sweeps {
            for layer in self.order.iter_mut().skip(1) {
                sort_by_barycentre(layer, &self.up, &self.pos);
                for (i, v) in layer.iter().enumerate() {
                    self.pos[*v] = i;
                }
            }
            for layer in self.order.iter_mut().rev().skip(1) {
                sort_by_barycentre(layer, &self.down, &self.pos);
                for (i, v) in layer.iter().enumerate() {
                    self.pos[*v] = i;
                }
            }
            let c = count_crossings(&self.order, &self.down, &self.pos);
            if c < best_cross {
                best_cross = c;
                best = self.order.clone();
            }
            if best_cross == 0 {
                break;
            }
        }
        self.order = best;
        self.reindex();
        transpose(&mut self.order, &self.up, &self.down, &mut self.pos);
    }

    /// Trees: each node right beside its parent's place, siblings in key order. A node's sort
    /// key is its core ancestor's relative place in its layer and index, then the indices down
    /// the tree to it: a node added to a tree sorts among its siblings and moves no one.
    /// Answers the crossings of the finished order.
    pub(super) fn place_trees(
        &mut self,
        peeled: &Peeled,
        downstream: &BTreeSet<(usize, usize)>,
    ) -> usize {
        let mut sort_key: Vec<Vec<f64>> = vec![Vec::new(); self.vlayer.len()];
        for l in &self.order {
            for (i, &v) in l.iter().enumerate() {
                sort_key[v] = vec![(i as f64 + 0.5) / l.len() as f64, v as f64];
            }
        }
        for &v in peeled.order.iter().rev() {
            if let Some(p) = peeled.parent[v] {
                let mut k = sort_key[p].clone();
                k.push(v as f64);
                sort_key[v] = k;
                self.order[self.vlayer[v]].push(v);
                self.chains.insert(
                    if downstream.contains(&(p, v)) {
                        (p, v)
                    } else {
                        (v, p)
                    },
                    Vec::new(),
                );
            }
        }
        for l in &mut self.order {
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
        for ((a, b), chain) in self.chains.iter_mut().filter(|(_, c)| c.is_empty()) {
            *chain = vec![*a, *b];
            self.down[*a].push(*b);
            self.up[*b].push(*a);
        }
        self.reindex();
        count_crossings(&self.order, &self.down, &self.pos)
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

/// Crossings between the edges of `u` and those of `v` (u placed before v) towards one
/// neighbouring layer, given each one's neighbour positions sorted: pairs `a` of u, `b` of v
/// with `a > b`.
pub(super) fn pair_crossings(u: &[usize], v: &[usize]) -> usize {
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
pub(super) fn transpose(
    order: &mut [Vec<usize>],
    up: &[Vec<usize>],
    down: &[Vec<usize>],
    pos: &mut [usize],
) {
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
