//! Charts rendered on the server to SVG with plotters, inserted into pages as markup.

use crate::domain::downsample::min_max;
use crate::domain::palette::SERIES;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A line chart of several series over steps, downsampled to the chart width.
/// Returns `None` when no series has a finite point.
pub fn line_chart(
    series: &[(String, Vec<(f64, f64)>)],
    x_label: &str,
    width: u32,
    height: u32,
) -> Option<String> {
    let plot_width = width.saturating_sub(80).max(10) as usize;
    let series: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(n, pts)| (n.clone(), min_max(pts, plot_width / 2)))
        .collect();
    let all = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return None;
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .light_line_style(RGBColor(235, 235, 235))
            .label_style(("sans-serif", 12))
            .draw()
            .ok()?;
        for (i, (_, pts)) in series.iter().enumerate() {
            let (r, g, b) = SERIES[i % SERIES.len()];
            let colour = RGBColor(r, g, b);
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(out)
}

/// An axis as drawn: its title and its ticks at positions in `0.0..=1.0`.
pub struct PlotAxis {
    /// Axis title.
    pub title: String,
    /// Tick positions and labels.
    pub ticks: Vec<(f64, String)>,
}

fn text_style(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", size).into_font())
        .color(&RGBColor(60, 60, 60))
        .pos(Pos::new(h, v))
}

/// A parallel-coordinates chart: one vertical axis per entry of `axes`, one polyline per
/// line in series colour order, through each line's positions (`0.0..=1.0`, bottom to top).
/// A missing position breaks the line there. Returns `None` with fewer than two axes.
pub fn parallel_coordinates(
    axes: &[PlotAxis],
    lines: &[Vec<Option<f64>>],
    width: u32,
    height: u32,
) -> Option<String> {
    if axes.len() < 2 {
        return None;
    }
    let n = axes.len() as f64;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(28)
            .margin_bottom(12)
            .margin_left(50)
            .margin_right(50)
            .build_cartesian_2d(-0.02..(n - 0.98), -0.02..1.02)
            .ok()?;
        let axis_colour = RGBColor(120, 120, 120);
        for (i, a) in axes.iter().enumerate() {
            let x = i as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, 0.0), (x, 1.0)],
                    axis_colour.stroke_width(1),
                )))
                .ok()?;
            chart
                .draw_series(a.ticks.iter().map(|(y, label)| {
                    EmptyElement::at((x, *y))
                        + PathElement::new(vec![(-3, 0), (3, 0)], axis_colour)
                        + Text::new(
                            label.clone(),
                            (5, 0),
                            text_style(11, HPos::Left, VPos::Center),
                        )
                }))
                .ok()?;
        }
        for (i, line) in lines.iter().enumerate() {
            let (r, g, b) = SERIES[i % SERIES.len()];
            let colour = RGBColor(r, g, b);
            let mut segment: Vec<(f64, f64)> = Vec::new();
            for (a, p) in line.iter().enumerate() {
                match p {
                    Some(y) => segment.push((a as f64, *y)),
                    None => {
                        draw_segment(&mut chart, &segment, colour)?;
                        segment.clear();
                    }
                }
            }
            draw_segment(&mut chart, &segment, colour)?;
            chart
                .draw_series(
                    line.iter().enumerate().filter_map(|(a, p)| {
                        Some(Circle::new((a as f64, (*p)?), 3, colour.filled()))
                    }),
                )
                .ok()?;
        }
        // Titles above the axes, in the margin.
        let plot = chart.plotting_area();
        let (px, _) = plot.get_pixel_range();
        let span = (px.end - px.start) as f64;
        for (i, a) in axes.iter().enumerate() {
            let x = px.start as f64 + span * (i as f64 + 0.02) / n;
            root.draw(&Text::new(
                crate::domain::axis::shorten(&a.title, 18),
                (x.round() as i32, 14),
                text_style(12, HPos::Center, VPos::Center),
            ))
            .ok()?;
        }
        root.present().ok()?;
    }
    Some(out)
}

fn draw_segment(
    chart: &mut ChartContext<
        '_,
        SVGBackend<'_>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    segment: &[(f64, f64)],
    colour: RGBColor,
) -> Option<()> {
    if segment.len() > 1 {
        chart
            .draw_series(LineSeries::new(
                segment.iter().copied(),
                colour.stroke_width(2),
            ))
            .ok()?;
    }
    Some(())
}

