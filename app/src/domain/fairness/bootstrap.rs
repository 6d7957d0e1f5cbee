//! The bootstrap's random source.

use super::Counts;
use rand_distr::{Binomial, Distribution};
use rand_pcg::rand_core::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::collections::BTreeMap;

/// The bootstrap's random source: PCG (64-bit state MCG, `rand_pcg`), seeded from the report's
/// seed, so a report is reproducible from its settings; binomial draws are exact (`rand_distr`'s
/// BTPE sampler).
pub(super) struct Rng(Pcg64Mcg);

impl Rng {
    pub(super) fn seeded(seed: u64) -> Self {
        Rng(Pcg64Mcg::seed_from_u64(seed))
    }

    /// Binomial(n, p), with n the rounded count (weighted tallies may carry fractions).
    pub(super) fn binomial(&mut self, n: f64, p: f64) -> f64 {
        if n < 0.5 || p.is_nan() || p <= 0.0 {
            return 0.0;
        }
        let trials = n.round() as u64;
        match Binomial::new(trials, p.min(1.0)) {
            Ok(d) => d.sample(&mut self.0) as f64,
            Err(_) => 0.0,
        }
    }

    /// Redraws confusion counts of the same total from their observed proportions.
    pub(super) fn resample(&mut self, c: &Counts) -> Counts {
        let n = c.n().round();
        let total = c.n();
        if total <= 0.0 {
            return c.clone();
        }
        let mut left = n;
        let mut mass = 1.0;
        let mut draw = |share: f64, rng: &mut Rng| {
            let p = if mass > 0.0 {
                (share / mass).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let k = rng.binomial(left, p);
            left -= k;
            mass -= share;
            k
        };
        let tp = draw(c.tp / total, self);
        let fp = draw(c.fp / total, self);
        let tn = draw(c.tn / total, self);
        Counts {
            rows: c.rows,
            tp,
            fp,
            tn,
            fn_: left,
            scores: BTreeMap::new(),
        }
    }
}

/// The `q` quantile of sorted samples, interpolated linearly between neighbours (numpy's
/// default); NaN for no samples.
pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}
