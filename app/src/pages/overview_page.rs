//! Overview: real counts, the capabilities and the latest audit entries the user may see.

use crate::api::overview::get_overview;
use crate::components::audit_table::AuditTable;
use crate::components::error_view::ErrorView;
use crate::components::nav::NAV;
use leptos::prelude::*;
use leptos_meta::Title;

/// The landing page after sign-in.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(o) => view! {
                        <section aria-label="Counts" class="cards">
                            <div class="card stat"><span class="stat-value">{o.users}</span><span class="stat-label">"Users"</span></div>
                            <div class="card stat"><span class="stat-value">{o.live_tokens}</span><span class="stat-label">"Active API tokens"</span></div>
                            <div class="card stat"><span class="stat-value">{o.audit_entries}</span><span class="stat-label">"Audit entries"</span></div>
                        </section>
                        <section aria-labelledby="caps-title">
                            <h2 id="caps-title">"Capabilities"</h2>
                            <ul class="capabilities">
                                {NAV[1..6].iter().map(|(href, label, _)| view! {
                                    <li class="card"><a href=*href>{*label}</a><span class="muted">" — no data yet"</span></li>
                                }).collect_view()}
                            </ul>
                        </section>
                        <section aria-labelledby="recent-title">
                            <h2 id="recent-title">
                                {if o.recent_is_everyone { "Latest activity" } else { "Your latest activity" }}
                            </h2>
                            {if o.recent.is_empty() {
                                view! { <p class="muted">"No activity recorded yet."</p> }.into_any()
                            } else {
                                view! { <AuditTable rows=o.recent filter_links=o.recent_is_everyone/> }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
