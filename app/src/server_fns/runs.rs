//! Run browsing and comparison for data scientists.

use crate::dto::{CompareView, ExperimentSummary, RunDetail, RunsPage};
use crate::error::AppError;
use leptos::prelude::*;

/// Runs per page in the runs table.
pub const RUNS_PAGE_SIZE: i64 = 50;
/// Most runs one comparison shows.
pub const MAX_COMPARE: usize = 8;

#[cfg(feature = "ssr")]
fn row(r: &crate::store::tracking::Run) -> crate::dto::RunRow {
    crate::dto::RunRow {
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
            .map(|m| (m.key.clone(), crate::dto::MetricCell::of(m.value)))
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
) -> Option<crate::dto::Chart> {
    use crate::dto::MetricCell;
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
    let svg = crate::service::charts::line_chart(&drawable, "step", width, height)?;
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
    Some(crate::dto::Chart {
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
    use crate::service::context;
    use crate::store as db;
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
    use crate::domain::run_search::{parse_filter, parse_order_by};
    use crate::service::context;
    use crate::store as db;
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
    let baseline = db::tracking::baselines(&state.pool, &[experiment_id])
        .await?
        .pop()
        .map(|(_, id, _)| id);
    Ok(RunsPage {
        experiment,
        runs,
        param_keys,
        metric_keys,
        next_offset: more.then_some(offset + RUNS_PAGE_SIZE),
        baseline,
    })
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
    use crate::service::{context, now_ms};
    use crate::store as db;
    use crate::store::audit::{self, NewEntry};
    let (state, p) = context::authorized(Action::IngestTracking).await?;
    let mut tx = db::begin_write(&state.pool).await?;
    let (experiment_id, previous) =
        db::tracking::set_baseline(&mut tx, &run_id, baseline, now_ms()).await?;
    audit::append(
        &mut tx,
        NewEntry {
            actor: p.actor(),
            action: if baseline {
                "run.baseline.set"
            } else {
                "run.baseline.clear"
            }
            .into(),
            object_type: "run".into(),
            object_id: run_id,
            details: serde_json::json!({ "experiment_id": experiment_id, "previous": previous }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One run with its tags, inputs and metric charts.
#[server(prefix = "/api", endpoint = "run_detail")]
pub async fn get_run_detail(
    /// The MLflow run's id.
    run_id: String,
) -> Result<RunDetail, AppError> {
    use crate::domain::authz::Action;
    use crate::dto::DatasetView;
    use crate::service::context;
    use crate::store as db;
    let (state, p) = context::authorized(Action::ReadWorkspace).await?;
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
    let baseline = db::tracking::baselines(&state.pool, &[run.info.experiment_id])
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
        baseline,
        can_set_baseline: p.can(Action::IngestTracking),
    })
}

/// Most param axes on the parallel-coordinates chart.
pub const MAX_PARALLEL_PARAMS: usize = 12;

/// The parallel-coordinates chart: differing params (up to [`MAX_PARALLEL_PARAMS`]) then the
/// metric; `None` when fewer than two axes have values.
#[cfg(feature = "ssr")]
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
fn parallel_figure(
    runs: &[crate::dto::RunRow],
    differing: &[(String, Vec<Option<String>>)],
    metric: &str,
) -> Option<crate::dto::Figure> {
    use crate::domain::axis::Axis;
    use crate::service::charts::{parallel_coordinates, PlotAxis};
    let mut titles = Vec::new();
    let mut axes = Vec::new();
    // Per axis, each run's exact text and its position on the axis.
    let mut columns: Vec<Vec<(String, Option<f64>)>> = Vec::new();
    for (k, values) in differing
        .iter()
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .take(MAX_PARALLEL_PARAMS)
    {
        let axis = Axis::for_text(values.iter().map(|v| v.as_deref()))?;
        columns.push(
            values
                .iter()
                .map(|v| match v {
                    Some(v) => (v.clone(), axis.position_of_text(v)),
                    None => ("not set".to_string(), None),
                })
                .collect(),
        );
        titles.push(k.clone());
        axes.push(PlotAxis {
            title: k.clone(),
            ticks: axis.ticks(),
        });
    }
    let cells: Vec<Option<crate::dto::MetricCell>> = runs
        .iter()
        .map(|r| r.metrics.get(metric).copied())
        .collect();
    if let Some(axis) = Axis::for_numbers(cells.iter().filter_map(|c| c.and_then(|c| c.finite()))) {
        columns.push(
            cells
                .iter()
                .map(|c| match c {
                    Some(c) => (
                        c.text(),
                        c.finite().and_then(|v| axis.position_of_number(v)),
                    ),
                    None => ("not set".to_string(), None),
                })
                .collect(),
        );
        titles.push(metric.to_string());
        axes.push(PlotAxis {
            title: metric.to_string(),
            ticks: axis.ticks(),
        });
    }
    let lines: Vec<Vec<Option<f64>>> = (0..runs.len())
        .map(|i| columns.iter().map(|c| c[i].1).collect())
        .collect();
    let svg = parallel_coordinates(&axes, &lines, 1100, 380)?;
    let shown = differing
        .iter()
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .count();
    Some(crate::dto::Figure {
        title: format!("Differing params and {metric}"),
        description: format!(
            "Parallel coordinates: one line per run across the axes {}",
            titles.join(", ")
        ),
        svg,
        columns: std::iter::once("Run".to_string())
            .chain(titles)
            .collect(),
        rows: runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                std::iter::once(r.name.clone())
                    .chain(columns.iter().map(|c| c[i].0.clone()))
                    .collect()
            })
            .collect(),
        note: (shown > MAX_PARALLEL_PARAMS).then(|| {
            format!(
                "The first {MAX_PARALLEL_PARAMS} of {shown} differing params are drawn; all are in the table above."
            )
        }),
    })
}

/// One param against one metric, a labelled point per run; `None` when no run has both.
#[cfg(feature = "ssr")]
fn scatter_figure(
    runs: &[crate::dto::RunRow],
    param: &str,
    metric: &str,
) -> Option<crate::dto::Figure> {
    use crate::domain::axis::Axis;
    use crate::service::charts::{scatter, PlotAxis};
    let xs: Vec<Option<&str>> = runs
        .iter()
        .map(|r| r.params.get(param).map(String::as_str))
        .collect();
    let ys: Vec<Option<crate::dto::MetricCell>> = runs
        .iter()
        .map(|r| r.metrics.get(metric).copied())
        .collect();
    let x_axis = Axis::for_text(xs.iter().copied())?;
    let y_axis = Axis::for_numbers(ys.iter().filter_map(|c| c.and_then(|c| c.finite())))?;
    let points: Vec<(String, Option<f64>, Option<f64>)> = runs
        .iter()
        .zip(xs.iter().zip(&ys))
        .map(|(r, (x, y))| {
            (
                r.name.clone(),
                x.and_then(|x| x_axis.position_of_text(x)),
                y.and_then(|y| y.finite())
                    .and_then(|y| y_axis.position_of_number(y)),
            )
        })
        .collect();
    let svg = scatter(
        &PlotAxis {
            title: param.to_string(),
            ticks: x_axis.ticks(),
        },
        &PlotAxis {
            title: metric.to_string(),
            ticks: y_axis.ticks(),
        },
        &points,
        640,
        360,
    )?;
    Some(crate::dto::Figure {
        title: format!("{metric} against {param}"),
        description: format!("Scatter: one point per run, {param} across, {metric} up"),
        svg,
        columns: vec!["Run".into(), param.to_string(), metric.to_string()],
        rows: runs
            .iter()
            .zip(xs.iter().zip(&ys))
            .map(|(r, (x, y))| {
                vec![
                    r.name.clone(),
                    x.map(str::to_string).unwrap_or_else(|| "not set".into()),
                    y.map(|y| y.text()).unwrap_or_else(|| "not set".into()),
                ]
            })
            .collect(),
        note: None,
    })
}

/// A chosen key if it is among `keys`, the default when none was chosen, an error naming the
/// field when the choice is not there.
#[cfg(feature = "ssr")]
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

/// Compares runs: differing params first, metrics with the best run marked, overlaid histories,
/// parallel coordinates over the differing params and a param-against-metric scatter.
///
/// `pc_metric` is the metric on the parallel-coordinates chart; `scatter_x` (a param) and
/// `scatter_y` (a metric) choose the scatter's axes. Each defaults when absent.
#[server(prefix = "/api", endpoint = "compare_runs")]
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub async fn compare_runs(
    /// The runs to compare, in column order.
    #[server(default)]
    run_ids: Vec<String>,
    /// The metric that colours the parallel-coordinates lines.
    #[server(default)]
    pc_metric: Option<String>,
    /// The scatter plot's horizontal metric or parameter.
    #[server(default)]
    scatter_x: Option<String>,
    /// The scatter plot's vertical metric.
    #[server(default)]
    scatter_y: Option<String>,
) -> Result<CompareView, AppError> {
    use crate::domain::authz::Action;
    use crate::domain::run_search::higher_is_better;
    use crate::dto::{MetricCell, MetricComparison};
    use crate::service::context;
    use crate::store as db;
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

    let param_keys: Vec<String> = differing
        .iter()
        .map(|(k, _)| k.clone())
        .chain(identical.iter().map(|(k, _)| k.clone()))
        .collect();
    let parallel_metric = choose(
        "pc_metric",
        "metric",
        pc_metric,
        &metric_keys,
        metric_keys.first(),
    )?;
    let scatter_metric = choose(
        "scatter_y",
        "metric",
        scatter_y,
        &metric_keys,
        parallel_metric.as_ref(),
    )?;
    // By default the scatter shows the first differing param whose values are all numbers.
    let numeric_param = differing
        .iter()
        .find(|(_, v)| {
            matches!(
                crate::domain::axis::Axis::for_text(v.iter().map(|v| v.as_deref())),
                Some(crate::domain::axis::Axis::Numeric { .. })
            )
        })
        .map(|(k, _)| k);
    let scatter_param = choose(
        "scatter_x",
        "param",
        scatter_x,
        &param_keys,
        numeric_param.or(param_keys.first()),
    )?;
    let parallel = parallel_metric
        .as_deref()
        .and_then(|m| parallel_figure(&runs, &differing, m));
    let scatter = match (&scatter_param, &scatter_metric) {
        (Some(p), Some(m)) => scatter_figure(&runs, p, m),
        _ => None,
    };
    let experiment_ids: Vec<i64> = loaded.iter().map(|r| r.info.experiment_id).collect();
    let found = db::tracking::baselines(&state.pool, &experiment_ids).await?;
    let baselines: Vec<String> = found
        .iter()
        .filter(|(_, id, _)| ids.contains(id))
        .map(|(_, id, _)| id.clone())
        .collect();
    let missing_baseline = found
        .into_iter()
        .find(|(e, id, _)| Some(e) == experiment_ids.first() && !ids.contains(id))
        .filter(|_| ids.len() < MAX_COMPARE)
        .map(|(_, id, name)| (id, name));
    Ok(CompareView {
        baselines,
        missing_baseline,
        runs,
        differing,
        identical,
        metrics,
        charts,
        param_keys,
        parallel_metric,
        parallel,
        scatter_param,
        scatter_metric,
        scatter,
    })
}
