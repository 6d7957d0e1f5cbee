//! The HTML shell, the router and the app-wide session context.

use crate::api::session::get_session;
use crate::components::nav::Header;
use crate::error::AppError;
use crate::model::SessionInfo;
use crate::pages::{
    ab_pages::{AbTestPage, ExperimentsPage, SharedAbTestPage},
    account_page::AccountPage,
    admin_page::AdminPage,
    audit_page::AuditPage,
    experiment_runs_page::ExperimentRunsPage,
    fairness_pages::{FairnessPage, FairnessReportPage},
    lineage_page::LineagePage,
    model_version_page::ModelVersionPage,
    models_pages::{ModelPage, ModelsPage},
    not_found_page::NotFoundPage,
    overview_page::OverviewPage,
    policies_page::PoliciesPage,
    promotion_pages::{PromotionPage, PromotionsPage},
    run_compare_page::RunComparePage,
    run_detail_page::RunDetailPage,
    runs_page::RunsPage,
    sign_in_page::SignInPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::{path, SsrMode};

/// Applies the stored theme before first paint, so a dark-theme reader sees no flash.
const THEME_BOOT: &str = "try{var t=localStorage.getItem('gatehouse-theme');if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}";

/// The script policy of every page: only this app's own scripts and wasm, and the inline
/// scripts the page itself carries, which hold this response's nonce. Styles may be inline
/// (charts and layout use `style` attributes); nothing may frame the app.
#[cfg(feature = "ssr")]
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The full HTML document rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // A fresh nonce per response, for the theme script, the hydration scripts and the data
    // Leptos streams into the page; the policy naming it goes out as a header.
    #[cfg(feature = "ssr")]
    {
        leptos::nonce::provide_nonce();
        if let (Some(nonce), Some(res)) = (
            leptos::nonce::use_nonce(),
            use_context::<leptos_axum::ResponseOptions>(),
        ) {
            if let Ok(v) = axum::http::HeaderValue::from_str(&page_csp(&nonce)) {
                res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v);
            }
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <script nonce=leptos::nonce::use_nonce()>{THEME_BOOT}</script>
                <AutoReload options=options.clone()/>
                // The stylesheet's name carries its content hash when the build made one.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The signed-in state, shared by every page through context.
#[derive(Clone, Copy)]
pub struct SessionContext {
    /// Refetched on every navigation, so sign-in and sign-out (both redirect) are reflected.
    pub session: Resource<Result<SessionInfo, AppError>>,
}

/// The session context provided by [`App`].
pub fn use_session() -> SessionContext {
    expect_context::<SessionContext>()
}

/// The application: router, layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Effect::new(move |_| {
        // A marker only the running wasm sets: browser tests wait for it to prove hydration.
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|t: String| if t.is_empty() { "Gatehouse".to_string() } else { format!("{t} · Gatehouse") }/>
        <Router>
            <Layout/>
        </Router>
    }
}

#[component]
fn Layout() -> impl IntoView {
    let location = use_location();
    let session = Resource::new(move || location.pathname.get(), |_| get_session());
    provide_context(SessionContext { session });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Header/>
        <main id="main" tabindex="-1">
            <Routes fallback=|| view! { <NotFoundPage/> }>
                <Route path=path!("/") view=OverviewPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=SignInPage ssr=SsrMode::Async/>
                <Route path=path!("/runs") view=RunsPage ssr=SsrMode::Async/>
                <Route path=path!("/runs/experiment/:id") view=ExperimentRunsPage ssr=SsrMode::Async/>
                <Route path=path!("/runs/run/:run_id") view=RunDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/runs/compare") view=RunComparePage ssr=SsrMode::Async/>
                <Route path=path!("/lineage") view=LineagePage ssr=SsrMode::Async/>
                <Route path=path!("/experiments") view=ExperimentsPage ssr=SsrMode::Async/>
                <Route path=path!("/experiments/:id") view=AbTestPage ssr=SsrMode::Async/>
                <Route path=path!("/shared/ab/:token") view=SharedAbTestPage ssr=SsrMode::Async/>
                <Route path=path!("/fairness") view=FairnessPage ssr=SsrMode::Async/>
                <Route path=path!("/fairness/:id") view=FairnessReportPage ssr=SsrMode::Async/>
                <Route path=path!("/models") view=ModelsPage ssr=SsrMode::Async/>
                <Route path=path!("/models/:name") view=ModelPage ssr=SsrMode::Async/>
                <Route path=path!("/models/:name/versions/:version") view=ModelVersionPage ssr=SsrMode::Async/>
                <Route path=path!("/promotions") view=PromotionsPage ssr=SsrMode::Async/>
                <Route path=path!("/promotions/policies") view=PoliciesPage ssr=SsrMode::Async/>
                <Route path=path!("/promotions/:id") view=PromotionPage ssr=SsrMode::Async/>
                <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
            </Routes>
        </main>
    }
}
