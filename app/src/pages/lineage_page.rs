//! The lineage explorer: search, a server-drawn SVG graph (links work without JS; pan, zoom and
//! arrow keys from an island), depth and focus controls, a side panel, blast radius and column lineage.

use crate::components::empty_state::EmptyState;
use crate::components::error_view::ErrorView;
use crate::components::url_state::use_query;
use crate::domain::axis::shorten_middle;
use crate::domain::url::query_string;
use crate::dto::{GraphEdge, GraphNode, LineageQuery, LineageView};
use crate::server_fns::lineage::{explore_lineage, MAX_EXPLORER_DEPTH};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;

mod detail_panel;
mod graph_frame;
use detail_panel::DetailPanel;
use graph_frame::GraphFrame;

/// What the page was asked for, kept in every link it draws.
#[derive(Clone, Debug, Default, PartialEq)]
struct Params {
    node: String,
    up: usize,
    down: usize,
    selected: String,
    focus: bool,
    blast: bool,
}

impl Params {
    fn href(&self, change: impl FnOnce(&mut Params)) -> String {
        let mut p = self.clone();
        change(&mut p);
        let mut pairs = vec![("node".to_string(), p.node.clone())];
        pairs.push(("up".into(), p.up.to_string()));
        pairs.push(("down".into(), p.down.to_string()));
        if !p.selected.is_empty() && p.selected != p.node {
            pairs.push(("selected".into(), p.selected.clone()));
        }
        if p.focus {
            pairs.push(("focus".into(), "true".into()));
        }
        if p.blast {
            pairs.push(("blast".into(), "true".into()));
        }
        format!("/lineage?{}", query_string(&pairs))
    }
}

