//! The HTML shell, the router and the app-wide session context.

use crate::components::nav::Header;
use crate::dto::SessionInfo;
use crate::error::AppError;
use crate::pages::not_found_page::NotFoundPage;
use crate::pages::*;
use crate::server_fns::session::get_session;
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

/// The script nonce of one request, made by the server's `page_nonce` layer (which also sends
/// the [`page_csp`] naming it) and rendered by [`shell`] into the page's inline scripts.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct PageNonce(pub String);

/// Pages served as plain HTML, without the wasm: the sign-in form posts and redirects by
/// itself and has no island, so its first load is the stylesheet alone.
pub const STATIC_PAGES: [&str; 1] = ["/login"];

/// The full HTML document rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The request's nonce, for the theme script, the hydration scripts and the data Leptos
    // streams into the page. Without the server's layer (a bare router in a test) a fresh one,
    // with the policy naming it sent from here.
    #[cfg(feature = "ssr")]
    let hydrates = {
        let parts = use_context::<axum::http::request::Parts>();
        match parts.as_ref().and_then(|p| p.extensions.get::<PageNonce>()) {
            Some(PageNonce(nonce)) => {
                provide_context(leptos::nonce::Nonce::from_value(nonce.clone()))
            }
            None => {
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
        }
        // Pages that need no script are sent without the wasm (see `STATIC_PAGES`).
        !parts.is_some_and(|p| STATIC_PAGES.contains(&p.uri.path()))
    };
    #[cfg(not(feature = "ssr"))]
    let hydrates = true;
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
                {hydrates.then(|| view! { <HydrationScripts options islands=true/> })}
                <MetaTags/>
            </head>
            <body data-static=(!hydrates).then_some("true")>
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
    // Rendered on the server only (islands mode): the marker browser tests wait for,
    // `data-hydrated` on the body, is set by the wasm entry point in `frontend` once the page's
    // islands have hydrated.
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
                <Route path=path!("/") view=overview_page::OverviewPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=sign_in_page::SignInPage ssr=SsrMode::Async/>
                <Route path=path!("/runs") view=runs_page::RunsPage ssr=SsrMode::Async/>
                <Route path=path!("/runs/experiment/:id") view=experiment_runs_page::ExperimentRunsPage ssr=SsrMode::Async/>
                <Route path=path!("/runs/run/:run_id") view=run_detail_page::RunDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/runs/compare") view=run_compare_page::RunComparePage ssr=SsrMode::Async/>
                <Route path=path!("/lineage") view=lineage_page::LineagePage ssr=SsrMode::Async/>
                <Route path=path!("/experiments") view=ab_pages::ExperimentsPage ssr=SsrMode::Async/>
                <Route path=path!("/experiments/:id") view=ab_pages::AbTestPage ssr=SsrMode::Async/>
                <Route path=path!("/shared/ab/:token") view=ab_pages::SharedAbTestPage ssr=SsrMode::Async/>
                <Route path=path!("/fairness") view=fairness_pages::FairnessPage ssr=SsrMode::Async/>
                <Route path=path!("/fairness/:id") view=fairness_pages::FairnessReportPage ssr=SsrMode::Async/>
                <Route path=path!("/models") view=models_pages::ModelsPage ssr=SsrMode::Async/>
                <Route path=path!("/models/:name") view=models_pages::ModelPage ssr=SsrMode::Async/>
                <Route path=path!("/models/:name/versions/:version") view=model_version_page::ModelVersionPage ssr=SsrMode::Async/>
                <Route path=path!("/promotions") view=promotion_pages::PromotionsPage ssr=SsrMode::Async/>
                <Route path=path!("/promotions/policies") view=policies_page::PoliciesPage ssr=SsrMode::Async/>
                <Route path=path!("/promotions/:id") view=promotion_pages::PromotionPage ssr=SsrMode::Async/>
                <Route path=path!("/audit") view=audit_page::AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=admin_page::AdminPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=account_page::AccountPage ssr=SsrMode::Async/>
            </Routes>
        </main>
    }
}
