//! MLflow-compatible registry webhooks under `/api/2.0/mlflow/webhooks` (create, list, get,
//! update, delete, test), in MLflow's wire format, so `MlflowClient.create_webhook` and tools
//! written for MLflow's webhooks work unchanged. Gatehouse adds its own events in the same
//! `{entity, action}` form and a `format` (`JSON`, MLflow's signed payload, or `SLACK`). Admins
//! manage them; the secret is answered once, by `create`.
//!
//! The delivery worker (`delivery.rs`) sends the queued events.

pub mod delivery;

use crate::api::{needs, Api};
use crate::extract::{Caller, JsonBody, NoContent};
use crate::mlflow::{invalid, MlflowError};
use app::domain::authz::Action;
use app::domain::webhooks::{EventKind, Format};
use app::dto::DeliveryView;
use app::error::AppError;
use app::service::state::AppState;
use app::service::webhooks::{self as ops, Fields};
use app::store::webhooks::{self as db, Webhook};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

type ApiResult = Result<Json<Value>, MlflowError>;

/// The routes, mounted by the main router.
pub fn router(state: AppState) -> Api {
    use Action::ManageWebhooks;
    const W: &str = "/api/2.0/mlflow/webhooks";
    let one = format!("{W}/{{webhook_id}}");
    Api::gated(state.clone())
        .post(
            W,
            create,
            needs(
                ManageWebhooks,
                "Create a webhook (its secret is answered once)",
            )
            .json(),
        )
        .get(
            W,
            list,
            needs(ManageWebhooks, "Webhooks, oldest first").query(&[
                ("max_results", "Page size (default 100, at most 1,000)"),
                ("page_token", "The previous page's next_page_token"),
            ]),
        )
        .get(&one, get, needs(ManageWebhooks, "A webhook"))
        .patch(
            &one,
            update,
            needs(ManageWebhooks, "Change a webhook (fields left out stay)").json(),
        )
        .delete(
            &one,
            delete,
            needs(ManageWebhooks, "Remove a webhook and its queued deliveries"),
        )
        .post(
            &format!("{one}/test"),
            test,
            needs(
                ManageWebhooks,
                "Send an example event to a webhook now and answer what it said",
            )
            .json(),
        )
        .get(
            "/api/v1/webhooks/deliveries",
            deliveries,
            needs(
                ManageWebhooks,
                "Deliveries, newest event first, with every attempt",
            )
            .query(&[
                ("state", "`pending`, `delivered` or `dead` (default all)"),
                ("limit", "How many (default 100, at most 500)"),
            ]),
        )
        .post(
            "/api/v1/webhooks/deliveries/{delivery_id}/redeliver",
            redeliver,
            needs(ManageWebhooks, "Send a dead (or delivered) delivery again"),
        )
        .with_state(state)
}

/// An event on MLflow's wire: `{"entity": "MODEL_VERSION", "action": "CREATED"}`.
#[derive(Deserialize, schemars::JsonSchema)]
struct WireEvent {
    /// `REGISTERED_MODEL`, `MODEL_VERSION`, `MODEL_VERSION_TAG`, `MODEL_VERSION_ALIAS`,
    /// or Gatehouse's `PROMOTION`, `AB_TEST`, `FAIRNESS_REPORT`, `AUDIT`.
    entity: String,
    /// `CREATED`, `SET`, `DELETED`, or Gatehouse's (`APPROVED`, `MOVED`, …).
    action: String,
}

/// A webhook as `create` and `update` take it (every field optional to `update`).
#[derive(Deserialize, Default, schemars::JsonSchema)]
struct WebhookReq {
    /// A name for people.
    name: Option<String>,
    /// What it is for.
    description: Option<String>,
    /// The receiver: http(s), a public address unless an admin allowed its network.
    url: Option<String>,
    /// The events it receives.
    events: Option<Vec<WireEvent>>,
    /// The HMAC secret (at least 16 characters); `create` makes one when left out.
    secret: Option<String>,
    /// `ACTIVE` (the default) or `DISABLED`.
    status: Option<Value>,
    /// `JSON` (the default) or `SLACK`.
    format: Option<String>,
}

fn events(wire: &[WireEvent]) -> Result<Vec<EventKind>, MlflowError> {
    wire.iter()
        .enumerate()
        .map(|(i, e)| {
            EventKind::from_wire(&e.entity, &e.action)
                .map_err(|why| invalid(&format!("events[{i}]"), why.0))
        })
        .collect()
}

/// `ACTIVE` / `DISABLED` (or protobuf's numbers for them, 1 and 2) as "is active".
fn active(status: &Value) -> Result<bool, MlflowError> {
    match status {
        Value::String(s) if s.eq_ignore_ascii_case("ACTIVE") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("DISABLED") => Ok(false),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_i64() == Some(2) => Ok(false),
        other => Err(invalid(
            "status",
            format!("{other} is not ACTIVE or DISABLED"),
        )),
    }
}

fn format(s: &str) -> Result<Format, MlflowError> {
    Format::parse(s).map_err(|e| invalid("format", e.0))
}

