//! Run browsing and comparison for data scientists.

use crate::error::AppError;
use crate::model::{CompareView, ExperimentSummary, RunDetail, RunsPage};
use leptos::prelude::*;

/// Runs per page in the runs table.
pub const RUNS_PAGE_SIZE: i64 = 50;
/// Most runs one comparison shows.
pub const MAX_COMPARE: usize = 8;

#[cfg(feature = "ssr")]
fn row(r: &crate::server::db::tracking::Run) -> crate::model::RunRow {
    crate::model::RunRow {
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
            .map(|m| (m.key.clone(), crate::model::MetricCell::of(m.value)))
            .collect(),
    }
}

/// Most value-table rows under one chart.
pub const MAX_CHART_ROWS: usize = 1000;

/// A named series of (step, value) points; `None` is NaN.
#[cfg(feature = "ssr")]
type Series = (String, Vec<(i64, Option<f64>)>);

/// A chart of one metric for several series, with its value table; `None` when no series has
/// two finite points to draw.
#[cfg(feature = "ssr")]
fn history_chart(
    key: &str,
    series: Vec<Series>,
    width: u32,
    height: u32,
) -> Option<crate::model::Chart> {
    use crate::model::MetricCell;
    let drawable: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(n, pts)| {
            (
                n.clone(),
                pts.iter()
                    .filter_map(|(s, v)| v.map(|v| (*s as f64, v)))
                    .collect(),
            )
        })
        .collect();
    if !drawable
        .iter()
        .any(|(_, p): &(String, Vec<(f64, f64)>)| p.len() > 1)
    {
        return None;
    }
    let svg = crate::server::charts::line_chart(&drawable, "step", width, height)?;
    let mut steps: Vec<i64> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(s, _)| *s))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    let truncated = steps.len() > MAX_CHART_ROWS;
    let rows = steps
        .into_iter()
        .take(MAX_CHART_ROWS)
        .map(|step| {
            let cells = series
                .iter()
                .map(|(_, p)| {
                    p.iter()
                        .rev()
                        .find(|(s, _)| *s == step)
                        .map(|(_, v)| v.map_or(MetricCell::NaN, MetricCell::of))
                })
                .collect();
            (step, cells)
        })
        .collect();
    Some(crate::model::Chart {
        key: key.to_owned(),
        svg,
        series: series.into_iter().map(|(n, _)| n).collect(),
        rows,
        truncated,
    })
}

