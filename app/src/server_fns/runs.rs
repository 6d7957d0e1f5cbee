//! Run browsing and comparison for data scientists; the views are built in
//! [`crate::service::tracking`].

use crate::dto::{CompareView, ExperimentSummary, RunDetail, RunsPage};
use crate::error::AppError;
use leptos::prelude::*;

/// Active experiments with run counts.
#[server(prefix = "/api", endpoint = "experiments")]
pub async fn list_experiments() -> Result<Vec<ExperimentSummary>, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, tracking};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    tracking::experiments(&state.pool).await
}

/// A page of an experiment's runs, filtered and ordered with MLflow's grammar.
#[server(prefix = "/api", endpoint = "experiment_runs")]
pub async fn experiment_runs(
    /// The MLflow experiment's id.
    experiment_id: i64,
    /// An MLflow search filter, for example `metrics.auc > 0.8`.
    #[server(default)]
    filter: String,
    /// An MLflow order clause, for example `metrics.auc DESC`.
    #[server(default)]
    order_by: String,
    /// How many matching runs to skip (paging).
    #[server(default)]
    offset: i64,
) -> Result<RunsPage, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, tracking};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    tracking::runs_page(&state.pool, experiment_id, &filter, &order_by, offset).await
}

/// Makes a run its experiment's baseline (`baseline` true) or stops it being one. Needs the
/// scientist role; audited in the same transaction.
#[server(prefix = "/api", endpoint = "set_baseline")]
pub async fn set_baseline(
    /// The MLflow run's id.
    run_id: String,
    /// Whether the run becomes (true) or stops being (false) the baseline.
    baseline: bool,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, tracking};
    let (state, p) = context::authorized(Action::IngestTracking).await?;
    tracking::set_baseline(&state.pool, &p, &run_id, baseline).await
}

/// One run with its tags, inputs and metric charts.
#[server(prefix = "/api", endpoint = "run_detail")]
pub async fn get_run_detail(
    /// The MLflow run's id.
    run_id: String,
) -> Result<RunDetail, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, tracking};
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
    tracking::run_detail(&state.pool, &run_id, p.can(Action::IngestTracking)).await
}

/// Compares runs: differing params first, metrics with the best run marked, overlaid histories,
/// parallel coordinates over the differing params and a param-against-metric scatter.
///
/// `pc_metric` is the metric on the parallel-coordinates chart; `scatter_x` (a param) and
/// `scatter_y` (a metric) choose the scatter's axes. Each defaults when absent.
#[server(prefix = "/api", endpoint = "compare_runs")]
pub async fn compare_runs(
    /// The runs to compare, in column order.
    #[server(default)]
    run_ids: Vec<String>,
    /// The metric on the parallel-coordinates chart (default: the first).
    #[server(default)]
    pc_metric: Option<String>,
    /// The param across the scatter (default: the first numeric differing one).
    #[server(default)]
    scatter_x: Option<String>,
    /// The metric up the scatter (default: the parallel chart's).
    #[server(default)]
    scatter_y: Option<String>,
) -> Result<CompareView, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, tracking};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    let choice = tracking::FigureChoice {
        parallel_metric: pc_metric,
        scatter_param: scatter_x,
        scatter_metric: scatter_y,
    };
    tracking::compare(&state.pool, run_ids, choice).await
}
