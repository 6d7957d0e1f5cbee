//! A/B test analysis: from per-variant sufficient statistics to comparisons and a verdict.
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

pub mod stats;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use stats::{chi2_sf, norm_cdf, norm_pdf, norm_ppf, norm_two_sided, t_ppf, t_two_sided};

/// Binomial (conversion) or continuous (revenue, latency, …) metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Units that converted, out of units.
    Binomial,
    /// A value per unit, summarised as n, Σy, Σy².
    Continuous,
}

/// Which way is good.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is better (conversion, revenue).
    #[default]
    #[serde(alias = "higher_is_better", alias = "higher")]
    Increase,
    /// Lower is better (latency, churn).
    #[serde(alias = "lower_is_better", alias = "lower")]
    Decrease,
}

impl Direction {
    fn sign(self) -> f64 {
        match self {
            Direction::Increase => 1.0,
            Direction::Decrease => -1.0,
        }
    }
}

/// What a metric is for in the decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MetricRole {
    /// Must improve to ship.
    #[default]
    Goal,
    /// Must not get worse beyond its tolerance.
    Guardrail,
}

/// Correction for testing several goal metrics and treatments at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// No correction.
    None,
    /// Holm–Bonferroni: controls the family-wise error rate.
    #[default]
    Holm,
    /// Benjamini–Hochberg: controls the false discovery rate.
    #[serde(alias = "bh", alias = "fdr_bh")]
    BenjaminiHochberg,
}

impl Correction {
    /// Name shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Correction::None => "none",
            Correction::Holm => "Holm–Bonferroni",
            Correction::BenjaminiHochberg => "Benjamini–Hochberg",
        }
    }
}

/// An arm of the experiment as the request declares it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct VariantSpec {
    /// Variant name; the control's is the request's `control`.
    pub name: String,
    /// Intended share of traffic (any positive scale).
    pub weight: f64,
    /// Units assigned, for the sample-ratio check.
    #[serde(default)]
    pub units: Option<f64>,
}

/// One variant's sufficient statistics for one metric. Binomial rows carry `units` and
/// `conversions`; continuous rows `n`, `sum` and `sum_squares`; either may carry the CUPED
/// pre-period covariate sums.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DataRow {
    /// Variant name.
    pub variant: String,
    /// Binomial: units exposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<f64>,
    /// Binomial: units that converted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversions: Option<f64>,
    /// Continuous: units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<f64>,
    /// Continuous: Σy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    /// Continuous: Σy².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_squares: Option<f64>,
    /// CUPED: Σx of the pre-period covariate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_x: Option<f64>,
    /// CUPED: Σx².
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_x2: Option<f64>,
    /// CUPED: Σxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_xy: Option<f64>,
}

/// A metric with its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MetricSpec {
    /// Metric name.
    pub name: String,
    /// Binomial or continuous.
    #[serde(rename = "type")]
    pub kind: MetricKind,
    /// Which way is good (higher by default).
    #[serde(default)]
    pub direction: Direction,
    /// Goal (default) or guardrail.
    #[serde(default)]
    pub role: MetricRole,
    /// Guardrail only: the relative worsening tolerated (0.01 = 1 %).
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// One row per variant.
    pub data: Vec<DataRow>,
}

/// A whole analysis request: the definition and its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AnalysisRequest {
    /// Significance level (two-sided).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Name of the control variant.
    pub control: String,
    /// Variants with intended weights (and assigned units).
    pub variants: Vec<VariantSpec>,
    /// Metrics with their data.
    pub metrics: Vec<MetricSpec>,
    /// Multiple-comparison correction over goal metrics × treatments.
    #[serde(default)]
    pub correction: Correction,
    /// Sequential testing (always-valid intervals and p-values).
    #[serde(default)]
    pub sequential: bool,
    /// Tuning N* of the confidence sequences: the total sample where they are tightest.
    #[serde(default = "default_tuning")]
    pub sequential_tuning: f64,
    /// Minimum detectable effect, relative (0.05 = 5 %), for power.
    #[serde(default = "default_mde")]
    pub mde: f64,
    /// Units every variant needs before any verdict.
    #[serde(default = "default_min_units")]
    pub min_units: f64,
    /// A relative lift above this is flagged as implausible.
    #[serde(default = "default_max_lift")]
    pub max_plausible_lift: f64,
}

/// The significance level when a request names none.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// The relative minimum detectable effect used for power when a request names none.
pub const DEFAULT_MDE: f64 = 0.05;
/// The units every variant needs before any verdict when a request names no minimum.
pub const DEFAULT_MIN_UNITS: f64 = 100.0;

