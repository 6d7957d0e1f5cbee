//! The admin page's webhook section: the subscriptions, and the newest deliveries with every
//! attempt's answer, filterable by state (`?deliveries=dead`), with "Redeliver" on the ones no
//! longer pending.

use crate::components::error_view::{ErrorView, FormError};
use crate::components::url_state::use_query;
use crate::components::when::Time;
use crate::dto::{DeliveryView, WebhookSummary};
use crate::server_fns::webhooks::{get_webhooks_admin, RedeliverWebhook};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// Webhooks and deliveries.
#[component]
pub fn WebhooksSection() -> impl IntoView {
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    let query = use_query();
    let state = move || query.read().get("deliveries").unwrap_or_default();
    let data = Resource::new(
        move || (state(), redeliver.version().get()),
        |(state, _)| get_webhooks_admin(state),
    );
    view! {
        <section aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">"Webhooks"</h2>
            <p class="muted">"Receivers of registry and governance events. Create and change them through the MLflow-compatible API (" <code>"/api/2.0/mlflow/webhooks"</code> "); a delivery is retried with backoff and, once its attempts are used up, waits here to be sent again."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorView error=e/> }.into_any(),
                        Ok(d) => view! {
                            <Subscriptions webhooks=d.webhooks/>
                            <h3 id="deliveries-title">"Deliveries"</h3>
                            <StateFilter current=state()/>
                            <Deliveries deliveries=d.deliveries redeliver=redeliver/>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || redeliver.value().get().and_then(Result::err).map(|e| view! { <FormError error=e/> })}
        </section>
    }
}

#[component]
fn Subscriptions(webhooks: Vec<WebhookSummary>) -> impl IntoView {
    if webhooks.is_empty() {
        return view! { <p class="muted">"No webhooks yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table aria-label="Webhooks">
                <thead>
                    <tr><th scope="col">"Name"</th><th scope="col">"Receiver"</th><th scope="col">"Events"</th><th scope="col">"Format"</th><th scope="col">"Status"</th><th scope="col">"Created by"</th></tr>
                </thead>
                <tbody>
                    {webhooks.into_iter().map(|w| view! {
                        <tr>
                            <td>{w.name}</td>
                            <td class="mono">{w.url}</td>
                            <td>{w.events.join(", ")}</td>
                            <td>{w.format}</td>
                            <td>{w.status.to_lowercase()}</td>
                            <td>{w.created_by}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn StateFilter(current: String) -> impl IntoView {
    let states = [
        ("", "All"),
        ("dead", "Dead"),
        ("pending", "Pending"),
        ("delivered", "Delivered"),
    ];
    view! {
        <nav class="filters" aria-label="Delivery state">
            {states.into_iter().map(|(s, label)| {
                let href = if s.is_empty() { "/admin#deliveries-title".to_owned() } else { format!("/admin?deliveries={s}#deliveries-title") };
                let here = (current == s).then_some("page");
                view! { <a href=href aria-current=here class="filter">{label}</a> " " }
            }).collect_view()}
        </nav>
    }
}

/// The last attempt's answer in words: the status, or why there was none.
fn last_answer(d: &DeliveryView) -> String {
    match d.attempts.last() {
        None => "not yet attempted".into(),
        Some(a) => match (a.status_code, &a.error) {
            (Some(code), _) => format!("HTTP {code} in {} ms", a.latency_ms),
            (None, Some(e)) => e.clone(),
            (None, None) => "no answer".into(),
        },
    }
}

#[component]
fn Deliveries(
    deliveries: Vec<DeliveryView>,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="muted">"No deliveries."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table aria-labelledby="deliveries-title">
                <thead>
                    <tr><th scope="col">"Event"</th><th scope="col">"Webhook"</th><th scope="col">"Happened (UTC)"</th><th scope="col">"State"</th><th scope="col">"Attempts"</th><th scope="col">"Last answer"</th><th scope="col">"Action"</th></tr>
                </thead>
                <tbody>
                    {deliveries.into_iter().map(|d| {
                        let answer = last_answer(&d);
                        let attempts = d.attempts.len();
                        let event = match d.link.clone() {
                            Some(href) => view! { <a href=href>{d.event.clone()}</a> }.into_any(),
                            None => view! { <span>{d.event.clone()}</span> }.into_any(),
                        };
                        let label = format!("Redeliver {} to {}", d.event, d.webhook_name);
                        let id = d.delivery_id.clone();
                        let action = (d.state != "pending").then(move || view! {
                            <ActionForm action=redeliver>
                                <input type="hidden" name="delivery_id" value=id/>
                                <button type="submit" class="button small" aria-label=label>"Redeliver"</button>
                            </ActionForm>
                        });
                        view! {
                            <tr id=format!("delivery-{}", d.delivery_id)>
                                <td>{event}</td>
                                <td>{d.webhook_name.clone()}</td>
                                <td class="nowrap"><Time ts=d.occurred_at.clone()/></td>
                                <td><span class=format!("badge delivery-{}", d.state)>{d.state.clone()}</span></td>
                                <td>{attempts}</td>
                                <td>{answer}</td>
                                <td>{action}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
