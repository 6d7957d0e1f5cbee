//! Downsampling of metric histories for charts: min–max per bucket.
//!
//! The x range is split into `buckets` equal buckets (about one per pixel column); each bucket
//! keeps its first and last point and its minimum and maximum, in x order. Spikes and dips
//! survive, unlike averaging or stride sampling (see Steinarsson 2013, "Downsampling Time
//! Series for Visual Representation", which motivates LTTB against plain min–max; min–max is
//! used here because the extremes are what a reviewer must not miss).

/// Reduces `points` (sorted by x) to at most about `4 * buckets` points, keeping every
/// bucket's first, last, minimum and maximum. Non-finite y values are dropped: they cannot be
/// drawn and are listed in the value table instead.
pub fn min_max(points: &[(f64, f64)], buckets: usize) -> Vec<(f64, f64)> {
    let finite: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if buckets == 0 || finite.len() <= 4 * buckets {
        return finite;
    }
    let (x0, x1) = (finite[0].0, finite[finite.len() - 1].0);
    let width = (x1 - x0).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(4 * buckets);
    let mut start = 0;
    while start < finite.len() {
        let b = (((finite[start].0 - x0) / width) * buckets as f64)
            .floor()
            .min(buckets as f64 - 1.0) as usize;
        let mut end = start + 1;
        while end < finite.len() {
            let be = (((finite[end].0 - x0) / width) * buckets as f64)
                .floor()
                .min(buckets as f64 - 1.0) as usize;
            if be != b {
                break;
            }
            end += 1;
        }
        let bucket = &finite[start..end];
        let mut idx = vec![0, bucket.len() - 1];
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in bucket.iter().enumerate() {
            if p.1 < bucket[lo].1 {
                lo = i;
            }
            if p.1 > bucket[hi].1 {
                hi = i;
            }
        }
        idx.push(lo);
        idx.push(hi);
        idx.sort_unstable();
        idx.dedup();
        out.extend(idx.into_iter().map(|i| bucket[i]));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_series_are_kept_whole() {
        let pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, i as f64)).collect();
        assert_eq!(min_max(&pts, 5), pts);
    }

    #[test]
    fn a_single_spike_survives() {
        let mut pts: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, 1.0)).collect();
        pts[4321].1 = 99.0;
        pts[7777].1 = -5.0;
        let out = min_max(&pts, 100);
        assert!(out.len() <= 400);
        assert!(out.contains(&(4321.0, 99.0)));
        assert!(out.contains(&(7777.0, -5.0)));
        assert_eq!(out.first(), pts.first());
        assert_eq!(out.last(), pts.last());
    }

    #[test]
    fn non_finite_values_are_dropped() {
        let pts = vec![
            (0.0, 1.0),
            (1.0, f64::NAN),
            (2.0, f64::INFINITY),
            (3.0, 2.0),
        ];
        assert_eq!(min_max(&pts, 10), vec![(0.0, 1.0), (3.0, 2.0)]);
    }

    proptest! {
        #[test]
        fn keeps_extremes_order_and_bound(ys in proptest::collection::vec(-1e6f64..1e6, 1..3000), buckets in 1usize..200) {
            let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect();
            let out = min_max(&pts, buckets);
            prop_assert!(out.len() <= (4 * buckets).max(pts.len().min(4 * buckets)));
            prop_assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
            let max = ys.iter().cloned().fold(f64::MIN, f64::max);
            let min = ys.iter().cloned().fold(f64::MAX, f64::min);
            prop_assert!(out.iter().any(|p| p.1 == max));
            prop_assert!(out.iter().any(|p| p.1 == min));
        }
    }
}
