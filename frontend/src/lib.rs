//! The WebAssembly entry point: hydrates the server-rendered page and nothing else.

/// Called by the generated loader once the wasm module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
