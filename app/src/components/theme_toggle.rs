//! Light/dark theme switch; remembers the choice in local storage. An island: the one part of
//! the header that runs in the browser.

use leptos::prelude::*;

/// A button that flips between the light and dark theme.
#[island]
pub fn ThemeToggle() -> impl IntoView {
    // Unknown until hydrated: the server cannot see the stored choice or the OS preference.
    let dark = RwSignal::new(None::<bool>);
    Effect::new(move |_| {
        let doc = document();
        let Some(root) = doc.document_element() else {
            return;
        };
        let current = root.get_attribute("data-theme");
        let is_dark = match current.as_deref() {
            Some("dark") => true,
            Some("light") => false,
            _ => window()
                .match_media("(prefers-color-scheme: dark)")
                .ok()
                .flatten()
                .is_some_and(|m| m.matches()),
        };
        dark.set(Some(is_dark));
    });
    let toggle = move |_| {
        let next = !dark.get_untracked().unwrap_or(false);
        dark.set(Some(next));
        let theme = if next { "dark" } else { "light" };
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", theme);
        }
        if let Ok(Some(storage)) = window().local_storage() {
            let _ = storage.set_item("gatehouse-theme", theme);
        }
    };
    view! {
        <button
            type="button"
            class="theme-toggle"
            aria-pressed=move || dark.get().unwrap_or(false).to_string()
            title="Switch between the light and the dark theme"
            disabled=move || dark.get().is_none()
            on:click=toggle
        >
            // A toggle button keeps one label; aria-pressed says whether the dark theme is on.
            <span aria-hidden="true">{move || if dark.get() == Some(true) { "☾ " } else { "☀ " }}</span>
            "Dark theme"
        </button>
    }
}
