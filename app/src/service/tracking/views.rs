//! The run pages' reads: experiments with their run counts, a page of an experiment's runs
//! (filtered and ordered in MLflow's search grammar), and one run with its metric charts.

use super::figures::history_chart;
use crate::domain::run_search::{parse_filter, parse_order_by};
use crate::dto::{
    DatasetView, ExperimentHeading, ExperimentSummary, MetricCell, RunDetail, RunRow, RunsPage,
};
use crate::error::AppError;
use crate::store::tracking::{self as db, Run, RunSearch};
use crate::store::Pool;

/// Runs per page in the runs table.
pub const RUNS_PAGE_SIZE: i64 = 50;

/// A stored run as a row of the runs tables.
pub(super) fn row(r: &Run) -> RunRow {
    RunRow {
        run_id: r.info.run_uuid.clone(),
        name: r.info.run_name.clone(),
        status: r.info.status.clone(),
        user_id: r.info.user_id.clone(),
        start_time: r.info.start_time,
        end_time: r.info.end_time,
        params: r.params.clone(),
        metrics: r
            .metrics
            .iter()
            .map(|m| (m.key.clone(), MetricCell::of(m.value)))
            .collect(),
    }
}

/// The keys of several maps, sorted and without repeats.
pub(super) fn union_keys<'a, V: 'a>(
    maps: impl Iterator<Item = &'a std::collections::BTreeMap<String, V>>,
) -> Vec<String> {
    maps.flat_map(|m| m.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The active experiments with their run counts.
pub async fn experiments(pool: &Pool) -> Result<Vec<ExperimentSummary>, AppError> {
    Ok(db::experiment_summaries(pool)
        .await?
        .into_iter()
        .map(|(id, name, description, runs)| ExperimentSummary {
            id,
            name,
            description,
            runs,
        })
        .collect())
}

/// A page of the active runs of experiment `experiment_id` matching `filter`, ordered by
/// `order_by` (MLflow's grammar; empty for the default), from `offset`.
pub async fn runs_page(
    pool: &Pool,
    experiment_id: i64,
    filter: &str,
    order_by: &str,
    offset: i64,
) -> Result<RunsPage, AppError> {
    let clauses = parse_filter(filter).map_err(|e| AppError::validation("filter", e))?;
    let order = if order_by.trim().is_empty() {
        Vec::new()
    } else {
        vec![parse_order_by(order_by).map_err(|e| AppError::validation("order_by", e))?]
    };
    let offset = offset.max(0);
    let experiments = [experiment_id];
    let search = RunSearch {
        experiment_ids: &experiments,
        stages: &["active"],
        clauses: &clauses,
        order_by: &order,
        limit: RUNS_PAGE_SIZE + 1,
        offset,
    };
    // The heading, the page's ids and the baseline are independent reads: asked together
    // they cost one wait for the database instead of three (on PostgreSQL each is a round
    // trip); the runs' rows follow the ids.
    let (heading, ids, baselines) = tokio::try_join!(
        db::active_experiment(pool, experiment_id),
        db::search_run_ids(pool, &search),
        db::baselines(pool, &experiments),
    )?;
    let (id, name, description) = heading
        .ok_or_else(|| AppError::not_found(format!("no active experiment {experiment_id}")))?;
    let experiment = ExperimentHeading {
        id,
        name,
        description,
    };
    let more = ids.len() as i64 > RUNS_PAGE_SIZE;
    let ids: Vec<String> = ids.into_iter().take(RUNS_PAGE_SIZE as usize).collect();
    let runs: Vec<RunRow> = db::load_runs(pool, &ids).await?.iter().map(row).collect();
    let param_keys = union_keys(runs.iter().map(|r| &r.params));
    let metric_keys = union_keys(runs.iter().map(|r| &r.metrics));
    let baseline = baselines.into_iter().next_back().map(|(_, id, _)| id);
    Ok(RunsPage {
        experiment,
        runs,
        param_keys,
        metric_keys,
        next_offset: more.then_some(offset + RUNS_PAGE_SIZE),
        baseline,
    })
}

/// One run with its tags, dataset inputs and a chart per metric with a history;
/// `can_set_baseline` says whether the viewer may change the experiment's baseline.
pub async fn run_detail(
    pool: &Pool,
    run_id: &str,
    can_set_baseline: bool,
) -> Result<RunDetail, AppError> {
    let runs = db::load_runs(pool, &[run_id.to_owned()]).await?;
    let run = runs
        .first()
        .ok_or_else(|| AppError::not_found(format!("no run {run_id}")))?;
    let experiment = db::get_experiment(pool, run.info.experiment_id)
        .await?
        .map(|e| (e.experiment_id, e.name))
        .unwrap_or((run.info.experiment_id, String::new()));
    let keys: Vec<String> = run.metrics.iter().map(|m| m.key.clone()).collect();
    let points = db::histories(pool, &[run_id.to_owned()], &keys).await?;
    let charts = keys
        .iter()
        .filter_map(|key| {
            let pts = points
                .iter()
                .filter(|p| &p.1 == key)
                .map(|p| (p.2, p.3))
                .collect();
            history_chart(key, vec![(run.info.run_name.clone(), pts)], 560, 240)
        })
        .collect();
    let baseline = db::baselines(pool, &[run.info.experiment_id])
        .await?
        .pop()
        .map(|(_, id, name)| (id, name));
    Ok(RunDetail {
        experiment,
        run: row(run),
        tags: run
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        inputs: run.inputs.iter().map(dataset_view).collect(),
        charts,
        baseline,
        can_set_baseline,
    })
}

/// A run's dataset input as the run page lists it.
fn dataset_view(d: &db::DatasetInput) -> DatasetView {
    DatasetView {
        name: d.name.clone(),
        digest: d.digest.clone(),
        source: d.source.clone(),
        context: d
            .tags
            .iter()
            .find(|(k, _)| k == "mlflow.data.context")
            .map(|(_, v)| v.clone()),
    }
}
