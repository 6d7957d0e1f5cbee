//! Error pages and inline errors; on the server they also set the HTTP status.

use crate::error::AppError;
use leptos::prelude::*;

/// Sets the response status during server rendering (a no-op in the browser).
pub fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(opts), Ok(code)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(_code),
    ) {
        opts.set_status(code);
    }
}

/// A full-page error with the matching HTTP status.
#[component]
pub fn ErrorView(
    /// The failure to explain, with the field it names, if any.
    error: AppError,
) -> impl IntoView {
    set_status(error.status_code());
    let code = error.status_code();
    let signin = matches!(error, AppError::Unauthorized { .. });
    view! {
        <section class="error-page" aria-labelledby="error-title">
            <p class="error-code">{code}</p>
            <h1 id="error-title">{error.title()}</h1>
            <p>{error.to_string()}</p>
            {signin.then(|| view! { <p><a class="button" href="/login">"Sign in"</a></p> })}
            {(code == 403).then(|| view! {
                <p class="muted">"Ask an administrator for a role that includes this page."</p>
            })}
        </section>
    }
}

/// An error shown beside a form, announced to screen readers.
#[component]
pub fn FormError(
    /// The refusal to show beside the form.
    error: AppError,
) -> impl IntoView {
    view! { <p class="form-error" role="alert">{error.to_string()}</p> }
}
