//! Runs: the experiments logged through the MLflow-compatible API.

use crate::components::empty_state::EmptyState;
use crate::components::error_view::ErrorView;
use crate::server_fns::runs::list_experiments;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/runs`: one card per experiment.
#[component]
pub fn RunsPage() -> impl IntoView {
    let experiments = Resource::new(|| (), |_| list_experiments());
    view! {
        <Title text="Runs"/>
        <h1>"Runs"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match experiments.await {
                    Err(e) => view! { <ErrorView error=e/> }.into_any(),
                    Ok(list) if list.iter().all(|e| e.runs == 0) => view! {
                        <EmptyState
                            title="No runs yet"
                            what="Training runs with their parameters, metrics and datasets will be listed here, with a side-by-side comparison that shows what differs first."
                            how="Log runs with the MLflow client: set MLFLOW_TRACKING_URI to this server and MLFLOW_TRACKING_TOKEN to an API token of a user with the scientist role."
                        />
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="capabilities experiments">
                            {list.into_iter().filter(|e| e.runs > 0).map(|e| view! {
                                <li class="card">
                                    <h2><a href=format!("/runs/experiment/{}", e.id)>{e.name.clone()}</a></h2>
                                    <p class="muted">{e.description.clone().unwrap_or_default()}</p>
                                    <p>{e.runs} " runs"</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
