//! The WebAssembly entry point: hydrates the server-rendered page and nothing else.

// Deep view types (a run page nests tables, charts and details) exceed the default limit when
// the wasm crate lays them out.
#![recursion_limit = "512"]

/// Called by the generated loader once the wasm module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
