//! An honest empty state: what will appear here and how the data gets in.

use leptos::prelude::*;

/// Says what a section will show and how to get data into it; never shows invented numbers.
#[component]
pub fn EmptyState(
    /// Headline.
    title: &'static str,
    /// What will appear here.
    what: &'static str,
    /// How data gets in.
    how: &'static str,
) -> impl IntoView {
    view! {
        <div class="empty-state">
            <h2>{title}</h2>
            <p>{what}</p>
            <p class="muted">{how}</p>
        </div>
    }
}