// serde's `default = "…"` takes a function path; these are shared with `experiment`, whose
// stored definitions default the same three settings.
pub(crate) fn default_alpha() -> f64 {
    DEFAULT_ALPHA
}
fn default_tuning() -> f64 {
    5000.0
}
pub(crate) fn default_mde() -> f64 {
    DEFAULT_MDE
}
pub(crate) fn default_min_units() -> f64 {
    DEFAULT_MIN_UNITS
}
fn default_max_lift() -> f64 {
    0.5
}

/// A rejected request: the field (as a path such as `metrics[1].data[0].conversions`) and why,
/// naming the metric and variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InputError {
    /// Path of the offending field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> InputError {
    InputError {
        field: field.into(),
        message: message.into(),
    }
}

/// Sample-ratio check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Srm {
    /// χ² statistic.
    pub chi2: f64,
    /// Degrees of freedom (variants − 1).
    pub df: f64,
    /// Upper-tail p-value.
    pub p_value: f64,
    /// p < 0.001: the split is broken and the results are not to be read.
    pub detected: bool,
    /// Per variant: units observed and expected from the weights.
    pub variants: Vec<SrmArm>,
}

/// One variant in the sample-ratio check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SrmArm {
    /// Variant.
    pub variant: String,
    /// Units assigned.
    pub observed: f64,
    /// Units the weights call for.
    pub expected: f64,
    /// Intended share.
    pub weight_share: f64,
}

/// SRM threshold.
pub const SRM_P: f64 = 0.001;

/// One arm's summary for a metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ArmSummary {
    /// Variant.
    pub variant: String,
    /// Units.
    pub units: f64,
    /// Mean (conversion rate for binomial metrics).
    pub mean: f64,
    /// Unit-level variance used.
    pub variance: f64,
}

/// Figures of an estimate adjusted for the pre-period covariate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CupedFigures {
    /// θ, pooled over arms.
    pub theta: f64,
    /// Adjusted control mean.
    pub control_mean: f64,
    /// Adjusted treatment mean.
    pub treatment_mean: f64,
    /// Adjusted difference.
    pub abs_diff: f64,
    /// Its interval.
    pub abs_diff_ci: [f64; 2],
    /// Adjusted relative lift.
    pub rel_lift: f64,
    /// Its interval.
    pub rel_lift_ci: [f64; 2],
    /// Welch p-value of the adjusted difference.
    pub p_value: f64,
    /// 1 − Var(adjusted difference)/Var(unadjusted difference).
    pub variance_reduction: f64,
}

/// Always-valid figures under sequential testing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SequentialFigures {
    /// Confidence-sequence interval of the difference.
    pub abs_diff_ci: [f64; 2],
    /// Of the relative lift.
    pub rel_lift_ci: [f64; 2],
    /// Always-valid p-value of the difference (reciprocal of the sequence's e-value).
    pub p_value: f64,
    /// Always-valid p-value of the relative lift.
    pub rel_lift_p_value: f64,
}

/// A treatment against the control on one metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Comparison {
    /// Treatment variant.
    pub variant: String,
    /// Control units.
    pub control_units: f64,
    /// Treatment units.
    pub treatment_units: f64,
    /// Control mean.
    pub control_mean: f64,
    /// Treatment mean.
    pub treatment_mean: f64,
    /// m_t − m_c.
    pub abs_diff: f64,
    /// Interval of the difference (Wald for binomial, Welch t for continuous).
    pub abs_diff_ci: [f64; 2],
    /// m_t/m_c − 1.
    pub rel_lift: f64,
    /// Delta-method interval of the lift.
    pub rel_lift_ci: [f64; 2],
    /// Fixed-horizon two-sided p-value (z-test or Welch).
    pub p_value: f64,
    /// "z" (pooled two-proportion) or "welch".
    pub test: String,
    /// z or t statistic.
    pub statistic: f64,
    /// Welch–Satterthwaite degrees of freedom (continuous only).
    pub df: Option<f64>,
    /// Standard error of the difference behind the interval.
    pub se: f64,
    /// P(treatment better), flat prior.
    pub chance_to_win: f64,
    /// Expected relative loss of shipping the treatment.
    pub risk: f64,
    /// Expected relative loss of keeping the control.
    pub risk_control: f64,
    /// CUPED-adjusted figures, when every arm has the covariate.
    pub cuped: Option<CupedFigures>,
    /// Always-valid figures, when sequential testing is on.
    pub sequential: Option<SequentialFigures>,
    /// Which figures decide: "fixed", "cuped", "sequential" or "cuped+sequential".
    pub basis: String,
    /// The deciding p-value (of the basis).
    pub decision_p_value: f64,
    /// It after the multiple-comparison correction (goals only; guardrails uncorrected).
    pub p_value_adjusted: f64,
    /// The deciding interval of the relative lift.
    pub decision_rel_lift_ci: [f64; 2],
    /// Significant at α after correction.
    pub significant: bool,
    /// +1 better, −1 worse, 0 not significant.
    pub outcome: i8,
    /// Guardrails: worse beyond the tolerance with confidence.
    pub beyond_tolerance: bool,
    /// Power to detect the minimum detectable effect at the current sample.
    pub power: f64,
    /// Units per arm the minimum detectable effect needs at 80 % power.
    pub units_needed: f64,
    /// The lift is larger than plausible: check the data before believing it.
    pub implausible: bool,
}