/// A webhook on MLflow's wire (never its secret).
fn webhook_json(w: &Webhook) -> Value {
    let events: Vec<Value> = w
        .events
        .iter()
        .filter_map(|e| e.split_once('.'))
        .map(|(entity, action)| {
            json!({ "entity": entity.to_ascii_uppercase(), "action": action.to_ascii_uppercase() })
        })
        .collect();
    json!({
        "webhook_id": w.id,
        "name": w.name,
        "description": w.description,
        "url": w.url,
        "events": events,
        "status": w.status,
        "creation_timestamp": w.created_ms,
        "last_updated_timestamp": w.updated_ms,
        "format": w.format,
        "created_by": w.created_by,
    })
}

async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<WebhookReq>,
) -> ApiResult {
    let required = |v: &Option<String>, field: &str| {
        v.clone().filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            invalid(
                field,
                format!("Missing value for required parameter '{field}'"),
            )
        })
    };
    let fields = Fields {
        name: required(&req.name, "name")?,
        description: req.description.clone().unwrap_or_default(),
        url: required(&req.url, "url")?,
        events: events(req.events.as_deref().unwrap_or_default())?,
        format: req
            .format
            .as_deref()
            .map(format)
            .transpose()?
            .unwrap_or(Format::Json),
        active: req.status.as_ref().map(active).transpose()?.unwrap_or(true),
    };
    let allowed = &s.config.webhooks.allowed;
    let (w, secret) = ops::create(&s.pool, &p, fields, req.secret, allowed).await?;
    Ok(Json(
        json!({ "webhook": webhook_json(&w), "secret": secret }),
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ListQuery {
    /// Page size.
    max_results: Option<i64>,
    /// Where the page starts.
    page_token: Option<String>,
}

async fn list(State(s): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult {
    let limit = q.max_results.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("max_results", "must be 1 to 1,000"));
    }
    let offset = match q.page_token.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|o| *o >= 0)
            .ok_or_else(|| invalid("page_token", "is not a page token this server gave"))?,
        None => 0,
    };
    let mut page = db::list(&s.pool, offset, limit + 1).await?;
    let more = page.len() as i64 > limit;
    page.truncate(limit as usize);
    let mut out = json!({ "webhooks": page.iter().map(webhook_json).collect::<Vec<_>>() });
    if more {
        out["next_page_token"] = json!((offset + limit).to_string());
    }
    Ok(Json(out))
}

async fn get(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let w = ops::get(&s.pool, &id).await?;
    Ok(Json(json!({ "webhook": webhook_json(&w) })))
}

async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<WebhookReq>,
) -> ApiResult {
    let events = req.events.as_deref().map(events).transpose()?;
    let format = req.format.as_deref().map(format).transpose()?;
    let active = req.status.as_ref().map(active).transpose()?;
    let change = |f: &mut Fields| {
        if let Some(name) = req.name.filter(|n| !n.is_empty()) {
            f.name = name;
        }
        if let Some(description) = req.description {
            f.description = description;
        }
        if let Some(url) = req.url.filter(|u| !u.is_empty()) {
            f.url = url;
        }
        if let Some(events) = events.filter(|e| !e.is_empty()) {
            f.events = events;
        }
        if let Some(format) = format {
            f.format = format;
        }
        if let Some(active) = active {
            f.active = active;
        }
    };
    let secret = req.secret.filter(|s| !s.is_empty());
    let allowed = &s.config.webhooks.allowed;
    let w = ops::update(&s.pool, &p, &id, change, secret, allowed).await?;
    Ok(Json(json!({ "webhook": webhook_json(&w) })))
}

async fn delete(State(s): State<AppState>, Caller(p): Caller, Path(id): Path<String>) -> ApiResult {
    ops::delete(&s.pool, &p, &id).await?;
    Ok(Json(json!({})))
}

/// What `test` takes: the event to send an example of (the webhook's first by default).
#[derive(Deserialize, Default, schemars::JsonSchema)]
struct TestReq {
    /// Which kind of event the example is (default: the webhook's first).
    event: Option<WireEvent>,
}

async fn test(
    State(s): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<TestReq>,
) -> ApiResult {
    let w = ops::get(&s.pool, &id).await?;
    let kind = match &req.event {
        Some(e) => {
            EventKind::from_wire(&e.entity, &e.action).map_err(|why| invalid("event", why.0))?
        }
        None => w
            .events
            .first()
            .and_then(|e| EventKind::parse(e).ok())
            .ok_or_else(|| invalid("event", "the webhook has no events to test"))?,
    };
    let answer = delivery::test(&s, &w, kind).await?;
    Ok(Json(json!({ "result": answer })))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct DeliveriesQuery {
    /// `pending`, `delivered` or `dead`.
    state: Option<String>,
    /// How many.
    limit: Option<i64>,
}

async fn deliveries(
    State(s): State<AppState>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryView>>, AppError> {
    let state = q.state.as_deref().filter(|s| !s.is_empty());
    let limit = q.limit.unwrap_or(100);
    Ok(Json(ops::deliveries(&s.pool, state, limit).await?))
}

async fn redeliver(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<NoContent, AppError> {
    ops::redeliver(&s.pool, &p, &id).await?;
    Ok(NoContent)
}
