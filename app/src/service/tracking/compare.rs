//! Comparing runs: differing params first, metrics with the best run marked, overlaid
//! histories, parallel coordinates over the differing params and a param-against-metric
//! scatter, and whether the experiment's baseline is among the runs.

use super::figures::{history_chart, parallel_figure, scatter_figure};
use super::views::{row, union_keys};
use crate::domain::axis::Axis;
use crate::domain::run_search::higher_is_better;
use crate::dto::{CompareView, MetricCell, MetricComparison, RunRow};
use crate::error::AppError;
use crate::store::tracking::{self as db, Run};
use crate::store::Pool;

/// Most runs one comparison shows.
pub const MAX_COMPARE: usize = 8;

/// What the comparison's figures show; each defaults when absent.
#[derive(Clone, Debug, Default)]
pub struct FigureChoice {
    /// The metric on the parallel-coordinates chart (`pc_metric`).
    pub parallel_metric: Option<String>,
    /// The scatter's param across (`scatter_x`).
    pub scatter_param: Option<String>,
    /// The scatter's metric up (`scatter_y`).
    pub scatter_metric: Option<String>,
}

/// Compares the runs `run_ids` (repeats dropped, 2 to [`MAX_COMPARE`]), with the figures
/// `choice` asks for.
pub async fn compare(
    pool: &Pool,
    run_ids: Vec<String>,
    choice: FigureChoice,
) -> Result<CompareView, AppError> {
    let ids = distinct(run_ids)?;
    let loaded = load_all(pool, &ids).await?;
    let runs: Vec<RunRow> = loaded.iter().map(row).collect();
    let (differing, identical) = split_params(&runs);
    let extremes = db::metric_extremes(pool, &ids).await?;
    let metric_keys = union_keys(runs.iter().map(|r| &r.metrics));
    let metrics = metric_keys
        .iter()
        .map(|k| metric_comparison(k, &runs, &extremes))
        .collect();
    // Histories with more than one step are drawn, all runs on one chart per metric.
    let points = db::histories(pool, &ids, &metric_keys).await?;
    let charts = metric_keys
        .iter()
        .filter_map(|k| {
            let series = runs
                .iter()
                .map(|r| {
                    let pts = points
                        .iter()
                        .filter(|p| p.0 == r.run_id && &p.1 == k)
                        .map(|p| (p.2, p.3))
                        .collect();
                    (r.name.clone(), pts)
                })
                .collect();
            history_chart(k, series, 640, 260)
        })
        .collect();
    let param_keys: Vec<String> = differing
        .iter()
        .map(|(k, _)| k.clone())
        .chain(identical.iter().map(|(k, _)| k.clone()))
        .collect();
    let chosen = resolve_choice(choice, &differing, &param_keys, &metric_keys)?;
    let parallel = chosen
        .parallel_metric
        .as_deref()
        .and_then(|m| parallel_figure(&runs, &differing, m));
    let scatter = match (&chosen.scatter_param, &chosen.scatter_metric) {
        (Some(p), Some(m)) => scatter_figure(&runs, p, m),
        _ => None,
    };
    let (baselines, missing_baseline) = baselines(pool, &loaded, &ids).await?;
    Ok(CompareView {
        baselines,
        missing_baseline,
        runs,
        differing,
        identical,
        metrics,
        charts,
        param_keys,
        parallel_metric: chosen.parallel_metric,
        parallel,
        scatter_param: chosen.scatter_param,
        scatter_metric: chosen.scatter_metric,
        scatter,
    })
}

/// The ids without repeats, in order; refused unless there are 2 to [`MAX_COMPARE`].
fn distinct(run_ids: Vec<String>) -> Result<Vec<String>, AppError> {
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
    Ok(ids)
}

/// Every run of `ids`, or 404 naming the first that is missing.
async fn load_all(pool: &Pool, ids: &[String]) -> Result<Vec<Run>, AppError> {
    let loaded = db::load_runs(pool, ids).await?;
    if let Some(missing) = ids
        .iter()
        .find(|id| !loaded.iter().any(|r| &r.info.run_uuid == *id))
    {
        return Err(AppError::not_found(format!("no run {missing}")));
    }
    Ok(loaded)
}

