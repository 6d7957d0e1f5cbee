//! The WebAssembly entry point: hydrates the server-rendered page and nothing else.

// Deep view types (a run page nests tables, charts and details) exceed the default limit when
// the wasm crate lays them out.
#![recursion_limit = "512"]

use leptos::prelude::document;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Called by the generated loader once the wasm module is instantiated.
///
/// Pages are lazy routes (`app::routes`), so hydration is asynchronous: it waits for the open
/// page's chunk. Only when it has finished does the body get `data-hydrated`, the marker browser
/// tests wait for before they click.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(body) = document().body() else {
        return;
    };
    let guard = native_links_until_hydrated(body.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let app = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        app.forget();
        let _ = body.set_attribute("data-hydrated", "true");
        if let Some(guard) = guard {
            let _ = document().remove_event_listener_with_callback_and_bool(
                "click",
                guard.as_ref().unchecked_ref(),
                true,
            );
        }
    });
}

/// While the page is still hydrating, a click on a link is left to the browser.
///
/// The router hydrates with the main module and starts taking link clicks at once, but the page
/// under it is not live until its chunk has arrived; a client-side navigation started in that
/// gap changed the address and left the old page on screen. Stopping the click on its way down
/// (capture phase, no `preventDefault`) makes it a plain navigation to the server-rendered page.
fn native_links_until_hydrated(
    body: web_sys::HtmlElement,
) -> Option<Closure<dyn FnMut(web_sys::Event)>> {
    let guard = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        if body.has_attribute("data-hydrated") {
            return;
        }
        let on_link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
            .is_some();
        if on_link {
            ev.stop_propagation();
        }
    });
    document()
        .add_event_listener_with_callback_and_bool("click", guard.as_ref().unchecked_ref(), true)
        .ok()
        .map(|_| guard)
}
