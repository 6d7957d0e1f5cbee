//! The 404 page.

use crate::components::error_view::ErrorView;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path that matches no route, with HTTP status 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <Title text="Not found"/>
        <ErrorView error=AppError::not_found("There is no page at this address.")/>
    }
}
