//! The home page: what each role came for, from the workspace as it stands, with links into it.

mod audit_section;
mod product_section;
mod review_section;
mod science_section;
mod serving_section;

use crate::components::audit_table::AuditTable;
use crate::components::error_view::ErrorView;
use crate::dto::home::Home;
use crate::server_fns::overview::get_overview;
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
                    Ok(h) => view! { <HomeSections home=h/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn HomeSections(home: Home) -> impl IntoView {
    let Home {
        now,
        serving,
        reviewer,
        product,
        scientist,
        auditor,
        admin,
        recent,
        recent_is_everyone,
        ..
    } = home;
    // Each section is type-erased: one nested view type for the whole page is too deep for the
    // release build's type-layout recursion limit.
    let recent_view = if recent.is_empty() {
        view! { <p class="muted">"Nothing recorded under your name yet."</p> }.into_any()
    } else {
        view! { <AuditTable rows=recent filter_links=recent_is_everyone/> }.into_any()
    };
    let sections: Vec<AnyView> = [
        reviewer.map(|r| view! { <review_section::ReviewSection data=r now=now.clone()/> }.into_any()),
        product.map(|p| view! { <product_section::ProductSection data=p/> }.into_any()),
        scientist.map(|s| view! { <science_section::ScienceSection data=s/> }.into_any()),
        auditor.map(|a| view! { <audit_section::AuditSection data=a admin=admin now=now.clone()/> }.into_any()),
        Some(view! { <serving_section::ServingSection rows=serving/> }.into_any()),
        Some(view! {
            <section class="home-wide" aria-labelledby="recent-title">
                <h2 id="recent-title">
                    {if recent_is_everyone { "Latest activity" } else { "Your latest activity" }}
                </h2>
                {recent_view}
            </section>
        }.into_any()),
    ]
    .into_iter()
    .flatten()
    .collect();
    view! { <div class="home">{sections}</div> }
}
