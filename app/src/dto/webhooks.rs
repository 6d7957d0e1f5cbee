//! Webhooks and their deliveries as the admin page and `/api/v1/webhooks` show them.

use serde::{Deserialize, Serialize};

/// A subscription, without its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WebhookSummary {
    /// Its id (`wh-…`).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The receiver.
    pub url: String,
    /// The events it receives, `entity.action`.
    pub events: Vec<String>,
    /// `JSON` or `SLACK`.
    pub format: String,
    /// `ACTIVE` or `DISABLED`.
    pub status: String,
    /// Who created it.
    pub created_by: String,
}

/// One attempt at a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AttemptView {
    /// When it was made (RFC 3339).
    pub at: String,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// How long it took, in milliseconds.
    pub latency_ms: i64,
    /// Why it had no answer.
    pub error: Option<String>,
}

/// One event's delivery to one subscription, with every attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DeliveryView {
    /// Its id, sent as `X-MLflow-Delivery-Id` on every attempt.
    pub delivery_id: String,
    /// The subscription.
    pub webhook_id: String,
    /// The subscription's name.
    pub webhook_name: String,
    /// The event, `entity.action`.
    pub event: String,
    /// The page the event is about, a path.
    pub link: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// When the event happened (RFC 3339).
    pub occurred_at: String,
    /// The next attempt (RFC 3339), while pending.
    pub next_attempt_at: Option<String>,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptView>,
}
