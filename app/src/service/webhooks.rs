//! Webhooks: subscriptions managed by admins (each change audited), events written to the
//! outbox in the transaction of the change they report ([`emit`]), and what a delivery sends
//! (the body in the subscription's format and MLflow's signature headers). The delivery worker
//! (`server/src/webhooks/delivery.rs`) reads the queue through [`due`] and records each attempt.

mod payload;
mod queue;

pub use payload::*;
pub use queue::*;

use super::audit_and_commit;
use crate::domain::webhooks::address::{self, Allowed, Host};
use crate::domain::webhooks::{EventKind, Format};
use crate::error::AppError;
use crate::service::auth::{random_secret, Principal};
use crate::service::now_ms;
use crate::store::webhooks::{self as db, Webhook};
use crate::store::{begin_write, Conn, Pool};
use serde_json::json;
use std::sync::LazyLock;
use tokio::sync::Notify;

/// Wakes the delivery worker when an event is queued on this server (the worker also polls,
/// for events other servers queue).
pub static QUEUED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Writes `kind` with its `data` to the outbox, with one delivery for each active subscription
/// to it, in the caller's transaction: the event exists exactly when the change does. `link` is
/// the path of the page the event is about (`/promotions/12`).
pub async fn emit(
    conn: &mut Conn,
    kind: EventKind,
    data: serde_json::Value,
    link: Option<&str>,
) -> Result<(), sqlx::Error> {
    let name = kind.name();
    let subscribers = db::subscribers(conn, &name).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let event_id = db::insert_event(conn, &name, &data.to_string(), link, now).await?;
    for webhook_id in subscribers {
        let delivery_id = delivery_id();
        db::insert_delivery(conn, &delivery_id, &webhook_id, event_id, now).await?;
    }
    QUEUED.notify_one();
    Ok(())
}

/// A new delivery id: 128 random bits as a UUID, as MLflow's `X-MLflow-Delivery-Id` is.
fn delivery_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A subscription as created or changed: every field named, already read from the request.
#[derive(Clone, Debug)]
pub struct Fields {
    /// A name for people (1 to 200 characters).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The receiver.
    pub url: String,
    /// The events it receives.
    pub events: Vec<EventKind>,
    /// JSON or Slack.
    pub format: Format,
    /// Whether it receives events.
    pub active: bool,
}

/// Checks `fields` (name, events, and the URL with every address its host resolves to).
async fn check(fields: &Fields, allowed: &Allowed) -> Result<(), AppError> {
    let name = fields.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::validation("name", "must be 1 to 200 characters"));
    }
    if fields.events.is_empty() {
        return Err(AppError::validation(
            "events",
            "must name at least one event",
        ));
    }
    check_url(&fields.url, allowed).await?;
    Ok(())
}

/// Checks a receiver URL: its form, and that every address it resolves to is allowed.
pub async fn check_url(url: &str, allowed: &Allowed) -> Result<(), AppError> {
    let target = address::check_url(url, allowed).map_err(|e| AppError::validation("url", e.0))?;
    if let Host::Name(name) = &target.host {
        let addrs = tokio::net::lookup_host((name.as_str(), target.port))
            .await
            .map_err(|e| AppError::validation("url", format!("`{name}` does not resolve: {e}")))?;
        for a in addrs {
            address::refuse_unless_permitted(a.ip(), allowed)
                .map_err(|e| AppError::validation("url", format!("`{name}` {}", e.0)))?;
        }
    }
    Ok(())
}

fn event_names(events: &[EventKind]) -> Vec<String> {
    let mut names: Vec<String> = events.iter().map(|e| e.name()).collect();
    names.sort();
    names.dedup();
    names
}

