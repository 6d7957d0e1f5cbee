//! The lineage explorer: search, a server-drawn SVG graph (links work without JS; pan, zoom and
//! arrow keys from an island), depth and focus controls, a side panel, blast radius and column lineage.

use crate::components::empty_state::EmptyState;
use crate::components::error_view::ErrorView;
use crate::components::url_state::use_query;
use crate::components::when::Time;
use crate::domain::axis::{shorten, shorten_middle};
use crate::domain::url::query_string;
use crate::dto::{GraphEdge, GraphNode, LineageQuery, LineageView, NodeDetail};
use crate::server_fns::lineage::{explore_lineage, MAX_EXPLORER_DEPTH};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;

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
                    Ok(v) if v.totals == (0, 0) && v.nodes.is_empty() => view! {
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

/// The lineage graph's figure: tools, the scrolling box around the server-drawn SVG
/// (`children`, never re-rendered in the browser) and the caption. An island: once hydrated,
/// the view starts on the centre node, buttons zoom and fit the whole graph in view, dragging
/// pans, Ctrl + wheel zooms, and the arrow keys move between nodes (left/right across layers,
/// up/down within one). Without JavaScript the zoom buttons stay hidden.
#[island]
fn GraphFrame(
    /// The drawing's width with its margins, in SVG units (pixels at 100%).
    vw: f64,
    /// The drawing's height with its margins.
    vh: f64,
    /// The centre node's middle in the drawing, if it is drawn.
    centre: Option<(f64, f64)>,
    /// How many nodes are drawn.
    count: usize,
    children: Children,
) -> impl IntoView {
    // None: as drawn by the server; Some(s): s × its size.
    let scale = RwSignal::new(None::<f64>);
    let hydrated = RwSignal::new(false);
    let scroller = NodeRef::<leptos::html::Div>::new();
    let current_scale = move || {
        scale.get_untracked().unwrap_or_else(|| {
            scroller
                .get_untracked()
                .map(|el| (f64::from(el.client_width()) / vw).min(1.0))
                .unwrap_or(1.0)
        })
    };
    Effect::new(move |_| {
        hydrated.set(true);
        // Start on the centre node when the graph is larger than its box.
        if let (Some(el), Some((cx, cy))) = (scroller.get_untracked(), centre) {
            let s = (f64::from(el.client_width()) / vw).min(1.0);
            el.set_scroll_left((cx * s - f64::from(el.client_width()) / 2.0).max(0.0) as i32);
            el.set_scroll_top((cy * s - f64::from(el.client_height()) / 2.0).max(0.0) as i32);
        }
    });
    // The SVG is the server's markup: its size is set on the element.
    Effect::new(move |_| {
        let style = svg_size_style(scale.get(), vw);
        if let Some(Ok(Some(svg))) = scroller.get().map(|el| el.query_selector("svg")) {
            let _ = svg.set_attribute("style", &style);
        }
    });
    let zoom = move |factor: f64| {
        let s = (current_scale() * factor).clamp(0.05, 2.5);
        scale.set(Some(s));
    };
    let fit = move || {
        if let Some(el) = scroller.get_untracked() {
            let (w, h) = (
                f64::from(el.client_width()),
                f64::from(el.client_height().max(240)),
            );
            scale.set(Some((w / vw).min(h / vh).min(1.0)));
        }
    };
    let drag = StoredValue::new(None::<(f64, f64)>);
    view! {
        <figure class="lineage-graph" id="graph" aria-label=format!("Lineage graph of {count} nodes")>
            <div class="graph-tools">
                // rel="external": the browser follows these (the router would push the state
                // without moving :target, which is what shows the figure full screen).
                <a class="button graph-full" href="#graph" rel="external">"Full screen"</a>
                <a class="button graph-exit" href="#" rel="external">"Exit full screen"</a>
                <span class="graph-zoom" hidden=move || !hydrated.get()>
                    <button type="button" class="button" on:click=move |_| zoom(1.25) aria-label="Zoom in">"+"</button>
                    " "<button type="button" class="button" on:click=move |_| zoom(0.8) aria-label="Zoom out">"−"</button>
                    " "<button type="button" class="button" on:click=move |_| fit()>"Fit to view"</button>
                    " "<button type="button" class="button" on:click=move |_| scale.set(Some(1.0))>"Actual size"</button>
                </span>
                <span class="muted">{format!("{count} nodes")}</span>
            </div>
            <div
                class="graph-scroll"
                node_ref=scroller
                on:wheel=move |e: leptos::ev::WheelEvent| {
                    if e.ctrl_key() || e.meta_key() {
                        e.prevent_default();
                        zoom(if e.delta_y() > 0.0 { 0.9 } else { 1.1 });
                    }
                }
                on:pointerdown=move |e: leptos::ev::PointerEvent| {
                    if e.button() == 0 {
                        drag.set_value(Some((e.client_x() as f64, e.client_y() as f64)));
                    }
                }
                on:pointerup=move |_| drag.set_value(None)
                on:pointerleave=move |_| drag.set_value(None)
                on:pointermove=move |e: leptos::ev::PointerEvent| {
                    if let (Some((sx, sy)), Some(el)) = (drag.get_value(), scroller.get_untracked()) {
                        let (cx, cy) = (e.client_x() as f64, e.client_y() as f64);
                        el.set_scroll_left(el.scroll_left() - (cx - sx) as i32);
                        el.set_scroll_top(el.scroll_top() - (cy - sy) as i32);
                        drag.set_value(Some((cx, cy)));
                    }
                }
                on:keydown=move |e: leptos::ev::KeyboardEvent| {
                    let Some(el) = scroller.get_untracked() else { return };
                    if let Some(next) = arrow_target(&e, &node_places(&el)) {
                        e.prevent_default();
                        focus_node(&el, &next);
                    }
                }
            >
                {children()}
            </div>
            <figcaption class="muted">"Select a node for its details; names are shortened in the middle, the full name is on hover and in the details. "
                "Counts such as “+2 downstream” are neighbours beyond the depth shown. Once the page is interactive: drag to pan, Ctrl + wheel to zoom, arrow keys to move between nodes."</figcaption>
        </figure>
    }
}

/// Every drawn node with the top-left corner of its box, read from the SVG the server drew.
fn node_places(root: &web_sys::Element) -> Vec<(String, f64, f64)> {
    let Ok(links) = root.query_selector_all("a[data-node]") else {
        return Vec::new();
    };
    let coord = |el: &web_sys::Element, name: &str| {
        el.get_attribute(name).and_then(|v| v.parse::<f64>().ok())
    };
    (0..links.length())
        .filter_map(|i| {
            use wasm_bindgen::JsCast;
            let link = links.item(i)?.dyn_into::<web_sys::Element>().ok()?;
            let rect = link.query_selector("rect").ok()??;
            Some((
                link.get_attribute("data-node")?,
                coord(&rect, "x")?,
                coord(&rect, "y")?,
            ))
        })
        .collect()
}

/// The node an arrow key moves to from the focused one: the nearest in the next layer
/// (left/right) or the next one up or down in the same layer.
fn arrow_target(e: &leptos::ev::KeyboardEvent, places: &[(String, f64, f64)]) -> Option<String> {
    use wasm_bindgen::JsCast;
    let key = e.key();
    if !matches!(
        key.as_str(),
        "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown"
    ) {
        return None;
    }
    let target = e.target()?.dyn_into::<web_sys::Element>().ok()?;
    let id = target
        .closest("[data-node]")
        .ok()??
        .get_attribute("data-node")?;
    let &(_, x, y) = places.iter().find(|(n, _, _)| *n == id)?;
    let pick = |keep: &dyn Fn(f64, f64) -> bool, cost: &dyn Fn(f64, f64) -> f64| {
        places
            .iter()
            .filter(|(n, nx, ny)| *n != id && keep(*nx, *ny))
            .min_by(|a, b| cost(a.1, a.2).total_cmp(&cost(b.1, b.2)))
            .map(|(n, _, _)| n.clone())
    };
    match key.as_str() {
        "ArrowRight" => pick(&|nx, _| nx > x + 1.0, &|nx, ny| {
            (nx - x) * 10.0 + (ny - y).abs()
        }),
        "ArrowLeft" => pick(&|nx, _| nx < x - 1.0, &|nx, ny| {
            (x - nx) * 10.0 + (ny - y).abs()
        }),
        "ArrowDown" => pick(&|nx, ny| (nx - x).abs() < 1.0 && ny > y, &|_, ny| ny - y),
        _ => pick(&|nx, ny| (nx - x).abs() < 1.0 && ny < y, &|_, ny| y - ny),
    }
}

/// Moves the keyboard focus to a node's link inside `root`.
fn focus_node(root: &web_sys::Element, id: &str) {
    use wasm_bindgen::JsCast;
    // A CSS string: backslashes and quotes escaped.
    let quoted = id.replace('\\', "\\\\").replace('"', "\\\"");
    if let Ok(Some(el)) = root.query_selector(&format!("a[data-node=\"{quoted}\"]")) {
        if let Ok(link) = el.dyn_into::<web_sys::SvgElement>() {
            let _ = link.focus();
        }
    }
}

#[component]
fn DetailPanel(d: NodeDetail, p: Params, blast: Option<Vec<(String, String, String)>>) -> AnyView {
    let recentre = p.href(|q| {
        q.node = d.id.clone();
        q.selected = String::new();
    });
    let blast_link = p.href(|q| q.blast = !q.blast);
    let field_link = {
        let p = p.clone();
        move |f: &str| {
            format!(
                "{}&{}",
                p.href(|_| {}),
                query_string(&[("field".to_string(), f.to_string())])
            )
        }
    };
    let compare = match d.training_runs.len() {
        0 => None,
        1 => Some((
            format!("/runs/run/{}", d.training_runs[0].0),
            format!("Open training run {}", d.training_runs[0].1),
        )),
        _ => Some((
            format!(
                "/runs/compare?{}",
                query_string(
                    &d.training_runs
                        .iter()
                        .map(|(id, _)| ("run".to_string(), id.clone()))
                        .collect::<Vec<_>>()
                )
            ),
            format!("Compare the {} training runs", d.training_runs.len()),
        )),
    };
    view! {
        <aside class="lineage-panel card" aria-labelledby="panel-title">
            <header>
            <h2 id="panel-title"><span class=format!("badge kind-{}", d.kind)>{d.kind.clone()}</span> " " {d.name.clone()}</h2>
            {(!d.namespace.is_empty()).then(|| view! { <p class="muted"><code>{d.namespace.clone()}</code></p> })}
            <p class="panel-links">
                {(d.id != p.node).then(|| view! { <a href=recentre.clone()>"Centre the graph here"</a> " · " })}
                <a href=blast_link>{if p.blast { "Hide blast radius" } else { "Show blast radius" }}</a>
                {compare.map(|(href, text)| view! { " · " <a href=href>{text}</a> })}
            </p>
            </header>
            {blast.map(|list| view! { <BlastList list=list/> })}
            {(!d.fields.is_empty()).then(|| view! { <section>
                <h3>"Schema"</h3>
                <table class="kv"><thead><tr><th scope="col">"Field"</th><th scope="col">"Type"</th></tr></thead><tbody>
                    {d.fields.iter().map(|(name, ty, desc)| view! {
                        <tr>
                            <th scope="row"><a href=field_link(name) title="Where this field comes from">{name.clone()}</a></th>
                            <td>{ty.clone()} {(!desc.is_empty()).then(|| view! { <div class="muted">{desc.clone()}</div> })}</td>
                        </tr>
                    }).collect_view()}
                </tbody></table>
            </section> })}
            {d.column_lineage.clone().map(|(field, sources)| view! { <section>
                <h3>"Column lineage of " <code>{field}</code></h3>
                {if sources.is_empty() {
                    view! { <p class="muted">"No column lineage was reported for this field."</p> }.into_any()
                } else {
                    view! { <ul class="column-lineage">{sources.into_iter().map(|(ds, f)| view! {
                        <li><code>{f}</code> " from " <a href=format!("/lineage?{}", query_string(&[("node".to_string(), ds.clone())]))>{ds.clone()}</a></li>
                    }).collect_view()}</ul> }.into_any()
                }}
            </section> })}
            {(!d.runs.is_empty()).then(|| view! { <section>
                <h3>"Latest runs"</h3>
                <table><thead><tr><th scope="col">"State"</th><th scope="col">"Started"</th><th scope="col">"Duration"</th></tr></thead><tbody>
                    {d.runs.iter().map(|(id, state, started, dur, error)| view! {
                        <tr title=id.clone()>
                            <td><span class=format!("badge state-{}", state.to_lowercase())>{state.clone()}</span>
                                {(!error.is_empty()).then(|| view! { <div class="form-error">{error.clone()}</div> })}</td>
                            <td class="nowrap"><Time ts=started.clone()/></td>
                            <td class="nowrap">{dur.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody></table>
            </section> })}
            {(!d.versions.is_empty()).then(|| view! { <section>
                <h3>"Versions"</h3>
                <ul class="versions">{d.versions.iter().map(|(v, created, run)| view! {
                    <li><code>{shorten(v, 28)}</code> " " <span class="muted"><Time ts=created.clone()/> {(!run.is_empty()).then(|| format!(" · run {}", shorten(run, 13)))}</span></li>
                }).collect_view()}</ul>
            </section> })}
            {(!d.facets.is_empty() && d.facets != "{}").then(|| view! { <section>
                <details><summary>"Facets"</summary><pre class="facets">{d.facets.clone()}</pre></details>
            </section> })}
        </aside>
    }
    .into_any()
}

#[component]
fn BlastList(list: Vec<(String, String, String)>) -> impl IntoView {
    let n = list.len();
    view! {
        <section class="blast" aria-labelledby="blast-title">
            <h3 id="blast-title">"Blast radius: " {n} " downstream"</h3>
            {if list.is_empty() {
                view! { <p class="muted">"Nothing downstream."</p> }.into_any()
            } else {
                view! { <ul>{list.into_iter().map(|(kind, id, label)| view! {
                    <li><span class=format!("badge kind-{kind}")>{kind.clone()}</span> " "
                        <a href=format!("/lineage?{}", query_string(&[("node".to_string(), id)]))>{label}</a></li>
                }).collect_view()}</ul> }.into_any()
            }}
        </section>
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
