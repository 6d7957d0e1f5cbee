//! What an analysis answers: the sample-ratio check, per-metric comparisons and the verdict.

use super::{Correction, Direction, MetricKind, MetricRole};
use serde::{Deserialize, Serialize};

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
    /// The variant's name, as in the definition.
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
    /// The variant's name, as in the definition.
    pub variant: String,
    /// Units (users, sessions) exposed to this metric in the arm.
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
    /// Units the control arm observed (n_c).
    pub control_units: f64,
    /// Units the treatment arm observed (n_t).
    pub treatment_units: f64,
    /// The control's mean, m_c (a rate for binomial metrics).
    pub control_mean: f64,
    /// The treatment's mean, m_t (a rate for binomial metrics).
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
    /// Binomial (a rate) or continuous (a mean with variance); `type` on the wire.
    #[serde(rename = "type")]
    pub kind: MetricKind,
    /// Whether higher or lower values are better.
    pub direction: Direction,
    /// Goal (decides shipping) or guardrail (must not get worse).
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
    /// The decision as the page writes it, for example `Roll back`.
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
    /// Ship, roll back, keep running or invalid.
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
    /// The decision over every metric, with its reasons.
    pub verdict: Verdict,
}

/// Context for the verdict's sentence.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context {
    /// Days the experiment has run.
    pub days: Option<u32>,
}
