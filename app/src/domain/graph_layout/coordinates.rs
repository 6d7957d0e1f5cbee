//! Phases 5 and 6: where each vertex sits, and the polylines of the edges.

use std::collections::{BTreeMap, BTreeSet};

use super::ordering::Grid;
use super::{LayoutOptions, Routes};

/// Sizes of one component's vertices: nodes `0..real` are boxes, the rest thin dummies.
pub(super) struct Geometry<'a> {
    /// How many vertices are real nodes.
    pub(super) real: usize,
    /// Box sizes and gaps.
    pub(super) opts: &'a LayoutOptions,
}

impl Geometry<'_> {
    /// The height a vertex takes in its layer (a dummy is a thin slot).
    pub(super) fn slot(&self, v: usize) -> f64 {
        if v < self.real {
            self.opts.node_height
        } else {
            8.0
        }
    }

    /// The vertical centre of a vertex whose top is at `y[v]`.
    fn centre(&self, y: &[f64], v: usize) -> f64 {
        y[v] + self.slot(v) / 2.0
    }

    /// The left edge of a layer.
    pub(super) fn x_of(&self, layer: usize) -> f64 {
        layer as f64 * (self.opts.node_width + self.opts.layer_gap)
    }
}

/// Tops of every vertex: stacked in slots of their height, then pulled towards the median of
/// their neighbours, layer by layer in alternating sweeps, never closer than the gap; shifted
/// so the top is 0.
pub(super) fn vertical_positions(grid: &Grid, geo: &Geometry) -> Vec<f64> {
    let gap = geo.opts.node_gap;
    let layers_n = grid.order.len();
    let mut y = vec![0.0f64; grid.vlayer.len()];
    for l in &grid.order {
        let mut t = 0.0;
        for &v in l {
            y[v] = t;
            t += geo.slot(v) + gap;
        }
    }
    for round in 0..8 {
        let down = round % 2 == 0;
        let range: Vec<usize> = if down {
            (1..layers_n).collect()
        } else {
            (0..layers_n.saturating_sub(1)).rev().collect()
        };
        for l in range {
            let nbrs = if down { &grid.up } else { &grid.down };
            let wanted: Vec<f64> = grid.order[l]
                .iter()
                .map(|&v| {
                    let mut c: Vec<f64> = nbrs[v].iter().map(|w| geo.centre(&y, *w)).collect();
                    if c.is_empty() {
                        geo.centre(&y, v) - geo.slot(v) / 2.0
                    } else {
                        c.sort_by(f64::total_cmp);
                        c[c.len() / 2] - geo.slot(v) / 2.0
                    }
                })
                .collect();
            let placed = settle(&grid.order[l], &wanted, geo);
            for (i, &v) in grid.order[l].iter().enumerate() {
                y[v] = placed[i];
            }
        }
    }
    let min_y = y.iter().copied().fold(f64::MAX, f64::min);
    let min_y = if min_y.is_finite() { min_y } else { 0.0 };
    for v in &mut y {
        *v -= min_y;
    }
    y
}

/// Places a layer's vertices in order at their wanted tops or just below the previous one,
/// then pushes back up where the layer sits lower than it wants (balancing both ends).
fn settle(layer: &[usize], wanted: &[f64], geo: &Geometry) -> Vec<f64> {
    let gap = geo.opts.node_gap;
    let mut placed: Vec<f64> = Vec::with_capacity(layer.len());
    for i in 0..layer.len() {
        let min = if i == 0 {
            f64::MIN
        } else {
            placed[i - 1] + geo.slot(layer[i - 1]) + gap
        };
        placed.push(wanted[i].max(min));
    }
    for i in (0..placed.len()).rev() {
        let v = layer[i];
        let max = if i + 1 == placed.len() {
            f64::MAX
        } else {
            placed[i + 1] - geo.slot(v) - gap
        };
        let min = if i == 0 {
            f64::MIN
        } else {
            placed[i - 1] + geo.slot(layer[i - 1]) + gap
        };
        placed[i] = placed[i].min(max).max(min).max(wanted[i].min(max));
    }
    placed
}

/// Routes: out of the right side, through each dummy, into the left side; a reversed edge's
/// points run back from its target.
pub(super) fn routes(
    edges: &[(usize, usize)],
    reversed: &BTreeSet<(usize, usize)>,
    grid: &Grid,
    y: &[f64],
    geo: &Geometry,
) -> Routes {
    let width = geo.opts.node_width;
    let mut paths = BTreeMap::new();
    for &(a, b) in edges {
        let rev = reversed.contains(&(a, b));
        let (s, t) = if rev { (b, a) } else { (a, b) };
        let Some(chain) = grid.chains.get(&(s, t)) else {
            continue;
        };
        let mut pts = Vec::with_capacity(chain.len() * 2);
        for (i, &v) in chain.iter().enumerate() {
            let x = geo.x_of(grid.vlayer[v]);
            let cy = geo.centre(y, v);
            if i == 0 {
                pts.push((x + width, cy));
            } else if i + 1 == chain.len() {
                pts.push((x, cy));
            } else {
                pts.push((x, cy));
                pts.push((x + width, cy));
            }
        }
        if rev {
            pts.reverse();
        }
        paths.insert((a, b), (pts, rev));
    }
    paths
}
