//! Sections that later steps fill in. Each states what will appear and how data gets in,
//! and is only shown to signed-in users.

use crate::app::use_session;
use crate::components::empty_state::EmptyState;
use crate::components::error_view::ErrorView;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

/// Renders `children` for a signed-in user, the sign-in error otherwise.
#[component]
fn SignedIn(children: ChildrenFn) -> impl IntoView {
    let session = use_session().session;
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match session.await {
                        Ok(s) if s.user.is_some() => children().into_any(),
                        Ok(_) => view! { <ErrorView error=AppError::unauthorized()/> }.into_any(),
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// Models & Approvals: the registry and promotion requests.
#[component]
pub fn ModelsPage() -> impl IntoView {
    view! {
        <Title text="Models & Approvals"/>
        <h1>"Models & Approvals"</h1>
        <SignedIn>
            <EmptyState
                title="No models registered yet"
                what="Registered model versions and their aliases (such as production) will be listed here, with promotion requests, the evidence they rest on and their approvals."
                how="Model versions arrive through the MLflow model-registry API; promotions are requested here and approved by someone other than the requester."
            />
        </SignedIn>
    }
}