/// The params whose values differ between the runs (with each run's value) and those every
/// run has with one value.
type ParamSplit = (Vec<(String, Vec<Option<String>>)>, Vec<(String, String)>);

fn split_params(runs: &[RunRow]) -> ParamSplit {
    let (mut differing, mut identical) = (Vec::new(), Vec::new());
    for k in union_keys(runs.iter().map(|r| &r.params)) {
        let values: Vec<Option<String>> = runs.iter().map(|r| r.params.get(&k).cloned()).collect();
        match values.first() {
            Some(Some(first)) if values.iter().all(|v| v.as_ref() == Some(first)) => {
                let first = first.clone();
                identical.push((k, first));
            }
            _ => differing.push((k, values)),
        }
    }
    (differing, identical)
}

/// One metric across the runs: each run's last, lowest and highest value, and the run with
/// the best last value by the metric's direction.
fn metric_comparison(
    k: &str,
    runs: &[RunRow],
    extremes: &[(String, String, f64, f64)],
) -> MetricComparison {
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
        key: k.to_owned(),
        higher_is_better: hib,
        cells,
        best,
    }
}

/// The figures' keys: each as chosen when the runs have it, else its default (the first
/// metric; the scatter's metric follows the parallel chart's; its param is the first
/// differing one whose values are all numbers).
fn resolve_choice(
    choice: FigureChoice,
    differing: &[(String, Vec<Option<String>>)],
    param_keys: &[String],
    metric_keys: &[String],
) -> Result<FigureChoice, AppError> {
    let parallel_metric = choose(
        "pc_metric",
        "metric",
        choice.parallel_metric,
        metric_keys,
        metric_keys.first(),
    )?;
    let scatter_metric = choose(
        "scatter_y",
        "metric",
        choice.scatter_metric,
        metric_keys,
        parallel_metric.as_ref(),
    )?;
    let numeric_param = differing
        .iter()
        .find(|(_, v)| {
            matches!(
                Axis::for_text(v.iter().map(|v| v.as_deref())),
                Some(Axis::Numeric { .. })
            )
        })
        .map(|(k, _)| k);
    let scatter_param = choose(
        "scatter_x",
        "param",
        choice.scatter_param,
        param_keys,
        numeric_param.or(param_keys.first()),
    )?;
    Ok(FigureChoice {
        parallel_metric,
        scatter_param,
        scatter_metric,
    })
}

/// A chosen key if it is among `keys`, the default when none was chosen, an error naming the
/// field when the choice is not there.
fn choose(
    field: &str,
    what: &str,
    chosen: Option<String>,
    keys: &[String],
    default: Option<&String>,
) -> Result<Option<String>, AppError> {
    match chosen.filter(|c| !c.is_empty()) {
        None => Ok(default.cloned()),
        Some(c) if keys.contains(&c) => Ok(Some(c)),
        Some(c) => Err(AppError::validation(
            field,
            format!("no selected run has the {what} '{c}'"),
        )),
    }
}

/// The compared runs that are their experiment's baseline, and the first run's experiment's
/// baseline when it is not compared and there is room to add it.
async fn baselines(
    pool: &Pool,
    loaded: &[Run],
    ids: &[String],
) -> Result<(Vec<String>, Option<(String, String)>), AppError> {
    let experiment_ids: Vec<i64> = loaded.iter().map(|r| r.info.experiment_id).collect();
    let found = db::baselines(pool, &experiment_ids).await?;
    let compared: Vec<String> = found
        .iter()
        .filter(|(_, id, _)| ids.contains(id))
        .map(|(_, id, _)| id.clone())
        .collect();
    let missing = found
        .into_iter()
        .find(|(e, id, _)| Some(e) == experiment_ids.first() && !ids.contains(id))
        .filter(|_| ids.len() < MAX_COMPARE)
        .map(|(_, id, name)| (id, name));
    Ok((compared, missing))
}