/// A scatter of labelled points at positions in `0.0..=1.0` on both axes, in series colour
/// order; points with a missing coordinate are left out. Returns `None` when none remains.
pub fn scatter(
    x: &PlotAxis,
    y: &PlotAxis,
    points: &[(String, Option<f64>, Option<f64>)],
    width: u32,
    height: u32,
) -> Option<String> {
    if !points.iter().any(|(_, a, b)| a.is_some() && b.is_some()) {
        return None;
    }
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(40)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.05..1.05, -0.05..1.05)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc(x.title.as_str())
            .y_desc(y.title.as_str())
            .x_labels(0)
            .y_labels(0)
            .light_line_style(RGBColor(235, 235, 235))
            .label_style(("sans-serif", 12))
            .draw()
            .ok()?;
        let axis_colour = RGBColor(120, 120, 120);
        chart
            .draw_series(x.ticks.iter().map(|(p, label)| {
                EmptyElement::at((*p, -0.05))
                    + PathElement::new(vec![(0, 0), (0, 4)], axis_colour)
                    + Text::new(
                        label.clone(),
                        (0, 8),
                        text_style(11, HPos::Center, VPos::Top),
                    )
            }))
            .ok()?;
        chart
            .draw_series(y.ticks.iter().map(|(p, label)| {
                EmptyElement::at((-0.05, *p))
                    + PathElement::new(vec![(-4, 0), (0, 0)], axis_colour)
                    + Text::new(
                        label.clone(),
                        (-8, 0),
                        text_style(11, HPos::Right, VPos::Center),
                    )
            }))
            .ok()?;
        for (i, (name, px, py)) in points.iter().enumerate() {
            let (Some(px), Some(py)) = (px, py) else {
                continue;
            };
            let (r, g, b) = SERIES[i % SERIES.len()];
            let colour = RGBColor(r, g, b);
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((*px, *py))
                        + Circle::new((0, 0), 5, colour.filled())
                        + Text::new(
                            crate::domain::axis::shorten(name, 16),
                            (8, -8),
                            text_style(11, HPos::Left, VPos::Center),
                        ),
                ))
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(out)
}

/// One interval of a forest plot.
pub struct ForestRow {
    /// Label at the left (metric · variant).
    pub label: String,
    /// Point estimate (relative lift).
    pub value: f64,
    /// Interval.
    pub low: f64,
    /// Interval.
    pub high: f64,
    /// +1 significantly better, −1 worse, 0 neither (colours the interval).
    pub outcome: i8,
    /// Guardrail tolerance to mark (the worst acceptable lift, signed), if any.
    pub tolerance: Option<f64>,
}

fn outcome_colour(outcome: i8) -> RGBColor {
    match outcome {
        1 => RGBColor(28, 140, 72),
        -1 => RGBColor(200, 40, 40),
        _ => RGBColor(90, 90, 90),
    }
}

fn pct_tick(v: f64) -> String {
    format!("{:+.1}%", v * 100.0).replace("+0.0%", "0%")
}

/// A forest plot of relative lifts with their intervals, a zero line and each guardrail's
/// tolerance (dashed). Returns `None` without rows.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub fn forest_plot(rows: &[ForestRow], width: u32) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let finite = |v: f64| v.is_finite();
    let (mut x0, mut x1) = (0.0f64, 0.0f64);
    for r in rows {
        for v in [r.low, r.high, r.value]
            .into_iter()
            .chain(r.tolerance)
            .filter(|v| finite(*v))
        {
            x0 = x0.min(v);
            x1 = x1.max(v);
        }
    }
    let pad = ((x1 - x0) * 0.08).max(0.005);
    let (x0, x1) = (x0 - pad, x1 + pad);
    let n = rows.len() as f64;
    let height = (40 + 30 * rows.len()) as u32;
    let label_w = 190u32;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_left(label_w)
            .x_label_area_size(26)
            .build_cartesian_2d(x0..x1, 0.0..n)
            .ok()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_labels(7)
            .x_label_formatter(&|v| pct_tick(*v))
            .light_line_style(RGBColor(240, 240, 240))
            .label_style(("sans-serif", 12))
            .draw()
            .ok()?;
        let grey = RGBColor(120, 120, 120);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (0.0, n)],
                grey.stroke_width(1),
            )))
            .ok()?;
        for (i, r) in rows.iter().enumerate() {
            let y = n - i as f64 - 0.5;
            let colour = outcome_colour(r.outcome);
            if finite(r.low) && finite(r.high) {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(r.low, y), (r.high, y)],
                        colour.stroke_width(3),
                    )))
                    .ok()?;
            }
            if finite(r.value) {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (r.value, y),
                        5,
                        colour.filled(),
                    )))
                    .ok()?;
            }
            if let Some(t) = r.tolerance.filter(|t| finite(*t)) {
                // Dashed: short segments along the row's band.
                let segs = (0..4).map(|k| {
                    let a = y - 0.4 + k as f64 * 0.22;
                    PathElement::new(
                        vec![(t, a), (t, a + 0.12)],
                        RGBColor(200, 40, 40).stroke_width(2),
                    )
                });
                chart.draw_series(segs).ok()?;
            }
            let (_, py) = chart.backend_coord(&(x0, y));
            root.draw(&Text::new(
                crate::domain::axis::shorten(&r.label, 28),
                (label_w as i32 - 8, py),
                text_style(12, HPos::Right, VPos::Center),
            ))
            .ok()?;
        }
        root.present().ok()?;
    }
    Some(out)
}