/// A metric's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MetricResult {
    /// Metric.
    pub name: String,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: MetricKind,
    /// Direction.
    pub direction: Direction,
    /// Role.
    pub role: MetricRole,
    /// Guardrail tolerance.
    pub tolerance: f64,
    /// Per arm, control first.
    pub arms: Vec<ArmSummary>,
    /// Per treatment.
    pub comparisons: Vec<Comparison>,
}

impl MetricResult {
    /// +1 when higher is better, −1 when lower is.
    pub fn direction_sign(&self) -> f64 {
        self.direction.sign()
    }
}

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Every goal better, no guardrail worse.
    Ship,
    /// A goal or guardrail worse.
    RollBack,
    /// Not enough evidence yet.
    KeepRunning,
    /// The data cannot be read (sample-ratio mismatch, too small a sample).
    Invalid,
}

impl Decision {
    /// Label.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Ship => "Ship",
            Decision::RollBack => "Roll back",
            Decision::KeepRunning => "Keep running",
            Decision::Invalid => "Invalid",
        }
    }
}

/// The verdict with its reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Verdict {
    /// Decision.
    pub decision: Decision,
    /// The treatment it concerns (ship: the one to ship).
    pub variant: Option<String>,
    /// One plain sentence.
    pub sentence: String,
    /// The reasons, one per line.
    pub reasons: Vec<String>,
    /// Keep running: units per arm still needed for the minimum detectable effect.
    pub units_still_needed: Option<f64>,
    /// Warnings that do not change the decision (implausible lifts).
    pub warnings: Vec<String>,
}

/// The full analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Analysis {
    /// α.
    pub alpha: f64,
    /// Correction used.
    pub correction: Correction,
    /// Sequential testing on.
    pub sequential: bool,
    /// Minimum detectable effect.
    pub mde: f64,
    /// Control variant.
    pub control: String,
    /// Units assigned over all variants.
    pub total_units: f64,
    /// Sample-ratio check.
    pub srm: Srm,
    /// Per metric.
    pub metrics: Vec<MetricResult>,
    /// Verdict.
    pub verdict: Verdict,
}

/// Context for the verdict's sentence.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    /// Days the experiment has run.
    pub days: Option<u32>,
}

/// Per-arm moments of one metric after validation.
#[derive(Clone, Copy, Debug)]
struct Arm {
    n: f64,
    mean: f64,
    var: f64,
    cov: Option<Cov>,
}

/// Covariate moments of an arm.
#[derive(Clone, Copy, Debug)]
struct Cov {
    sum_x: f64,
    sum_x2: f64,
    sum_xy: f64,
    sum_y: f64,
    sum_y2: f64,
}

fn finite(field: &str, what: &str, v: Option<f64>) -> Result<f64, InputError> {
    let v = v.ok_or_else(|| bad(field, format!("{what} is missing")))?;
    if !v.is_finite() {
        return Err(bad(field, format!("{what} must be a finite number")));
    }
    Ok(v)
}

