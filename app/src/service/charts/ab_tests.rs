//! The A/B test page's charts: the forest plot of lifts and the cumulative lift by day.

use super::{text_style, Chart};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

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
pub fn forest_plot(rows: &[ForestRow], width: u32) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let (x0, x1) = forest_range(rows);
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
            draw_forest_row(&mut chart, r, y)?;
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

/// The plot's x range: every finite lift, bound and tolerance, and zero, with a margin.
fn forest_range(rows: &[ForestRow]) -> (f64, f64) {
    let (mut x0, mut x1) = (0.0f64, 0.0f64);
    for r in rows {
        for v in [r.low, r.high, r.value]
            .into_iter()
            .chain(r.tolerance)
            .filter(|v| v.is_finite())
        {
            x0 = x0.min(v);
            x1 = x1.max(v);
        }
    }
    let pad = ((x1 - x0) * 0.08).max(0.005);
    (x0 - pad, x1 + pad)
}

/// One row at height `y`: the interval as a bar, the lift as a dot, the tolerance dashed.
fn draw_forest_row(chart: &mut Chart<'_, '_>, r: &ForestRow, y: f64) -> Option<()> {
    let finite = |v: f64| v.is_finite();
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
    Some(())
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
