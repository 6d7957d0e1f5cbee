//! Experiments and runs as the run pages show them: tables, details, comparisons and
//! charts.

use serde::{Deserialize, Serialize};

/// A metric value as shown: a number, or one of the non-finite values MLflow allows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum MetricCell {
    /// A finite number.
    Num(f64),
    /// Not a number.
    NaN,
    /// +∞.
    PosInf,
    /// −∞.
    NegInf,
}

impl MetricCell {
    /// Wraps any f64.
    pub fn of(v: f64) -> MetricCell {
        if v.is_nan() {
            MetricCell::NaN
        } else if v == f64::INFINITY {
            MetricCell::PosInf
        } else if v == f64::NEG_INFINITY {
            MetricCell::NegInf
        } else {
            MetricCell::Num(v)
        }
    }

    /// The finite value, if any.
    pub fn finite(self) -> Option<f64> {
        match self {
            MetricCell::Num(v) => Some(v),
            _ => None,
        }
    }

    /// Display text: up to 6 significant decimals, or NaN / ∞.
    pub fn text(self) -> String {
        match self {
            MetricCell::Num(v) => {
                let s = format!("{v:.6}");
                let s = s.trim_end_matches('0').trim_end_matches('.');
                if s.is_empty() || s == "-" {
                    "0".into()
                } else {
                    s.to_string()
                }
            }
            MetricCell::NaN => "NaN".into(),
            MetricCell::PosInf => "∞".into(),
            MetricCell::NegInf => "−∞".into(),
        }
    }
}

/// An experiment as listed on the Runs page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ExperimentSummary {
    /// The MLflow experiment id.
    pub id: i64,
    /// The experiment's unique name.
    pub name: String,
    /// The `mlflow.note.content` tag, if set.
    pub description: Option<String>,
    /// Active runs.
    pub runs: i64,
}

/// The experiment a runs page shows: its name and description, without a count of its runs
/// (which would cost a walk of all of them on every page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ExperimentHeading {
    /// The MLflow experiment id.
    pub id: i64,
    /// The experiment's unique name.
    pub name: String,
    /// The `mlflow.note.content` tag, if set.
    pub description: Option<String>,
}

/// One run as a table row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunRow {
    /// The MLflow run's 32-hex-digit id.
    pub run_id: String,
    /// Display name.
    pub name: String,
    /// RUNNING, FINISHED, FAILED, KILLED or SCHEDULED.
    pub status: String,
    /// Who started it.
    pub user_id: String,
    /// Start (ms since the epoch).
    pub start_time: Option<i64>,
    /// End (ms since the epoch).
    pub end_time: Option<i64>,
    /// Params by key.
    pub params: std::collections::BTreeMap<String, String>,
    /// Latest metric values by key.
    pub metrics: std::collections::BTreeMap<String, MetricCell>,
}

/// A page of an experiment's runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunsPage {
    /// The experiment the runs belong to.
    pub experiment: ExperimentHeading,
    /// Runs on this page.
    pub runs: Vec<RunRow>,
    /// Param keys that appear on the page, sorted.
    pub param_keys: Vec<String>,
    /// Metric keys that appear on the page, sorted.
    pub metric_keys: Vec<String>,
    /// Offset of the next page.
    pub next_offset: Option<i64>,
    /// The experiment's baseline run (id), if one is set.
    pub baseline: Option<String>,
}

/// A dataset input as shown on a run page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DatasetView {
    /// The dataset's name as logged.
    pub name: String,
    /// The client's digest of its content.
    pub digest: String,
    /// Where it was read from, as the client described it.
    pub source: String,
    /// Context tag (training, evaluation, …).
    pub context: Option<String>,
}

/// Everything on a run's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunDetail {
    /// Experiment id and name.
    pub experiment: (i64, String),
    /// The run's row as listed.
    pub run: RunRow,
    /// Tags (system tags included).
    pub tags: Vec<(String, String)>,
    /// Dataset inputs.
    pub inputs: Vec<DatasetView>,
    /// One chart per metric with more than one point.
    pub charts: Vec<Chart>,
    /// The experiment's baseline run (id, name), if one is set.
    pub baseline: Option<(String, String)>,
    /// Whether the viewer may change the baseline.
    pub can_set_baseline: bool,
}

/// One metric across compared runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MetricComparison {
    /// Metric key.
    pub key: String,
    /// Whether a larger value is better (false for losses and errors).
    pub higher_is_better: bool,
    /// Per run: latest, minimum and maximum of its history.
    pub cells: Vec<Option<(MetricCell, MetricCell, MetricCell)>>,
    /// Index of the run with the best latest value.
    pub best: Option<usize>,
}

/// The compare page, diff-first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CompareView {
    /// The runs, in the order asked for.
    pub runs: Vec<RunRow>,
    /// Params whose values differ (or are missing somewhere): key and value per run.
    pub differing: Vec<(String, Vec<Option<String>>)>,
    /// Params equal in every run.
    pub identical: Vec<(String, String)>,
    /// Metrics, with the best run marked.
    pub metrics: Vec<MetricComparison>,
    /// Overlaid histories, one chart per metric.
    pub charts: Vec<Chart>,
    /// Every param key, differing ones first: the choices for the scatter's x axis.
    pub param_keys: Vec<String>,
    /// The metric on the parallel-coordinates chart's last axis.
    pub parallel_metric: Option<String>,
    /// Parallel coordinates over the differing params plus `parallel_metric`.
    pub parallel: Option<Figure>,
    /// The param on the scatter's x axis.
    pub scatter_param: Option<String>,
    /// The metric on the scatter's y axis.
    pub scatter_metric: Option<String>,
    /// One param against one metric.
    pub scatter: Option<Figure>,
    /// Shown runs that are their experiment's baseline.
    pub baselines: Vec<String>,
    /// The first run's experiment baseline (id, name) when it is not shown and there is room.
    pub missing_baseline: Option<(String, String)>,
}

/// A server-rendered chart across runs, with the exact values it draws as a table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Figure {
    /// Caption.
    pub title: String,
    /// What the chart shows, for screen readers.
    pub description: String,
    /// Server-rendered SVG.
    pub svg: String,
    /// Table header: "Run", then one column per axis.
    pub columns: Vec<String>,
    /// One row per run: its name, then the exact value on each axis ("not set" when absent).
    pub rows: Vec<Vec<String>>,
    /// A remark under the chart, e.g. axes left out.
    pub note: Option<String>,
}

/// A metric-history chart with the exact values behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Chart {
    /// Metric key.
    pub key: String,
    /// Server-rendered SVG (downsampled to the chart width).
    pub svg: String,
    /// Series names, in colour order.
    pub series: Vec<String>,
    /// Every step with each series' value there (the last one logged at that step).
    pub rows: Vec<(i64, Vec<Option<MetricCell>>)>,
    /// Whether `rows` stops before the last step.
    pub truncated: bool,
}
