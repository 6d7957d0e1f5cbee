//! Charts rendered on the server to SVG with plotters, inserted into pages as markup.

use crate::domain::downsample::min_max;
use crate::domain::palette::SERIES;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod ab_tests;
mod comparison;

pub use ab_tests::{cumulative_lift, forest_plot, ForestRow};
pub use comparison::{parallel_coordinates, scatter};

/// A chart drawn into an SVG string over numbers on both axes.
type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

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
