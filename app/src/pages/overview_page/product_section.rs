//! Product managers: running A/B tests with their verdicts, and tests ready to decide.

use crate::dto::{home::ProductHome, AbTestSummary};
use crate::pages::ab_pages::decision_class;
use leptos::prelude::*;

fn verdict(t: &AbTestSummary) -> AnyView {
    match t.verdict {
        Some(d) => view! { <span class=format!("badge {}", decision_class(d)) title=t.sentence.clone().unwrap_or_default()>{d.label()}</span> }.into_any(),
        None => view! { <span class="muted">"no data yet"</span> }.into_any(),
    }
}

#[component]
pub fn ProductSection(data: ProductHome) -> impl IntoView {
    let ProductHome { running, ready } = data;
    view! {
        <section class="card" aria-labelledby="ready-title">
            <h2 id="ready-title">"Ready to decide"</h2>
            {if ready.is_empty() {
                view! { <p class="muted">"No test has a ship or roll-back verdict waiting for a decision."</p> }.into_any()
            } else {
                view! { <ul class="home-list">{ready.into_iter().map(|t| view! {
                    <li><a href=format!("/experiments/{}", t.id)>{t.name.clone()}</a>" "{verdict(&t)}
                        <div class="small muted">{t.sentence.clone()}</div></li>
                }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="running-title">
            <h2 id="running-title">"Running A/B tests"</h2>
            {if running.is_empty() {
                view! { <p class="muted">"No test is collecting data. "<a href="/experiments">"All tests"</a></p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table>
                        <thead><tr><th scope="col">"Test"</th><th scope="col">"Verdict now"</th><th scope="col">"Days"</th><th scope="col">"Units"</th></tr></thead>
                        <tbody>{running.into_iter().map(|t| view! { <tr>
                            <td><a href=format!("/experiments/{}", t.id)>{t.name.clone()}</a></td>
                            <td>{verdict(&t)}</td>
                            <td class="num">{t.days}</td>
                            <td class="num">{t.users.map(crate::domain::format::count).unwrap_or_else(|| "—".into())}</td>
                        </tr> }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}
