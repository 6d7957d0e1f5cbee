//! The graph's frame, an island: zoom, fit, drag to pan, Ctrl + wheel, and arrow keys between
//! the nodes of the server-drawn SVG.

use super::svg_size_style;
use leptos::prelude::*;

/// The lineage graph's figure: tools, the scrolling box around the server-drawn SVG
/// (`children`, never re-rendered in the browser) and the caption. An island: once hydrated,
/// the view starts on the centre node, buttons zoom and fit the whole graph in view, dragging
/// pans, Ctrl + wheel zooms, and the arrow keys move between nodes (left/right across layers,
/// up/down within one). Without JavaScript the zoom buttons stay hidden.
#[island]
pub(super) fn GraphFrame(
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
    start_effects(scroller, scale, hydrated, vw, centre);
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

/// Once hydrated: marks it, scrolls to the centre node when the graph is larger than its box,
/// and keeps the SVG's size in step with `scale`.
fn start_effects(
    scroller: NodeRef<leptos::html::Div>,
    scale: RwSignal<Option<f64>>,
    hydrated: RwSignal<bool>,
    vw: f64,
    centre: Option<(f64, f64)>,
) {
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