/// Checks one row of sufficient statistics for a metric, as a daily or total row: fields
/// present for the metric's kind, finite, counts not negative, conversions within units and
/// Σy² at least (Σy)²/n. `at` prefixes the field path; errors name the metric and variant.
pub fn check_row(
    metric: &str,
    kind: MetricKind,
    at: &str,
    row: &DataRow,
) -> Result<(), InputError> {
    let field = |f: &str| format!("{at}.{f}");
    let who = format!("metric '{metric}', variant '{}'", row.variant);
    match kind {
        MetricKind::Binomial => {
            let n = finite(&field("units"), &format!("{who}: units"), row.units)?;
            let x = finite(
                &field("conversions"),
                &format!("{who}: conversions"),
                row.conversions,
            )?;
            if n < 0.0 {
                return Err(bad(
                    field("units"),
                    format!("{who}: units must not be negative"),
                ));
            }
            if x < 0.0 {
                return Err(bad(
                    field("conversions"),
                    format!("{who}: conversions must not be negative"),
                ));
            }
            if x > n {
                return Err(bad(
                    field("conversions"),
                    format!("{who}: conversions ({x}) exceed units ({n})"),
                ));
            }
        }
        MetricKind::Continuous => {
            let n = finite(&field("n"), &format!("{who}: n"), row.n)?;
            let s = finite(&field("sum"), &format!("{who}: sum"), row.sum)?;
            let q = finite(
                &field("sum_squares"),
                &format!("{who}: sum_squares"),
                row.sum_squares,
            )?;
            if n < 0.0 {
                return Err(bad(field("n"), format!("{who}: n must not be negative")));
            }
            if q < 0.0 {
                return Err(bad(
                    field("sum_squares"),
                    format!("{who}: sum_squares must not be negative"),
                ));
            }
            // Rounding in Σy² may leave a tiny shortfall; a real one is an error.
            if n > 0.0 && q - s * s / n < -1e-9 * q.max(1.0) {
                return Err(bad(
                    field("sum_squares"),
                    format!("{who}: sum_squares is smaller than sum²/n, so the variance would be negative"),
                ));
            }
        }
    }
    match (row.sum_x, row.sum_x2, row.sum_xy) {
        (None, None, None) => {}
        (sx, sx2, sxy) => {
            finite(&field("sum_x"), &format!("{who}: sum_x"), sx)?;
            let sum_x2 = finite(&field("sum_x2"), &format!("{who}: sum_x2"), sx2)?;
            finite(&field("sum_xy"), &format!("{who}: sum_xy"), sxy)?;
            if sum_x2 < 0.0 {
                return Err(bad(
                    field("sum_x2"),
                    format!("{who}: sum_x2 must not be negative"),
                ));
            }
        }
    }
    Ok(())
}

fn arm_of(m: &MetricSpec, mi: usize, ri: usize, row: &DataRow) -> Result<Arm, InputError> {
    let at = format!("metrics[{mi}].data[{ri}]");
    check_row(&m.name, m.kind, &at, row)?;
    let who = format!("metric '{}', variant '{}'", m.name, row.variant);
    let v = |x: Option<f64>| x.unwrap_or(0.0);
    let (n, sum, sum_sq, mean, var) = match m.kind {
        MetricKind::Binomial => {
            let (n, x) = (v(row.units), v(row.conversions));
            if n < 1.0 {
                return Err(bad(
                    format!("{at}.units"),
                    format!("{who}: units must be at least 1"),
                ));
            }
            let p = x / n;
            (n, x, x, p, p * (1.0 - p))
        }
        MetricKind::Continuous => {
            let (n, s, q) = (v(row.n), v(row.sum), v(row.sum_squares));
            if n < 2.0 {
                return Err(bad(
                    format!("{at}.n"),
                    format!("{who}: n must be at least 2 for a continuous metric"),
                ));
            }
            (n, s, q, s / n, (q - s * s / n).max(0.0) / (n - 1.0))
        }
    };
    let cov = match (row.sum_x, row.sum_x2, row.sum_xy) {
        (Some(sum_x), Some(sum_x2), Some(sum_xy)) => Some(Cov {
            sum_x,
            sum_x2,
            sum_xy,
            sum_y: sum,
            sum_y2: sum_sq,
        }),
        _ => None,
    };
    Ok(Arm { n, mean, var, cov })
}