/// `/lineage`.
#[component]
pub fn LineagePage() -> impl IntoView {
    let query = use_query();
    let data = Resource::new(
        move || {
            let q = query.read();
            let num = |k: &str| q.get(k).and_then(|v| v.parse::<usize>().ok());
            LineageQuery {
                q: q.get("q").unwrap_or_default(),
                node: q.get("node").unwrap_or_default(),
                up: num("up"),
                down: num("down"),
                selected: q.get("selected").unwrap_or_default(),
                field: q.get("field").unwrap_or_default(),
                focus: q.get("focus").is_some_and(|v| v == "true" || v == "on"),
                blast: q.get("blast").is_some_and(|v| v == "true"),
            }
        },
        explore_lineage,
    );
    view! {
        <Title text="Lineage"/>
        <h1>"Lineage"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let q = query.read_untracked().get("q").unwrap_or_default();
                match data.await {
                    Err(e) => view! { <SearchForm q=q/> <ErrorView error=e/> }.into_any(),
                    // No OpenLineage data yet; a model version opened from the registry
                    // still has its graph (its run, its deployments).
                    Ok(v) if !v.has_lineage => view! {
                        <EmptyState
                            title="No lineage yet"
                            what="A graph of datasets, jobs, training runs, model versions and deployments will be drawn here, so you can trace any model back to its data."
                            how="Pipelines post OpenLineage events to /api/v1/lineage with a scientist's API token (the Airflow, Spark and dbt integrations and the openlineage-python client all can)."
                        />
                    }.into_any(),
                    Ok(v) => view! { <SearchForm q=q/> <Explorer v=v/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SearchForm(q: String) -> impl IntoView {
    view! {
        <Form method="GET" action="/lineage" attr:class="filters lineage-search" attr:role="search" attr:aria-label="Search lineage">
            <div class="field wide">
                <label for="lineage-q">"Find a dataset, job or run"</label>
                <input id="lineage-q" name="q" value=q placeholder="e.g. loans, clean_loans, xgb"/>
            </div>
            <div class="actions"><button type="submit" class="button primary">"Search"</button></div>
        </Form>
    }
}

#[component]
fn Explorer(v: LineageView) -> AnyView {
    let Some(node) = v.node.clone() else {
        let heading = if v.hits.is_empty() {
            "Nothing matches"
        } else {
            "Open a graph"
        };
        return view! {
            <section aria-labelledby="hits-title">
                <h2 id="hits-title">{heading}</h2>
                <ul class="hits">
                    {v.hits.into_iter().map(|(t, ns, name, id)| view! {
                        <li>
                            <span class=format!("badge kind-{}", t.to_lowercase())>{t.to_lowercase()}</span> " "
                            <a href=format!("/lineage?{}", query_string(&[("node".to_string(), id)]))>{name}</a>
                            " " <span class="muted">{ns}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        }
        .into_any();
    };
    let p = Params {
        node: node.clone(),
        up: v.depth.0,
        down: v.depth.1,
        selected: v.detail.as_ref().map(|d| d.id.clone()).unwrap_or_default(),
        focus: v.focus,
        blast: v.blast.is_some(),
    };
    let hits = v.hits.clone();
    view! {
        {(!hits.is_empty()).then(|| view! {
            <ul class="hits compact" aria-label="Search results">
                {hits.into_iter().map(|(t, _, name, id)| view! {
                    <li><span class=format!("badge kind-{}", t.to_lowercase())>{t.to_lowercase()}</span> " "
                    <a href=format!("/lineage?{}", query_string(&[("node".to_string(), id)]))>{name}</a></li>
                }).collect_view()}
            </ul>
        })}
        <DepthForm p=p.clone()/>
        {v.truncated.then(|| view! { <p class="muted">"The graph stops at 2,000 nodes; lower the depth to see all of a part."</p> })}
        <div class="lineage-layout">
            <GraphView nodes=v.nodes edges=v.edges size=v.size p=p.clone()/>
            {v.detail.map(|d| view! { <DetailPanel d=d p=p.clone() blast=v.blast.clone()/> })}
        </div>
    }
    .into_any()
}

#[component]
fn DepthForm(p: Params) -> impl IntoView {
    let options = |chosen: usize| {
        (0..=MAX_EXPLORER_DEPTH)
            .map(|d| view! { <option value=d.to_string() selected=d == chosen>{d}</option> })
            .collect_view()
    };
    view! {
        <Form method="GET" action="/lineage" attr:class="filters lineage-controls" attr:aria-label="Graph controls">
            <input type="hidden" name="node" value=p.node.clone()/>
            {(!p.selected.is_empty() && p.selected != p.node).then(|| view! { <input type="hidden" name="selected" value=p.selected.clone()/> })}
            {p.blast.then(|| view! { <input type="hidden" name="blast" value="true"/> })}
            <div class="field">
                <label for="depth-up">"Upstream depth"</label>
                <select id="depth-up" name="up">{options(p.up)}</select>
            </div>
            <div class="field">
                <label for="depth-down">"Downstream depth"</label>
                <select id="depth-down" name="down">{options(p.down)}</select>
            </div>
            <div class="field">
                <label class="check" for="focus"><input type="checkbox" id="focus" name="focus" value="true" checked=p.focus/>
                    "Focus: only paths through the selected node"</label>
            </div>
            <div class="actions"><button type="submit" class="button">"Update graph"</button></div>
        </Form>
    }
}

/// The graph as SVG, drawn at its own size (so its text reads at 100% zoom) in a box that
/// scrolls, with a full-screen mode that needs no script. Every node is a link (select it;
/// works without JS). The box around it is the [`GraphFrame`] island.
#[component]
fn GraphView(nodes: Vec<GraphNode>, edges: Vec<GraphEdge>, size: (f64, f64), p: Params) -> AnyView {
    let pad = 16.0;
    // Counts sit under their node, inside the gap: only the last row needs room below.
    let full = (-pad, -pad, size.0 + 2.0 * pad, size.1 + 2.0 * pad + 14.0);
    let (vw, vh) = (full.2, full.3);
    let centre = nodes.iter().find(|n| n.id == p.node).map(|n| {
        (
            n.rect.0 + n.rect.2 / 2.0 - full.0,
            n.rect.1 + n.rect.3 / 2.0 - full.1,
        )
    });
    let selected = p.selected.clone();
    let count = nodes.len();
    view! {
        <GraphFrame vw=vw vh=vh centre=centre count=count>
            // Not role="img": the nodes inside are links.
            <svg
                aria-label="Lineage graph"
                viewBox=format!("{:.1} {:.1} {:.1} {:.1}", full.0, full.1, full.2, full.3)
                style=svg_size_style(None, vw)
            >
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head"/>
                    </marker>
                </defs>
                <g class="edges">
                    {edges.into_iter().map(|e| view! {
                        <path d=e.d class=if e.highlighted { "edge lit" } else { "edge" } marker-end="url(#arrow)"/>
                    }).collect_view()}
                </g>
                // Nodes are SVG links, written as markup: an `a` made by the view macro would be
                // an HTML element, which SVG does not draw.
                <g class="nodes" inner_html=nodes_markup(&nodes, &p, &selected)></g>
            </svg>
        </GraphFrame>
    }
    .into_any()
}

/// The SVG's size: `None` draws it at its own size (at least 80% of it, so text stays
/// readable and the box scrolls instead, or narrower to fit a wide window); `Some(s)` draws it
/// at `s` × its size.
fn svg_size_style(scale: Option<f64>, vw: f64) -> String {
    match scale {
        Some(s) => format!("width: {:.0}px; max-width: none; min-width: 0", vw * s),
        None => format!(
            "max-width: {vw:.0}px; min-width: {:.0}px",
            (vw * 0.8).min(900.0)
        ),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The nodes as SVG markup: each a link that selects it, with its name, kind, state and the
/// counts of neighbours beyond the depth shown.
fn nodes_markup(nodes: &[GraphNode], p: &Params, selected: &str) -> String {
    let mut out = String::new();
    // In reading order (layer by layer, top to bottom), which is also the tab order.
    let mut ordered: Vec<&GraphNode> = nodes.iter().collect();
    ordered.sort_by(|a, b| {
        a.rect
            .0
            .total_cmp(&b.rect.0)
            .then(a.rect.1.total_cmp(&b.rect.1))
    });
    for n in ordered {
        let (x, y, w, h) = n.rect;
        let mut cls = format!("node node-{}", n.kind);
        if let Some(s) = &n.state {
            cls.push_str(&format!(" state-{}", s.to_lowercase()));
        }
        if n.highlighted {
            cls.push_str(" lit");
        }
        if n.id == selected {
            cls.push_str(" selected");
        }
        let href = p.href(|q| q.selected = n.id.clone());
        // The link's name is its title (the whole name), which also shows on hover.
        let title = format!("{} {} ({})", n.kind, n.label, n.sublabel);
        let sub = match &n.state {
            Some(s) => format!("{} · {} · {s}", n.kind, shorten_middle(&n.sublabel, 16)),
            None => format!("{} · {}", n.kind, shorten_middle(&n.sublabel, 24)),
        };
        out.push_str(&format!(
            r#"<a href="{href}" class="{cls}" data-node="{id}"><title>{title}</title><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="8"/><text x="{tx:.1}" y="{ly:.1}" class="label">{label}</text><text x="{tx:.1}" y="{sy:.1}" class="sub">{sub}</text>"#,
            href = escape(&href),
            cls = cls,
            id = escape(&n.id),
            title = escape(&title),
            tx = x + 12.0,
            ly = y + 21.0,
            sy = y + 39.0,
            label = escape(&shorten_middle(&n.label, 22)),
            sub = escape(&sub),
        ));
        // Counts of neighbours not drawn sit under the node's left (upstream) and right
        // (downstream) corners, in the gap between rows, never over a node or an edge's end.
        if n.hidden_up > 0 {
            out.push_str(&format!(
                r#"<text x="{:.1}" y="{:.1}" class="hidden-count">+{} upstream</text>"#,
                x + 2.0,
                y + h + 13.0,
                n.hidden_up
            ));
        }
        if n.hidden_down > 0 {
            out.push_str(&format!(
                r#"<text x="{:.1}" y="{:.1}" class="hidden-count" text-anchor="end">+{} downstream</text>"#,
                x + w - 2.0,
                y + h + 13.0,
                n.hidden_down
            ));
        }
        out.push_str("</a>");
    }
    out
}
