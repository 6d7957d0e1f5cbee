//! The WebAssembly entry point. Pages are rendered on the server only (Leptos islands mode);
//! this module carries the islands, the few interactive parts marked `#[island]` in `app`, and
//! Leptos' loader hydrates each one where the page has it.

// The islands are exported to the loader from `app`; naming the crate links them in.
use app as _;
use leptos::prelude::document;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Called by Leptos' island loader once the wasm module is instantiated, before it walks the
/// page and hydrates each island.
///
/// The walk runs on promise continuations only, so a task queued here on the timer queue runs
/// after every island of the page has hydrated: it sets `data-hydrated` on the body, the marker
/// browser tests wait for before they click.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    let Some(body) = document().body() else {
        return;
    };
    let mark = Closure::once_into_js(move || {
        let _ = body.set_attribute("data-hydrated", "true");
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback(mark.unchecked_ref());
    }
}
