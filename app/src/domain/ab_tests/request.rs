//! What an analysis is asked: the variants, the metrics with their sufficient statistics, and
//! the settings (significance level, correction, sequential testing, power).

use serde::{Deserialize, Serialize};

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
    /// +1 when a higher value is better, −1 when a lower one is.
    pub(crate) fn sign(self) -> f64 {
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
pub(super) fn default_tuning() -> f64 {
    5000.0
}
pub(crate) fn default_mde() -> f64 {
    DEFAULT_MDE
}
pub(crate) fn default_min_units() -> f64 {
    DEFAULT_MIN_UNITS
}
pub(super) fn default_max_lift() -> f64 {
    0.5
}
