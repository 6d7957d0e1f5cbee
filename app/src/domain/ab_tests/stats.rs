//! Distribution functions for the A/B analysis, on `statrs`' special functions.
//!
//! Tails are computed directly, never as `1 − cdf`, so p-values of 1e-300 keep their digits:
//!
//! - normal: two-sided p = erfc(|z| / √2);
//! - Student's t with ν degrees of freedom: two-sided p = I_{ν/(ν+t²)}(ν/2, 1/2), the
//!   regularised incomplete beta function;
//! - χ² with k degrees of freedom: upper tail = Q(k/2, x/2), the regularised upper incomplete
//!   gamma function.

use statrs::distribution::{Continuous, ContinuousCDF, Normal, StudentsT};
use statrs::function::{beta::beta_reg, erf::erfc, gamma::gamma_ur};

/// Standard normal cumulative distribution Φ(x), accurate in both tails.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal density φ(x).
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal quantile Φ⁻¹(p), for p in (0, 1).
pub fn norm_ppf(p: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// Two-sided p-value of a z statistic.
pub fn norm_two_sided(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn t_two_sided(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t == 0.0 {
        return 1.0;
    }
    if t.is_infinite() {
        return 0.0;
    }
    let x = df / (df + t * t);
    beta_reg(df / 2.0, 0.5, x).clamp(0.0, 1.0)
}

/// Quantile of Student's t with `df` degrees of freedom.
pub fn t_ppf(p: f64, df: f64) -> f64 {
    if df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df.is_infinite() || df > 1e12 {
        return norm_ppf(p);
    }
    let Ok(dist) = StudentsT::new(0.0, 1.0, df) else {
        return f64::NAN;
    };
    // Polish the library's answer with Newton steps on the incomplete-beta CDF.
    let mut t = dist.inverse_cdf(p);
    for _ in 0..3 {
        let tail = 0.5 * beta_reg(df / 2.0, 0.5, df / (df + t * t));
        let cdf = if t < 0.0 { tail } else { 1.0 - tail };
        let pdf = dist.pdf(t);
        if pdf.is_nan() || pdf <= 0.0 {
            break;
        }
        let step = (cdf - p) / pdf;
        t -= step;
        if step.abs() <= 1e-15 * t.abs().max(1.0) {
            break;
        }
    }
    t
}

/// Upper tail of χ² with `k` degrees of freedom at `x`.
pub fn chi2_sf(x: f64, k: f64) -> f64 {
    if x.is_nan() || k.is_nan() || k <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    gamma_ur(k / 2.0, x / 2.0).clamp(0.0, 1.0)
}