/// Creates a subscription. Returns it with its secret: `secret` when given, else a new random
/// one. The secret is shown this once; nothing reads it back.
pub async fn create(
    pool: &Pool,
    p: &Principal,
    fields: Fields,
    secret: Option<String>,
    allowed: &Allowed,
) -> Result<(Webhook, String), AppError> {
    check(&fields, allowed).await?;
    let secret = match secret.filter(|s| !s.is_empty()) {
        Some(s) if s.len() < 16 => {
            return Err(AppError::validation(
                "secret",
                "must be at least 16 characters",
            ))
        }
        Some(s) => s,
        None => random_secret(),
    };
    let now = now_ms();
    let w = Webhook {
        id: format!("wh-{}", &uuid::Uuid::new_v4().simple().to_string()[..24]),
        name: fields.name.trim().to_owned(),
        description: fields.description,
        url: fields.url.trim().to_owned(),
        format: fields.format.as_str().to_owned(),
        status: status(fields.active).to_owned(),
        created_by: p.username.clone(),
        created_ms: now,
        updated_ms: now,
        events: event_names(&fields.events),
    };
    let mut tx = begin_write(pool).await?;
    db::insert(&mut tx, &w, &secret).await?;
    audit_and_commit(tx, p, "webhook.create", ("webhook", &w.id), summary(&w)).await?;
    Ok((w, secret))
}

fn status(active: bool) -> &'static str {
    if active {
        "ACTIVE"
    } else {
        "DISABLED"
    }
}

fn summary(w: &Webhook) -> serde_json::Value {
    json!({
        "name": w.name, "url": w.url, "events": w.events, "format": w.format, "status": w.status,
    })
}

/// The subscription `id`, or 404.
pub async fn get(pool: &Pool, id: &str) -> Result<Webhook, AppError> {
    let mut conn = pool.acquire().await?;
    db::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("webhook {id} not found")))
}

/// Changes a subscription: `change` edits its current fields; `secret` replaces the secret.
pub async fn update(
    pool: &Pool,
    p: &Principal,
    id: &str,
    change: impl FnOnce(&mut Fields),
    secret: Option<String>,
    allowed: &Allowed,
) -> Result<Webhook, AppError> {
    let before = get(pool, id).await?;
    let mut fields = Fields {
        name: before.name.clone(),
        description: before.description.clone(),
        url: before.url.clone(),
        events: before
            .events
            .iter()
            .filter_map(|e| EventKind::parse(e).ok())
            .collect(),
        format: Format::parse(&before.format).unwrap_or(Format::Json),
        active: before.status == "ACTIVE",
    };
    change(&mut fields);
    check(&fields, allowed).await?;
    if secret.as_ref().is_some_and(|s| s.len() < 16) {
        return Err(AppError::validation(
            "secret",
            "must be at least 16 characters",
        ));
    }
    let after = Webhook {
        name: fields.name.trim().to_owned(),
        description: fields.description,
        url: fields.url.trim().to_owned(),
        format: fields.format.as_str().to_owned(),
        status: status(fields.active).to_owned(),
        updated_ms: now_ms(),
        events: event_names(&fields.events),
        ..before
    };
    let mut tx = begin_write(pool).await?;
    db::update(&mut tx, &after, secret.as_deref()).await?;
    let mut details = summary(&after);
    details["secret_replaced"] = json!(secret.is_some());
    audit_and_commit(tx, p, "webhook.update", ("webhook", id), details).await?;
    Ok(after)
}

/// Removes a subscription and its queue.
pub async fn delete(pool: &Pool, p: &Principal, id: &str) -> Result<(), AppError> {
    let before = get(pool, id).await?;
    let mut tx = begin_write(pool).await?;
    if !db::delete(&mut tx, id).await? {
        return Err(AppError::not_found(format!("webhook {id} not found")));
    }
    audit_and_commit(tx, p, "webhook.delete", ("webhook", id), summary(&before)).await
}

/// Queues a dead or delivered delivery again (an admin's "redeliver").
pub async fn redeliver(pool: &Pool, p: &Principal, delivery_id: &str) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    if !db::redeliver(&mut tx, delivery_id, now_ms()).await? {
        return Err(AppError::conflict(format!(
            "delivery {delivery_id} does not exist or is still being delivered"
        )));
    }
    let object = ("webhook_delivery", delivery_id);
    audit_and_commit(tx, p, "webhook.redeliver", object, json!({})).await?;
    QUEUED.notify_one();
    Ok(())
}
