//! The figures of the run pages: a metric's history (one series per run, with its value
//! table), parallel coordinates over differing params, and a param-against-metric scatter.

use crate::domain::axis::Axis;
use crate::dto::{Chart, Figure, MetricCell, RunRow};
use crate::service::charts::{line_chart, parallel_coordinates, scatter, PlotAxis};

/// Most value-table rows under one chart.
pub const MAX_CHART_ROWS: usize = 1000;

/// A named series of (step, value) points; `None` is NaN.
pub(super) type Series = (String, Vec<(i64, Option<f64>)>);

/// A chart of one metric for several series, with its value table; `None` when no series has
/// two finite points to draw.
pub(super) fn history_chart(
    key: &str,
    series: Vec<Series>,
    width: u32,
    height: u32,
) -> Option<Chart> {
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
    let svg = line_chart(&drawable, "step", width, height)?;
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
    Some(Chart {
        key: key.to_owned(),
        svg,
        series: series.into_iter().map(|(n, _)| n).collect(),
        rows,
        truncated,
    })
}

/// Most param axes on the parallel-coordinates chart.
pub const MAX_PARALLEL_PARAMS: usize = 12;

/// One axis of the parallel-coordinates chart, with each run's exact text and its position
/// on the axis (`None` when not set or not on it).
struct Column {
    axis: PlotAxis,
    cells: Vec<(String, Option<f64>)>,
}

/// The axes of the params that have a value in some run, at most [`MAX_PARALLEL_PARAMS`];
/// `None` when a param's values cannot share an axis.
fn param_columns(differing: &[(String, Vec<Option<String>>)]) -> Option<Vec<Column>> {
    let mut columns = Vec::new();
    for (k, values) in differing
        .iter()
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .take(MAX_PARALLEL_PARAMS)
    {
        let axis = Axis::for_text(values.iter().map(|v| v.as_deref()))?;
        let cells = values
            .iter()
            .map(|v| match v {
                Some(v) => (v.clone(), axis.position_of_text(v)),
                None => ("not set".to_string(), None),
            })
            .collect();
        columns.push(Column {
            axis: PlotAxis {
                title: k.clone(),
                ticks: axis.ticks(),
            },
            cells,
        });
    }
    Some(columns)
}

/// The metric's axis, when some run has a finite value of it.
fn metric_column(runs: &[RunRow], metric: &str) -> Option<Column> {
    let cells: Vec<Option<MetricCell>> = runs
        .iter()
        .map(|r| r.metrics.get(metric).copied())
        .collect();
    let axis = Axis::for_numbers(cells.iter().filter_map(|c| c.and_then(|c| c.finite())))?;
    let cells = cells
        .iter()
        .map(|c| match c {
            Some(c) => (
                c.text(),
                c.finite().and_then(|v| axis.position_of_number(v)),
            ),
            None => ("not set".to_string(), None),
        })
        .collect();
    Some(Column {
        axis: PlotAxis {
            title: metric.to_string(),
            ticks: axis.ticks(),
        },
        cells,
    })
}

/// The parallel-coordinates chart: differing params (up to [`MAX_PARALLEL_PARAMS`]) then the
/// metric; `None` when fewer than two axes have values.
pub(super) fn parallel_figure(
    runs: &[RunRow],
    differing: &[(String, Vec<Option<String>>)],
    metric: &str,
) -> Option<Figure> {
    let mut columns = param_columns(differing)?;
    columns.extend(metric_column(runs, metric));
    let (axes, cells): (Vec<PlotAxis>, Vec<_>) =
        columns.into_iter().map(|c| (c.axis, c.cells)).unzip();
    let lines: Vec<Vec<Option<f64>>> = (0..runs.len())
        .map(|i| cells.iter().map(|c| c[i].1).collect())
        .collect();
    let svg = parallel_coordinates(&axes, &lines, 1100, 380)?;
    let titles: Vec<String> = axes.into_iter().map(|a| a.title).collect();
    let shown = differing
        .iter()
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .count();
    Some(Figure {
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
                    .chain(cells.iter().map(|c| c[i].0.clone()))
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
pub(super) fn scatter_figure(runs: &[RunRow], param: &str, metric: &str) -> Option<Figure> {
    let xs: Vec<Option<&str>> = runs
        .iter()
        .map(|r| r.params.get(param).map(String::as_str))
        .collect();
    let ys: Vec<Option<MetricCell>> = runs
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
    Some(Figure {
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