/// The keys of several maps, sorted and without repeats.
#[cfg(feature = "ssr")]
fn union_keys<'a, V: 'a>(
    maps: impl Iterator<Item = &'a std::collections::BTreeMap<String, V>>,
) -> Vec<String> {
    maps.flat_map(|m| m.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Active experiments with run counts.
#[server(prefix = "/api", endpoint = "experiments")]
pub async fn list_experiments() -> Result<Vec<ExperimentSummary>, AppError> {
    use crate::domain::authz::Action;
    use crate::server::{context, db};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    Ok(db::tracking::experiment_summaries(&state.pool)
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

/// A page of an experiment's runs, filtered and ordered with MLflow's grammar.
#[server(prefix = "/api", endpoint = "experiment_runs")]
pub async fn experiment_runs(
    experiment_id: i64,
    #[server(default)] filter: String,
    #[server(default)] order_by: String,
    #[server(default)] offset: i64,
) -> Result<RunsPage, AppError> {
    use crate::domain::authz::Action;
    use crate::domain::run_search::{parse_filter, parse_order_by};
    use crate::server::{context, db};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    let experiment = db::tracking::experiment_summaries(&state.pool)
        .await?
        .into_iter()
        .find(|(id, ..)| *id == experiment_id)
        .map(|(id, name, description, runs)| ExperimentSummary {
            id,
            name,
            description,
            runs,
        })
        .ok_or_else(|| AppError::not_found(format!("no active experiment {experiment_id}")))?;
    let clauses = parse_filter(&filter).map_err(|e| AppError::validation("filter", e))?;
    let order = if order_by.trim().is_empty() {
        Vec::new()
    } else {
        vec![parse_order_by(&order_by).map_err(|e| AppError::validation("order_by", e))?]
    };
    let offset = offset.max(0);
    let ids = db::tracking::search_run_ids(
        &state.pool,
        &db::tracking::RunSearch {
            experiment_ids: &[experiment_id],
            stages: &["active"],
            clauses: &clauses,
            order_by: &order,
            limit: RUNS_PAGE_SIZE + 1,
            offset,
        },
    )
    .await?;
    let more = ids.len() as i64 > RUNS_PAGE_SIZE;
    let ids: Vec<String> = ids.into_iter().take(RUNS_PAGE_SIZE as usize).collect();
    let runs: Vec<_> = db::tracking::load_runs(&state.pool, &ids)
        .await?
        .iter()
        .map(row)
        .collect();
    let param_keys = union_keys(runs.iter().map(|r| &r.params));
    let metric_keys = union_keys(runs.iter().map(|r| &r.metrics));
    Ok(RunsPage {
        experiment,
        runs,
        param_keys,
        metric_keys,
        next_offset: more.then_some(offset + RUNS_PAGE_SIZE),
    })
}

/// One run with its tags, inputs and metric charts.
#[server(prefix = "/api", endpoint = "run_detail")]
pub async fn get_run_detail(run_id: String) -> Result<RunDetail, AppError> {
    use crate::domain::authz::Action;
    use crate::model::DatasetView;
    use crate::server::{context, db};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    let runs = db::tracking::load_runs(&state.pool, std::slice::from_ref(&run_id)).await?;
    let run = runs
        .first()
        .ok_or_else(|| AppError::not_found(format!("no run {run_id}")))?;
    let experiment = db::tracking::get_experiment(&state.pool, run.info.experiment_id)
        .await?
        .map(|e| (e.experiment_id, e.name))
        .unwrap_or((run.info.experiment_id, String::new()));
    let keys: Vec<String> = run.metrics.iter().map(|m| m.key.clone()).collect();
    let points = db::tracking::histories(&state.pool, std::slice::from_ref(&run_id), &keys).await?;
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
    Ok(RunDetail {
        experiment,
        run: row(run),
        tags: run
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        inputs: run
            .inputs
            .iter()
            .map(|d| DatasetView {
                name: d.name.clone(),
                digest: d.digest.clone(),
                source: d.source.clone(),
                context: d
                    .tags
                    .iter()
                    .find(|(k, _)| k == "mlflow.data.context")
                    .map(|(_, v)| v.clone()),
            })
            .collect(),
        charts,
    })
}

/// Compares runs: differing params first, metrics with the best run marked, overlaid histories.
#[server(prefix = "/api", endpoint = "compare_runs")]
pub async fn compare_runs(
    #[server(default)] run_ids: Vec<String>,
) -> Result<CompareView, AppError> {
    use crate::domain::authz::Action;
    use crate::domain::run_search::higher_is_better;
    use crate::model::{MetricCell, MetricComparison};
    use crate::server::{context, db};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    let mut ids: Vec<String> = Vec::new();
    for id in run_ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() < 2 {
        return Err(AppError::validation(
            "run",
            "select at least two runs to compare",
        ));
    }
    if ids.len() > MAX_COMPARE {
        return Err(AppError::validation(
            "run",
            format!("compare at most {MAX_COMPARE} runs at a time"),
        ));
    }
    let loaded = db::tracking::load_runs(&state.pool, &ids).await?;
    if loaded.len() != ids.len() {
        let missing: Vec<&String> = ids
            .iter()
            .filter(|id| !loaded.iter().any(|r| &r.info.run_uuid == *id))
            .collect();
        return Err(AppError::not_found(format!(
            "no run {}",
            missing.first().map(|s| s.as_str()).unwrap_or("")
        )));
    }
    let runs: Vec<_> = loaded.iter().map(row).collect();

    let (mut differing, mut identical) = (Vec::new(), Vec::new());
    for k in union_keys(runs.iter().map(|r| &r.params)) {
        let values: Vec<Option<String>> = runs.iter().map(|r| r.params.get(&k).cloned()).collect();
        match values.first() {
            Some(Some(first)) if values.iter().all(|v| v.as_ref() == Some(first)) => {
                let first = first.clone();
                identical.push((k, first))
            }
            _ => differing.push((k, values)),
        }
    }

    let extremes = db::tracking::metric_extremes(&state.pool, &ids).await?;
    let metric_keys = union_keys(runs.iter().map(|r| &r.metrics));
    let metrics = metric_keys
        .iter()
        .map(|k| {
            let hib = higher_is_better(k);
            let cells: Vec<Option<(MetricCell, MetricCell, MetricCell)>> = runs
                .iter()
                .map(|r| {
                    let last = *r.metrics.get(k)?;
                    let (lo, hi) = extremes
                        .iter()
                        .find(|(run, key, ..)| run == &r.run_id && key == k)
                        .map(|(_, _, lo, hi)| (MetricCell::of(*lo), MetricCell::of(*hi)))
                        .unwrap_or((last, last));
                    Some((last, lo, hi))
                })
                .collect();
            let best = cells
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.and_then(|(last, ..)| last.finite()).map(|v| (i, v)))
                .reduce(|a, b| {
                    if (hib && b.1 > a.1) || (!hib && b.1 < a.1) {
                        b
                    } else {
                        a
                    }
                })
                .map(|(i, _)| i);
            MetricComparison {
                key: k.clone(),
                higher_is_better: hib,
                cells,
                best,
            }
        })
        .collect();

    // Histories with more than one step are drawn, all runs on one chart per metric.
    let points = db::tracking::histories(&state.pool, &ids, &metric_keys).await?;
    let charts = metric_keys
        .iter()
        .filter_map(|k| {
            let series = runs
                .iter()
                .map(|r| {
                    (
                        r.name.clone(),
                        points
                            .iter()
                            .filter(|p| p.0 == r.run_id && &p.1 == k)
                            .map(|p| (p.2, p.3))
                            .collect(),
                    )
                })
                .collect();
            history_chart(k, series, 640, 260)
        })
        .collect();
    Ok(CompareView {
        runs,
        differing,
        identical,
        metrics,
        charts,
    })
}
