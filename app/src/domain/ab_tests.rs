//! A/B tests: definitions and results as clients send them, and their analysis, from
//! per-variant sufficient statistics to comparisons and a verdict.
//!
//! Every figure is a closed form of the sufficient statistics; the formulas sit beside the code
//! that computes them. Notation, per arm: n units; for a binomial metric x conversions and
//! mean p = x/n with unit variance σ² = p(1 − p); for a continuous metric S = Σy, Q = Σy², mean
//! m = S/n and sample variance σ² = (Q − S²/n)/(n − 1). "t" is the treatment, "c" the control.
//!
//! - Binomial test: two-proportion z-test with pooled standard error,
//!   p̂ = (x_t + x_c)/(n_t + n_c), z = (p_t − p_c) / √(p̂(1 − p̂)(1/n_t + 1/n_c)), two-sided
//!   p = erfc(|z|/√2) (as `statsmodels.stats.proportion.proportions_ztest`); Wald interval
//!   (p_t − p_c) ± z_{1−α/2} √(p_t(1 − p_t)/n_t + p_c(1 − p_c)/n_c).
//! - Continuous test: Welch's t-test, se = √(σ²_t/n_t + σ²_c/n_c), t = (m_t − m_c)/se,
//!   Welch–Satterthwaite ν = se⁴ / ((σ²_t/n_t)²/(n_t − 1) + (σ²_c/n_c)²/(n_c − 1)), two-sided
//!   p from Student's t (as `scipy.stats.ttest_ind_from_stats(..., equal_var=False)`); interval
//!   (m_t − m_c) ± t_{1−α/2,ν} se.
//! - Relative lift L = m_t/m_c − 1, delta-method variance
//!   Var(L) = σ²_t/(n_t m_c²) + m_t² σ²_c/(n_c m_c⁴), interval L ± z_{1−α/2} √Var(L).
//! - Chance to win and risk, as GrowthBook's Bayesian engine with a flat prior: the lift's
//!   posterior is N(L, Var(L)); chance to win = P(lift better than 0); risk of shipping = the
//!   expected relative loss E[max(0, −lift)] = σφ(μ/σ) − μΦ(−μ/σ) (lift signed so that
//!   positive is better), and the risk of keeping the control E[max(0, lift)].
//! - CUPED: θ = Cov(y, x)/Var(x) over all arms pooled; each arm's adjusted mean is
//!   m − θ(x̄ − x̄_all) and its unit variance σ²_y − 2θ Cov_arm(y, x) + θ² σ²_x,arm; the adjusted
//!   difference is tested with Welch's statistic on those figures.
//! - Sequential testing: asymptotic confidence sequences (Waudby-Smith et al. 2023), as in
//!   GrowthBook: with N the units of both arms, s² = N·Var(estimate), tuning N* (5,000) and
//!   ρ² = (−2 ln α + ln(−2 ln α + 1))/N*, the half-width is
//!   √s² · √(2(Nρ² + 1) ln(√(Nρ² + 1)/α) / (Nρ)²). The always-valid p-value is the reciprocal
//!   of the sequence's e-value with ρ kept at the configured α (eq. 155 and 161 of the paper;
//!   gbstats `SequentialTwoSidedTTest.p_value`): with S = est² N / se²,
//!   p = min(1, √(Nρ² + 1) · exp(−ρ² S / (2(Nρ² + 1)))), for the difference and for the
//!   relative lift alike. It is below α exactly when the interval at α excludes zero.
//! - Sample-ratio mismatch: χ² goodness of fit of assigned units to the intended weights, k − 1
//!   degrees of freedom (as `scipy.stats.chisquare`); a mismatch blocks the reading at p < 0.001.
//! - Multiple comparisons across goal metrics × treatments: Holm–Bonferroni (step-down,
//!   p₍ᵢ₎·(m − i + 1), running maximum) or Benjamini–Hochberg (step-up, p₍ᵢ₎·m/i, running
//!   minimum from the largest), as `statsmodels.stats.multitest.multipletests`. Guardrails are
//!   not corrected: correcting them would make harm harder to see.
//! - Power for a relative minimum detectable effect δ: with d = δ|m_c| and se as above,
//!   power = Φ(d/se − z_{1−α/2}) + Φ(−d/se − z_{1−α/2}); units per arm for 80 % power,
//!   (z_{1−α/2} + z_{0.8})² (σ²_t + σ²_c)/d².

mod analysis;
mod analyze;
pub mod daily;
mod definition;
pub mod export;
mod form;
mod formulas;
mod request;
mod results;
pub mod stats;
#[cfg(test)]
mod tests;
mod validate;
mod verdict;

pub use analysis::*;
pub use analyze::analyze;
pub use definition::*;
pub use form::NewAbTest;
pub use formulas::{
    benjamini_hochberg, chi_square_gof, holm, power, relative_lift, sequential_halfwidth,
    sequential_p, two_proportion_z, units_for_power, welch,
};
pub use request::*;
pub use results::*;
pub use validate::check_row;
