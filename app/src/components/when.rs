//! Times in the page: the human form as text, the exact value in `datetime` and `title`.

use crate::domain::when;
use leptos::prelude::*;

/// A stored RFC 3339 timestamp as `3 Dec 2026, 08:03 UTC`, exact value on hover.
#[component]
pub fn Time(
    /// An RFC 3339 timestamp as stored.
    #[prop(into)]
    ts: String,
) -> impl IntoView {
    let text = when::human(&ts);
    view! { <time datetime=ts.clone() title=ts>{text}</time> }
}

/// MLflow's milliseconds since the epoch as a human time (`—` when absent).
#[component]
pub fn TimeMs(
    /// Milliseconds since the Unix epoch, as MLflow records them.
    ms: Option<i64>,
) -> impl IntoView {
    match ms {
        Some(ms) => {
            let exact = when::rfc3339_ms(ms);
            view! { <time datetime=exact.clone() title=exact>{when::human_ms(ms)}</time> }
                .into_any()
        }
        None => "—".into_any(),
    }
}

/// How long ago `ts` was at the server's `now` (sent with the data, so both renders agree), with
/// the exact time on hover.
#[component]
pub fn Ago(
    /// The RFC 3339 timestamp to describe.
    #[prop(into)]
    ts: String,
    /// The server's clock when the page's data was read, RFC 3339.
    #[prop(into)]
    now: String,
) -> impl IntoView {
    let text = when::ago_at(&ts, &now);
    let title = when::human(&ts);
    view! { <time datetime=ts title=title>{text}</time> }
}
