//! Data scientists: their latest runs, and their pending requests with what blocks each.

use crate::components::when::TimeMs;
use crate::dto::home::ScientistHome;
use leptos::prelude::*;

#[component]
pub fn ScienceSection(data: ScientistHome) -> impl IntoView {
    let ScientistHome { runs, requests } = data;
    view! {
        <section class="card" aria-labelledby="my-requests-title">
            <h2 id="my-requests-title">"Your pending requests"</h2>
            {if requests.is_empty() {
                view! { <p class="muted">"You have no pending promotion request. Request one from a model version's page."</p> }.into_any()
            } else {
                view! { <ul class="home-list">{requests.into_iter().map(|q| {
                    let r = q.request;
                    let needed = q.approvals_needed.saturating_sub(q.approvals);
                    view! { <li>
                        <a href=format!("/promotions/{}", r.request_id)>{format!("#{} {}@{} → {}", r.request_id, r.name, r.version, r.alias)}</a>
                        <div class="small">
                            {if q.open_checks.is_empty() { view! { <span class="check-pass">"all checks clear"</span> }.into_any() }
                             else { view! { <span class="check-fail">{format!("blocked by: {}", q.open_checks.join("; "))}</span> }.into_any() }}
                            {format!(" · approvals {}/{}", q.approvals, q.approvals_needed)}
                            {(needed > 0).then(|| format!(" (needs {needed} more)"))}
                        </div>
                    </li> }
                }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="my-runs-title">
            <h2 id="my-runs-title">"Your latest runs"</h2>
            {if runs.is_empty() {
                view! { <p class="muted">"No run logged under your name yet. Runs arrive through the MLflow client."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table>
                        <thead><tr><th scope="col">"Run"</th><th scope="col">"Experiment"</th><th scope="col">"Status"</th><th scope="col">"Started"</th></tr></thead>
                        <tbody>{runs.into_iter().map(|r| view! { <tr>
                            <td><a href=format!("/runs/run/{}", r.run_id)>{r.run_name.clone()}</a></td>
                            <td><a href=format!("/runs/experiment/{}", r.experiment_id)>{r.experiment_name.clone()}</a></td>
                            <td><span class=format!("badge status-{}", r.status.to_lowercase())>{r.status.clone()}</span></td>
                            <td class="nowrap"><TimeMs ms=r.start_time/></td>
                        </tr> }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}
