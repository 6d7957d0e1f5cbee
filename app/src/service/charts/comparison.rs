//! The run comparison's charts: parallel coordinates over parameters and metrics, and a
//! scatter of two of them.

use super::{text_style, Chart, PlotAxis};
use crate::domain::palette::SERIES;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

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

fn draw_segment(chart: &mut Chart<'_, '_>, segment: &[(f64, f64)], colour: RGBColor) -> Option<()> {
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