/// Validates the request: variants match the definition, counts are sane, sums finite.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
fn validate(req: &AnalysisRequest) -> Result<Vec<Vec<Arm>>, InputError> {
    if !(req.alpha > 0.0 && req.alpha < 0.5) {
        return Err(bad("alpha", "alpha must be between 0 and 0.5"));
    }
    if !(req.mde > 0.0 && req.mde.is_finite()) {
        return Err(bad(
            "mde",
            "mde must be a positive relative effect, e.g. 0.05",
        ));
    }
    if !(req.sequential_tuning >= 1.0 && req.sequential_tuning.is_finite()) {
        return Err(bad(
            "sequential_tuning",
            "sequential_tuning must be at least 1",
        ));
    }
    if !(req.min_units >= 0.0 && req.min_units.is_finite()) {
        return Err(bad("min_units", "min_units must not be negative"));
    }
    if req.variants.len() < 2 {
        return Err(bad(
            "variants",
            "an experiment needs a control and at least one treatment",
        ));
    }
    for (i, v) in req.variants.iter().enumerate() {
        if v.name.trim().is_empty() {
            return Err(bad(
                format!("variants[{i}].name"),
                "variant names must not be empty",
            ));
        }
        if req.variants[..i].iter().any(|o| o.name == v.name) {
            return Err(bad(
                format!("variants[{i}].name"),
                format!("variant '{}' is listed twice", v.name),
            ));
        }
        if !(v.weight > 0.0 && v.weight.is_finite()) {
            return Err(bad(
                format!("variants[{i}].weight"),
                format!("variant '{}': weight must be positive", v.name),
            ));
        }
        if let Some(u) = v.units {
            if !(u >= 0.0 && u.is_finite()) {
                return Err(bad(
                    format!("variants[{i}].units"),
                    format!("variant '{}': units must not be negative", v.name),
                ));
            }
        }
    }
    if !req.variants.iter().any(|v| v.name == req.control) {
        return Err(bad(
            "control",
            format!("control '{}' is not one of the variants", req.control),
        ));
    }
    if req.metrics.is_empty() {
        return Err(bad("metrics", "at least one metric is needed"));
    }
    let order: Vec<&str> = std::iter::once(req.control.as_str())
        .chain(
            req.variants
                .iter()
                .map(|v| v.name.as_str())
                .filter(|n| *n != req.control),
        )
        .collect();
    let mut all = Vec::with_capacity(req.metrics.len());
    for (mi, m) in req.metrics.iter().enumerate() {
        if m.name.trim().is_empty() {
            return Err(bad(
                format!("metrics[{mi}].name"),
                "metric names must not be empty",
            ));
        }
        if req.metrics[..mi].iter().any(|o| o.name == m.name) {
            return Err(bad(
                format!("metrics[{mi}].name"),
                format!("metric '{}' is listed twice", m.name),
            ));
        }
        if let Some(t) = m.tolerance {
            if !(t >= 0.0 && t.is_finite()) {
                return Err(bad(
                    format!("metrics[{mi}].tolerance"),
                    format!("metric '{}': tolerance must not be negative", m.name),
                ));
            }
        }
        let mut arms: Vec<Option<Arm>> = vec![None; order.len()];
        for (ri, row) in m.data.iter().enumerate() {
            let Some(slot) = order.iter().position(|v| *v == row.variant) else {
                return Err(bad(
                    format!("metrics[{mi}].data[{ri}].variant"),
                    format!(
                        "metric '{}': variant '{}' is not in the experiment",
                        m.name, row.variant
                    ),
                ));
            };
            if arms[slot].is_some() {
                return Err(bad(
                    format!("metrics[{mi}].data[{ri}].variant"),
                    format!(
                        "metric '{}': variant '{}' has two rows",
                        m.name, row.variant
                    ),
                ));
            }
            arms[slot] = Some(arm_of(m, mi, ri, row)?);
        }
        let mut out = Vec::with_capacity(order.len());
        for (slot, a) in arms.into_iter().enumerate() {
            let a = a.ok_or_else(|| {
                bad(
                    format!("metrics[{mi}].data"),
                    format!("metric '{}': no data for variant '{}'", m.name, order[slot]),
                )
            })?;
            out.push(a);
        }
        if out[0].mean == 0.0 {
            return Err(bad(
                format!("metrics[{mi}].data"),
                format!(
                    "metric '{}': the control '{}' has a mean of zero, so a relative lift is undefined",
                    m.name, order[0]
                ),
            ));
        }
        all.push(out);
    }
    Ok(all)
}

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
fn expected_loss(mu: f64, sigma: f64) -> f64 {
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
fn cuped(arms: &[Arm], t: usize, alpha: f64) -> Option<(CupedFigures, f64, f64)> {
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

/// Analyses a request. Fails on the first invalid field, naming metric, variant and field.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub fn analyze(req: &AnalysisRequest, ctx: Context) -> Result<Analysis, InputError> {
    let arms_by_metric = validate(req)?;
    let alpha = req.alpha;
    let z = norm_ppf(1.0 - alpha / 2.0);
    let order: Vec<&VariantSpec> = std::iter::once(
        req.variants
            .iter()
            .find(|v| v.name == req.control)
            .ok_or_else(|| bad("control", "no control"))?,
    )
    .chain(req.variants.iter().filter(|v| v.name != req.control))
    .collect();

    // Sample-ratio check: assigned units, or the first metric's units where none are given.
    let observed: Vec<f64> = order
        .iter()
        .enumerate()
        .map(|(i, v)| v.units.unwrap_or(arms_by_metric[0][i].n))
        .collect();
    let weights: Vec<f64> = order.iter().map(|v| v.weight).collect();
    let (chi2, df, p) = chi_square_gof(&observed, &weights);
    let total_units: f64 = observed.iter().sum();
    let wsum: f64 = weights.iter().sum();
    let srm = Srm {
        chi2,
        df,
        p_value: p,
        detected: p < SRM_P,
        variants: order
            .iter()
            .zip(&observed)
            .map(|(v, o)| SrmArm {
                variant: v.name.clone(),
                observed: *o,
                expected: total_units * v.weight / wsum,
                weight_share: v.weight / wsum,
            })
            .collect(),
    };

    let mut metrics = Vec::with_capacity(req.metrics.len());
    for (m, arms) in req.metrics.iter().zip(&arms_by_metric) {
        let c = arms[0];
        let mut comparisons = Vec::with_capacity(arms.len() - 1);
        for (ti, t) in arms.iter().enumerate().skip(1) {
            let d = t.mean - c.mean;
            let (statistic, p_value, df, se_ci, test) = match m.kind {
                MetricKind::Binomial => {
                    let (zs, p) = two_proportion_z(t.mean * t.n, t.n, c.mean * c.n, c.n);
                    (zs, p, None, (t.var / t.n + c.var / c.n).sqrt(), "z")
                }
                MetricKind::Continuous => {
                    let (ts, df, p, se) = welch(t.mean, t.var, t.n, c.mean, c.var, c.n);
                    (ts, p, Some(df), se, "welch")
                }
            };
            let q = match df {
                Some(df) if df.is_finite() => t_ppf(1.0 - alpha / 2.0, df),
                _ => z,
            };
            let (lift, lift_se) = relative_lift(t.mean, t.var, t.n, c.mean, c.var, c.n);
            let sign = m.direction.sign();
            let (mu, sd) = (sign * lift, lift_se);
            let chance = if sd > 0.0 {
                norm_cdf(mu / sd)
            } else if mu > 0.0 {
                1.0
            } else if mu < 0.0 {
                0.0
            } else {
                0.5
            };
            let cup = cuped(arms, ti, alpha);
            let n_all = t.n + c.n;
            let (basis_est, basis_se, basis_lift, basis_lift_se) = match &cup {
                Some((f, lse, dse)) => (f.abs_diff, *dse, f.rel_lift, *lse),
                None => (d, se_ci, lift, lift_se),
            };
            let sequential = req.sequential.then(|| {
                let hw = sequential_halfwidth(basis_se, n_all, alpha, req.sequential_tuning);
                let hl = sequential_halfwidth(basis_lift_se, n_all, alpha, req.sequential_tuning);
                SequentialFigures {
                    abs_diff_ci: [basis_est - hw, basis_est + hw],
                    rel_lift_ci: [basis_lift - hl, basis_lift + hl],
                    p_value: sequential_p(basis_est, basis_se, n_all, alpha, req.sequential_tuning),
                    rel_lift_p_value: sequential_p(
                        basis_lift,
                        basis_lift_se,
                        n_all,
                        alpha,
                        req.sequential_tuning,
                    ),
                }
            });
            let basis = match (cup.is_some(), req.sequential) {
                (false, false) => "fixed",
                (true, false) => "cuped",
                (false, true) => "sequential",
                (true, true) => "cuped+sequential",
            };
            let (decision_p, decision_ci) = match (&sequential, &cup) {
                (Some(s), _) => (s.p_value, s.rel_lift_ci),
                (None, Some((f, _, _))) => (f.p_value, f.rel_lift_ci),
                (None, None) => (p_value, [lift - z * lift_se, lift + z * lift_se]),
            };
            let delta = req.mde * c.mean.abs();
            comparisons.push(Comparison {
                variant: order[ti].name.clone(),
                control_units: c.n,
                treatment_units: t.n,
                control_mean: c.mean,
                treatment_mean: t.mean,
                abs_diff: d,
                abs_diff_ci: [d - q * se_ci, d + q * se_ci],
                rel_lift: lift,
                rel_lift_ci: [lift - z * lift_se, lift + z * lift_se],
                p_value,
                test: test.into(),
                statistic,
                df,
                se: se_ci,
                chance_to_win: chance,
                risk: expected_loss(mu, sd),
                risk_control: expected_loss(-mu, sd),
                cuped: cup.map(|(f, _, _)| f),
                sequential,
                basis: basis.into(),
                decision_p_value: decision_p,
                p_value_adjusted: decision_p,
                decision_rel_lift_ci: decision_ci,
                significant: false,
                outcome: 0,
                beyond_tolerance: false,
                power: power(delta, se_ci, alpha),
                units_needed: units_for_power(delta, t.var, c.var, alpha),
                implausible: lift.abs() > req.max_plausible_lift,
            });
        }
        metrics.push(MetricResult {
            name: m.name.clone(),
            kind: m.kind,
            direction: m.direction,
            role: m.role,
            tolerance: m.tolerance.unwrap_or(0.0),
            arms: order
                .iter()
                .zip(arms)
                .map(|(v, a)| ArmSummary {
                    variant: v.name.clone(),
                    units: a.n,
                    mean: a.mean,
                    variance: a.var,
                })
                .collect(),
            comparisons,
        });
    }

    // Correction over goal metrics × treatments.
    let goal_ps: Vec<f64> = metrics
        .iter()
        .filter(|m| m.role == MetricRole::Goal)
        .flat_map(|m| m.comparisons.iter().map(|c| c.decision_p_value))
        .collect();
    let adjusted = match req.correction {
        Correction::None => goal_ps.clone(),
        Correction::Holm => holm(&goal_ps),
        Correction::BenjaminiHochberg => benjamini_hochberg(&goal_ps),
    };
    let mut k = 0;
    for m in &mut metrics {
        let sign = m.direction.sign();
        for c in &mut m.comparisons {
            if m.role == MetricRole::Goal {
                c.p_value_adjusted = adjusted[k];
                k += 1;
            }
            c.significant = c.p_value_adjusted < alpha;
            let good = sign * c.rel_lift;
            c.outcome = if !c.significant || good == 0.0 {
                0
            } else if good > 0.0 {
                1
            } else {
                -1
            };
            if m.role == MetricRole::Guardrail {
                // Confidently worse than the tolerance: even the interval's best end is worse.
                let best = if sign > 0.0 {
                    c.decision_rel_lift_ci[1]
                } else {
                    -c.decision_rel_lift_ci[0]
                };
                c.beyond_tolerance = best < -m.tolerance;
            }
        }
    }
    let verdict = verdict(req, &order, &srm, &metrics, total_units, ctx);
    Ok(Analysis {
        alpha,
        correction: req.correction,
        sequential: req.sequential,
        mde: req.mde,
        control: req.control.clone(),
        total_units,
        srm,
        metrics,
        verdict,
    })
}

/// A signed percentage with one decimal: `+3.1%`, `−0.4%`.
pub fn pct(x: f64) -> String {
    let v = x * 100.0;
    let s = format!("{:.1}", v.abs());
    if s == "0.0" {
        "0.0%".into()
    } else if v > 0.0 {
        format!("+{s}%")
    } else {
        format!("\u{2212}{s}%")
    }
}

/// An integer count with thousands separators: `48,210`.
pub fn count(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn lift_phrase(m: &MetricResult, c: &Comparison, alpha: f64) -> String {
    let ci = c.decision_rel_lift_ci;
    format!(
        "{} {} ({:.0}% CI {} to {})",
        m.name,
        pct(c.rel_lift),
        (1.0 - alpha) * 100.0,
        pct(ci[0]),
        pct(ci[1])
    )
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
fn verdict(
    req: &AnalysisRequest,
    order: &[&VariantSpec],
    srm: &Srm,
    metrics: &[MetricResult],
    total_units: f64,
    ctx: Context,
) -> Verdict {
    let tail = match ctx.days {
        Some(d) => format!(
            "{d} day{}, {} users",
            if d == 1 { "" } else { "s" },
            count(total_units)
        ),
        None => format!("{} users", count(total_units)),
    };
    let warnings: Vec<String> = metrics
        .iter()
        .flat_map(|m| {
            m.comparisons.iter().filter(|c| c.implausible).map(move |c| {
                format!(
                    "{} on '{}' moved {}, more than a plausible {}: check the data before believing it",
                    m.name,
                    c.variant,
                    pct(c.rel_lift),
                    pct(req.max_plausible_lift)
                )
            })
        })
        .collect();
    let done = |decision: Decision,
                variant: Option<String>,
                why: String,
                reasons: Vec<String>,
                need: Option<f64>| Verdict {
        decision,
        variant,
        sentence: format!("{}: {why}; {tail}.", decision.label()),
        reasons,
        units_still_needed: need,
        warnings: warnings.clone(),
    };

    if srm.detected {
        let worst = srm.variants.iter().max_by(|a, b| {
            ((a.observed - a.expected).abs() / a.expected.max(1.0))
                .total_cmp(&((b.observed - b.expected).abs() / b.expected.max(1.0)))
        });
        let detail = worst
            .map(|w| {
                format!(
                    ", '{}' got {:.1}% of users against {:.1}% intended",
                    w.variant,
                    100.0 * w.observed / total_units.max(1.0),
                    100.0 * w.weight_share
                )
            })
            .unwrap_or_default();
        return done(
            Decision::Invalid,
            None,
            format!("sample-ratio mismatch (p = {:.2e}){detail}; fix the assignment before reading any metric", srm.p_value),
            vec![format!("χ² = {:.2} with {} degrees of freedom, p = {:.3e} < {SRM_P}", srm.chi2, srm.df, srm.p_value)],
            None,
        );
    }
    let small: Vec<String> = order
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let fewest = std::iter::once(srm.variants[i].observed)
                .chain(metrics.iter().map(|m| m.arms[i].units))
                .fold(f64::INFINITY, f64::min);
            (fewest < req.min_units).then(|| format!("'{}' has {} units", v.name, count(fewest)))
        })
        .collect();
    if !small.is_empty() {
        return done(
            Decision::Invalid,
            None,
            format!(
                "too few units to read ({}; at least {} per variant are needed)",
                small.join(", "),
                count(req.min_units)
            ),
            small,
            None,
        );
    }

    let goals: Vec<&MetricResult> = metrics
        .iter()
        .filter(|m| m.role == MetricRole::Goal)
        .collect();
    let guards: Vec<&MetricResult> = metrics
        .iter()
        .filter(|m| m.role == MetricRole::Guardrail)
        .collect();
    let treatments: Vec<&str> = order.iter().skip(1).map(|v| v.name.as_str()).collect();
    let cmp = |m: &'_ MetricResult, t: &str| -> Option<Comparison> {
        m.comparisons.iter().find(|c| c.variant == t).cloned()
    };
    let mut ship: Option<(f64, &str)> = None;
    let mut worse: Vec<String> = Vec::new();
    let mut worse_variant: Option<String> = None;
    for t in &treatments {
        let mut t_worse = Vec::new();
        for m in &goals {
            if let Some(c) = cmp(m, t).filter(|c| c.outcome < 0) {
                t_worse.push(format!("{} is worse", lift_phrase(m, &c, req.alpha)));
            }
        }
        for m in &guards {
            if let Some(c) = cmp(m, t).filter(|c| c.beyond_tolerance) {
                t_worse.push(if m.tolerance > 0.0 {
                    format!(
                        "{} is worse beyond its {} tolerance",
                        lift_phrase(m, &c, req.alpha),
                        pct(m.tolerance).trim_start_matches('+')
                    )
                } else {
                    format!("{} is worse", lift_phrase(m, &c, req.alpha))
                });
            }
        }
        let all_better = !goals.is_empty()
            && goals
                .iter()
                .all(|m| cmp(m, t).is_some_and(|c| c.outcome > 0));
        if all_better && t_worse.is_empty() {
            let first = cmp(goals[0], t).map_or(0.0, |c| goals[0].direction.sign() * c.rel_lift);
            if ship.is_none_or(|(best, _)| first > best) {
                ship = Some((first, t));
            }
        } else if !t_worse.is_empty() && worse.is_empty() {
            worse_variant = Some((*t).to_owned());
            worse = t_worse;
        }
    }
    let prefix = |t: &str| {
        if treatments.len() > 1 {
            format!("'{t}': ")
        } else {
            String::new()
        }
    };
    if let Some((_, t)) = ship {
        let lifts: Vec<String> = goals
            .iter()
            .filter_map(|m| cmp(m, t).map(|c| lift_phrase(m, &c, req.alpha)))
            .collect();
        let guard = if guards.is_empty() {
            "no guardrails set".to_owned()
        } else {
            "no guardrail worse".to_owned()
        };
        return done(
            Decision::Ship,
            Some(t.to_owned()),
            format!("{}{}, {guard}", prefix(t), lifts.join(", ")),
            lifts,
            None,
        );
    }
    if let Some(t) = worse_variant {
        return done(
            Decision::RollBack,
            Some(t.clone()),
            format!("{}{}", prefix(&t), worse.join(", ")),
            worse,
            None,
        );
    }
    // Keep running: how far from the minimum detectable effect.
    let need = goals
        .iter()
        .flat_map(|m| m.comparisons.iter())
        .map(|c| (c.units_needed - c.control_units.min(c.treatment_units)).max(0.0))
        .fold(0.0, f64::max)
        .ceil();
    let leading = goals
        .first()
        .and_then(|m| m.comparisons.first().map(|c| lift_phrase(m, c, req.alpha)));
    let why = match (leading, goals.is_empty()) {
        (_, true) => "no goal metric is set, and no guardrail is worse".to_owned(),
        (Some(l), false) => {
            if need > 0.0 {
                format!(
                    "no goal is conclusive yet ({l}); about {} more units per variant are needed to find a {} effect",
                    count(need),
                    pct(req.mde).trim_start_matches('+')
                )
            } else {
                format!("no goal is conclusive ({l}) although the sample can find a {} effect; any true effect is likely smaller", pct(req.mde).trim_start_matches('+'))
            }
        }
        (None, false) => "no goal is conclusive yet".to_owned(),
    };
    done(
        Decision::KeepRunning,
        None,
        why,
        vec![],
        (need > 0.0).then_some(need),
    )
}
