//! The closed forms the analysis is built from (see the module notes of `ab_tests` for the
//! formulas): tests, intervals, lift, sample ratio, sequential bounds, corrections and power.

use super::stats::{chi2_sf, norm_cdf, norm_pdf, norm_ppf, norm_two_sided, t_ppf, t_two_sided};
use super::validate::{Arm, Cov};
use super::CupedFigures;

/// Two-proportion z-test with pooled standard error: (z, two-sided p).
pub fn two_proportion_z(x_t: f64, n_t: f64, x_c: f64, n_c: f64) -> (f64, f64) {
    let pooled = (x_t + x_c) / (n_t + n_c);
    let se = (pooled * (1.0 - pooled) * (1.0 / n_t + 1.0 / n_c)).sqrt();
    let d = x_t / n_t - x_c / n_c;
    if se == 0.0 {
        // Both arms all-or-nothing alike: no evidence of a difference.
        return if d == 0.0 {
            (0.0, 1.0)
        } else {
            (f64::INFINITY.copysign(d), 0.0)
        };
    }
    let z = d / se;
    (z, norm_two_sided(z))
}

/// Welch's test from moments: (t, ν, two-sided p, se).
pub fn welch(m_t: f64, v_t: f64, n_t: f64, m_c: f64, v_c: f64, n_c: f64) -> (f64, f64, f64, f64) {
    let (a, b) = (v_t / n_t, v_c / n_c);
    let se = (a + b).sqrt();
    let d = m_t - m_c;
    if se == 0.0 {
        let t = if d == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(d)
        };
        return (t, f64::INFINITY, if d == 0.0 { 1.0 } else { 0.0 }, 0.0);
    }
    let df = (a + b).powi(2) / (a * a / (n_t - 1.0) + b * b / (n_c - 1.0));
    let t = d / se;
    (t, df, t_two_sided(t, df), se)
}

/// Relative lift and its delta-method standard error.
pub fn relative_lift(m_t: f64, v_t: f64, n_t: f64, m_c: f64, v_c: f64, n_c: f64) -> (f64, f64) {
    let lift = m_t / m_c - 1.0;
    let var = v_t / (n_t * m_c * m_c) + m_t * m_t * v_c / (n_c * m_c.powi(4));
    (lift, var.sqrt())
}

/// Chi-square goodness of fit of observed counts against weights: (χ², df, p).
pub fn chi_square_gof(observed: &[f64], weights: &[f64]) -> (f64, f64, f64) {
    let total: f64 = observed.iter().sum();
    let wsum: f64 = weights.iter().sum();
    let chi2: f64 = observed
        .iter()
        .zip(weights)
        .map(|(o, w)| {
            let e = total * w / wsum;
            if e > 0.0 {
                (o - e).powi(2) / e
            } else {
                0.0
            }
        })
        .sum();
    let df = (observed.len() as f64 - 1.0).max(1.0);
    (chi2, df, if total > 0.0 { chi2_sf(chi2, df) } else { 1.0 })
}

/// Expected loss E[max(0, −X)] for X ~ N(μ, σ²).
pub(super) fn expected_loss(mu: f64, sigma: f64) -> f64 {
    if sigma <= 0.0 {
        return (-mu).max(0.0);
    }
    // Far in the tail the two terms nearly cancel; the loss is never negative.
    (sigma * norm_pdf(mu / sigma) - mu * norm_cdf(-mu / sigma)).max(0.0)
}

/// ρ of the asymptotic confidence sequence.
fn sequential_rho(alpha: f64, tuning: f64) -> f64 {
    let l = -2.0 * alpha.ln();
    ((l + (l + 1.0).ln()) / tuning).sqrt()
}

/// Half-width of the asymptotic confidence sequence for an estimate with standard error `se`
/// after `n` units in all.
pub fn sequential_halfwidth(se: f64, n: f64, alpha: f64, tuning: f64) -> f64 {
    let rho = sequential_rho(alpha, tuning);
    let s2 = se * se * n;
    let nr2 = n * rho * rho;
    s2.sqrt() * ((2.0 * (nr2 + 1.0)) * ((nr2 + 1.0).sqrt() / alpha).ln() / (n * rho).powi(2)).sqrt()
}

/// Always-valid p-value of an estimate with standard error `se` after `n` units in all: the
/// reciprocal of the confidence sequence's e-value (Waudby-Smith et al. 2023, eq. 155; gbstats
/// `SequentialTwoSidedTTest.p_value`). ρ stays the one tuned for the configured `alpha`
/// (eq. 161), so the sequence is the same one the intervals use:
/// p = min(1, √(Nρ² + 1) · exp(−ρ² S / (2(Nρ² + 1)))), S = est² N / se².
/// With that ρ, p < α exactly when the interval at α excludes zero.
pub fn sequential_p(est: f64, se: f64, n: f64, alpha: f64, tuning: f64) -> f64 {
    if se.is_nan() || se <= 0.0 {
        return if est == 0.0 { 1.0 } else { 0.0 };
    }
    let rho2 = sequential_rho(alpha, tuning).powi(2);
    let nr2p1 = n * rho2 + 1.0;
    let s = est * est * n / (se * se);
    // In logs: exp(ρ²S/(2(Nρ²+1))) overflows for large S long before p reaches zero.
    let ln_p = 0.5 * nr2p1.ln() - rho2 * s / (2.0 * nr2p1);
    ln_p.exp().min(1.0)
}

