//! Charts rendered on the server to SVG with plotters, inserted into pages as markup.

use crate::domain::downsample::min_max;
use crate::domain::palette::SERIES;
use plotters::prelude::*;

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
