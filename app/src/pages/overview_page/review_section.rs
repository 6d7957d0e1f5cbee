//! Reviewers: requests waiting for them and the latest decisions.

use crate::components::when::Ago;
use crate::domain::url::encode;
use crate::dto::home::ReviewerHome;
use leptos::prelude::*;

#[component]
pub fn ReviewSection(data: ReviewerHome, now: String) -> impl IntoView {
    let ReviewerHome { waiting, decided } = data;
    view! {
        <section class="card home-wide" aria-labelledby="review-title">
            <h2 id="review-title">"Waiting for your review"</h2>
            {if waiting.is_empty() {
                view! { <p class="muted">"Nothing waits for you: every pending request is yours or already has your review. "
                    <a href="/promotions">"All requests"</a></p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table>
                        <thead><tr><th scope="col">"Request"</th><th scope="col">"Version → alias"</th><th scope="col">"Requested by"</th>
                            <th scope="col">"Waiting"</th><th scope="col">"Risk"</th><th scope="col">"Checks open"</th><th scope="col">"Approvals"</th></tr></thead>
                        <tbody>{waiting.into_iter().map(|q| {
                            let r = q.request;
                            view! { <tr>
                                <td><a href=format!("/promotions/{}", r.request_id)>{format!("#{}", r.request_id)}</a></td>
                                <td>{format!("{}@{} → {}", r.name, r.version, r.alias)}</td>
                                <td>{r.requested_by}</td>
                                <td class="nowrap"><time datetime=r.requested_at.clone() title=crate::domain::when::human(&r.requested_at)>{crate::domain::when::ago(q.age_secs).replace(" ago", "")}</time></td>
                                <td><span class=format!("badge tier-{}", q.risk_tier)>{q.risk_tier.clone()}</span></td>
                                <td>{if q.open_checks.is_empty() { view! { <span class="muted">"none"</span> }.into_any() }
                                     else { view! { <span class="check-fail">{q.open_checks.join("; ")}</span> }.into_any() }}</td>
                                <td class="num">{format!("{}/{}", q.approvals, q.approvals_needed)}</td>
                            </tr> }
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
            <h3>"Latest decisions"</h3>
            {if decided.is_empty() {
                view! { <p class="muted">"No request has been approved or rejected yet."</p> }.into_any()
            } else {
                view! { <ul class="home-list">{decided.into_iter().map(|d| view! {
                    <li><a href=format!("/promotions/{}", d.request_id)>{format!("#{} {}@{} → {}", d.request_id, d.name, d.version, d.alias)}</a>
                        {format!(" {} by {} ", if d.decision == "approve" { "approved" } else { "rejected" }, d.reviewer)}
                        <Ago ts=d.reviewed_at now=now.clone()/>
                        " "<span class=format!("badge promo-{}", d.status)>{d.status.clone()}</span>
                        " "<a class="small" href=format!("/models/{}", encode(&d.name))>"model"</a></li>
                }).collect_view()}</ul> }.into_any()
            }}
        </section>
    }
}