/// The cumulative relative lift by day with its interval as a band, and a zero line.
/// `points` are (day index, lift, low, high); `labels` name the days. `None` without points.
pub fn cumulative_lift(
    points: &[(f64, f64, f64, f64)],
    labels: &[String],
    width: u32,
    height: u32,
) -> Option<String> {
    let pts: Vec<&(f64, f64, f64, f64)> = points
        .iter()
        .filter(|p| p.1.is_finite() && p.2.is_finite() && p.3.is_finite())
        .collect();
    if pts.is_empty() {
        return None;
    }
    let (mut y0, mut y1) = (0.0f64, 0.0f64);
    for p in &pts {
        y0 = y0.min(p.2);
        y1 = y1.max(p.3);
    }
    let pad = ((y1 - y0) * 0.08).max(0.005);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let x_max = pts.iter().map(|p| p.0).fold(0.0, f64::max).max(1.0);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.2..x_max + 0.2, y0..y1)
            .ok()?;
        let label_of = |v: &f64| -> String {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                labels
                    .get(i as usize)
                    .map(|l| l.get(5..).unwrap_or(l).to_owned())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(labels.len().clamp(2, 10))
            .x_label_formatter(&label_of)
            .y_label_formatter(&|v| pct_tick(*v))
            .light_line_style(RGBColor(240, 240, 240))
            .label_style(("sans-serif", 12))
            .draw()
            .ok()?;
        let blue = RGBColor(31, 95, 191);
        let band: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| (p.0, p.3))
            .chain(pts.iter().rev().map(|p| (p.0, p.2)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, blue.mix(0.18).filled())))
            .ok()?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.2, 0.0), (x_max + 0.2, 0.0)],
                RGBColor(120, 120, 120).stroke_width(1),
            )))
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                blue.stroke_width(2),
            ))
            .ok()?;
        chart
            .draw_series(
                pts.iter()
                    .map(|p| Circle::new((p.0, p.1), 3, blue.filled())),
            )
            .ok()?;
        root.present().ok()?;
    }
    Some(out)
}

/// Bars of one metric per group, the reference group's bar darker, and the band the policy
/// allows around the reference (`band` = the ratio bounds) shaded. `None` without groups.
pub fn group_bars(
    groups: &[(String, f64, bool, bool)],
    band: Option<(f64, f64)>,
    metric: &str,
    width: u32,
) -> Option<String> {
    if groups.is_empty() {
        return None;
    }
    let reference = groups.iter().find(|g| g.2).map(|g| g.1);
    let mut top = groups.iter().map(|g| g.1).fold(0.0f64, f64::max);
    if let (Some(r), Some((_, hi))) = (reference, band) {
        top = top.max(r * hi);
    }
    let top = (top * 1.1).max(0.01);
    let n = groups.len() as f64;
    let height = 260u32;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..n, 0.0..top)
            .ok()?;
        let label_of = |v: &f64| -> String {
            let i = (v - 0.5).round();
            if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                groups
                    .get(i as usize)
                    .map(|g| crate::domain::axis::shorten(&g.0, 16))
                    .unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.len() * 2 + 1)
            .x_label_formatter(&label_of)
            .y_desc(metric)
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .light_line_style(RGBColor(240, 240, 240))
            .label_style(("sans-serif", 12))
            .draw()
            .ok()?;
        if let (Some(r), Some((lo, hi))) = (reference, band) {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, r * lo), (n, (r * hi).min(top))],
                    RGBColor(28, 140, 72).mix(0.12).filled(),
                )))
                .ok()?;
        }
        chart
            .draw_series(groups.iter().enumerate().map(|(i, (_, v, is_ref, pass))| {
                let colour = if *is_ref {
                    RGBColor(60, 60, 60)
                } else if *pass {
                    RGBColor(31, 95, 191)
                } else {
                    RGBColor(200, 40, 40)
                };
                Rectangle::new(
                    [(i as f64 + 0.2, 0.0), (i as f64 + 0.8, *v)],
                    colour.filled(),
                )
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(out)
}