/// Holm–Bonferroni adjusted p-values, in input order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut idx: Vec<usize> = (0..m).collect();
    idx.sort_by(|a, b| p[*a].total_cmp(&p[*b]).then(a.cmp(b)));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in idx.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Benjamini–Hochberg adjusted p-values, in input order.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut idx: Vec<usize> = (0..m).collect();
    idx.sort_by(|a, b| p[*a].total_cmp(&p[*b]).then(a.cmp(b)));
    let mut out = vec![0.0; m];
    let mut running: f64 = 1.0;
    for (rank, &i) in idx.iter().enumerate().rev() {
        running = running.min((m as f64 * p[i] / (rank + 1) as f64).min(1.0));
        out[i] = running;
    }
    out
}

/// Power of a two-sided z-test to find a difference `d` with standard error `se`.
pub fn power(d: f64, se: f64, alpha: f64) -> f64 {
    if se <= 0.0 {
        return 1.0;
    }
    let z = norm_ppf(1.0 - alpha / 2.0);
    norm_cdf(d.abs() / se - z) + norm_cdf(-d.abs() / se - z)
}

/// Units per arm to find a difference `d` at 80 % power with unit variances `v_t`, `v_c`.
pub fn units_for_power(d: f64, v_t: f64, v_c: f64, alpha: f64) -> f64 {
    let z = norm_ppf(1.0 - alpha / 2.0) + norm_ppf(0.8);
    z * z * (v_t + v_c) / (d * d)
}

/// CUPED figures for treatment `t` against control `c`, given all arms (for pooled θ).
/// Also returns the standard errors of the adjusted lift and difference.
pub(super) fn cuped(arms: &[Arm], t: usize, alpha: f64) -> Option<(CupedFigures, f64, f64)> {
    let covs: Vec<Cov> = arms.iter().map(|a| a.cov).collect::<Option<Vec<_>>>()?;
    let n: f64 = arms.iter().map(|a| a.n).sum();
    let (sx, sx2, sxy, sy): (f64, f64, f64, f64) =
        covs.iter().fold((0.0, 0.0, 0.0, 0.0), |acc, c| {
            (
                acc.0 + c.sum_x,
                acc.1 + c.sum_x2,
                acc.2 + c.sum_xy,
                acc.3 + c.sum_y,
            )
        });
    let var_x = (sx2 - sx * sx / n) / (n - 1.0);
    let cov_xy = (sxy - sx * sy / n) / (n - 1.0);
    if var_x.is_nan() || var_x <= 0.0 {
        return None;
    }
    let theta = cov_xy / var_x;
    let mean_x = sx / n;
    let adjusted = |i: usize| -> (f64, f64) {
        let (a, c) = (arms[i], covs[i]);
        let xbar = c.sum_x / a.n;
        let vx = (c.sum_x2 - c.sum_x * c.sum_x / a.n) / (a.n - 1.0);
        let cxy = (c.sum_xy - c.sum_x * c.sum_y / a.n) / (a.n - 1.0);
        let vy = (c.sum_y2 - c.sum_y * c.sum_y / a.n) / (a.n - 1.0);
        let mean = a.mean - theta * (xbar - mean_x);
        let var = (vy - 2.0 * theta * cxy + theta * theta * vx).max(0.0);
        (mean, var)
    };
    let ((m_c, v_c), (m_t, v_t)) = (adjusted(0), adjusted(t));
    let (n_c, n_t) = (arms[0].n, arms[t].n);
    let (_, df, p, se) = welch(m_t, v_t, n_t, m_c, v_c, n_c);
    let q = if df.is_finite() {
        t_ppf(1.0 - alpha / 2.0, df)
    } else {
        norm_ppf(1.0 - alpha / 2.0)
    };
    let d = m_t - m_c;
    let (lift, lift_se) = relative_lift(m_t, v_t, n_t, m_c, v_c, n_c);
    let z = norm_ppf(1.0 - alpha / 2.0);
    let raw_var = arms[t].var / n_t + arms[0].var / n_c;
    Some((
        CupedFigures {
            theta,
            control_mean: m_c,
            treatment_mean: m_t,
            abs_diff: d,
            abs_diff_ci: [d - q * se, d + q * se],
            rel_lift: lift,
            rel_lift_ci: [lift - z * lift_se, lift + z * lift_se],
            p_value: p,
            variance_reduction: if raw_var > 0.0 {
                1.0 - se * se / raw_var
            } else {
                0.0
            },
        },
        lift_se,
        se,
    ))
}
