//! Webhooks for the admin page: the subscriptions and their recent deliveries, and sending a
//! dead delivery again.

use crate::dto::{DeliveryView, WebhookSummary};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the admin page's webhook section shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksAdmin {
    /// Every subscription, oldest first.
    pub webhooks: Vec<WebhookSummary>,
    /// The newest deliveries (of `state` when one was asked for), with their attempts.
    pub deliveries: Vec<DeliveryView>,
}

/// Subscriptions and the newest 50 deliveries, all or in one `state`.
#[server(prefix = "/api", endpoint = "webhooks_admin")]
pub async fn get_webhooks_admin(
    /// `pending`, `delivered` or `dead`; all when empty.
    #[server(default)]
    state: String,
) -> Result<WebhooksAdmin, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, webhooks};
    let (s, _p) = context::authorized(Action::ManageWebhooks).await?;
    let filter = Some(state.as_str()).filter(|f| !f.is_empty());
    Ok(WebhooksAdmin {
        webhooks: webhooks::summaries(&s.pool).await?,
        deliveries: webhooks::deliveries(&s.pool, filter, 50).await?,
    })
}

/// Queues a dead (or delivered) delivery again.
#[server(prefix = "/api", endpoint = "redeliver_webhook")]
pub async fn redeliver_webhook(
    /// The delivery to send again.
    delivery_id: String,
) -> Result<(), AppError> {
    use crate::domain::authz::Action;
    use crate::service::{context, webhooks};
    let (s, p) = context::authorized(Action::ManageWebhooks).await?;
    webhooks::redeliver(&s.pool, &p, &delivery_id).await
}
