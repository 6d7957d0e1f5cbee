//! A server-rendered chart with its exact values in a table behind a toggle.

use crate::domain::palette;
use crate::dto::Chart;
use leptos::prelude::*;

/// The chart, and a "Values" table (step × series) for exact numbers and screen readers.
#[component]
pub fn ChartFigure(
    /// The rendered SVG with its caption and accessible data table.
    chart: Chart,
) -> AnyView {
    let truncated = chart.truncated;
    view! {
        <figure class="chart">
            <figcaption>{chart.key.clone()}</figcaption>
            <div class="svg" inner_html=chart.svg role="img" aria-label=format!("History of {}", chart.key)></div>
            <details class="values">
                <summary>"Values of " {chart.key.clone()}</summary>
                <div class="table-wrap">
                    <table>
                        <thead>
                            <tr>
                                <th scope="col">"Step"</th>
                                {chart.series.iter().enumerate().map(|(i, n)| view! {
                                    <th scope="col"><span class="swatch" style=format!("background:{}", palette::css(i)) aria-hidden="true"></span>{n.clone()}</th>
                                }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            {chart.rows.into_iter().map(|(step, cells)| view! {
                                <tr>
                                    <th scope="row" class="num">{step}</th>
                                    {cells.into_iter().map(|c| view! { <td class="num">{c.map(|c| c.text()).unwrap_or_default()}</td> }).collect_view()}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {truncated.then(|| view! { <p class="muted">"Only the first 1,000 steps are listed."</p> })}
            </details>
        </figure>
    }
    .into_any()
}
