//! Everyone: what each alias serves and since when, protected aliases first.

use crate::components::when::TimeMs;
use crate::domain::url::encode;
use crate::dto::home::Serving;
use leptos::prelude::*;

#[component]
pub fn ServingSection(rows: Vec<Serving>) -> impl IntoView {
    view! {
        <section class="card home-wide" aria-labelledby="serving-title">
            <h2 id="serving-title">"What serves where"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"No alias points at a model version yet. "<a href="/models">"Models"</a></p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table>
                        <thead><tr><th scope="col">"Model"</th><th scope="col">"Alias"</th><th scope="col">"Version"</th>
                            <th scope="col">"Since"</th><th scope="col">"Moved by"</th><th scope="col">"Pending requests"</th></tr></thead>
                        <tbody>{rows.into_iter().map(|a| {
                            let model = encode(&a.model);
                            view! { <tr>
                                <td><a href=format!("/models/{model}")>{a.model.clone()}</a></td>
                                <td><strong>{a.alias.clone()}</strong>{a.protected.then(|| view! { " "<span class="badge" title="Moves need an approved promotion request">"protected"</span> })}</td>
                                <td><a href=format!("/models/{model}/versions/{}", a.version)>{format!("v{}", a.version)}</a></td>
                                <td class="nowrap"><TimeMs ms=a.since_ms/></td>
                                <td>{a.moved_by.clone().unwrap_or_else(|| "—".into())}</td>
                                <td class="num">{if a.pending > 0 {
                                    view! { <a href="/promotions">{a.pending}</a> }.into_any()
                                } else { "0".into_any() }}</td>
                            </tr> }
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}
