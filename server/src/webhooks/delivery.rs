//! The delivery worker: sends each subscription's due deliveries in event order and records
//! every attempt (`app::service::webhooks::record`: delivered, tried again with backoff and
//! `Retry-After`, or dead). One server of a database delivers at a time, the holder of the
//! `webhook-delivery` lease; a delivery stays pending until its attempt is recorded, so a server
//! stopped mid-delivery loses nothing: the next holder sends it again (with the same
//! `X-MLflow-Delivery-Id`, so a receiver that did get it can tell).
//!
//! The HTTP client never follows redirects, ignores proxy settings, and resolves names through
//! [`PublicOnly`], which drops every address the webhook policy does not permit: a name that
//! resolved to a public address when the webhook was saved cannot be re-pointed inside.

use app::domain::webhooks::address::{self, Allowed};
use app::domain::webhooks::retry::{parse_retry_after, Schedule};
use app::domain::webhooks::EventKind;
use app::error::AppError;
use app::service::state::AppState;
use app::service::webhooks::{self as ops, Answer, QUEUED};
use app::store::webhooks::{Due, Webhook};
use app::store::{leases, Pool};
use http_client as http;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The worker's lease.
pub const LEASE: &str = "webhook-delivery";
const LEASE_TTL: Duration = Duration::from_secs(30);
const LEASE_RENEW: Duration = Duration::from_secs(10);
/// How often the queue is read when nothing wakes the worker (events queued by other servers).
const POLL: Duration = Duration::from_secs(1);
/// Deliveries sent at once (each the head of a different subscription's queue).
const BATCH: i64 = 32;
/// The most of a receiver's answer kept for a test's result.
const MAX_BODY: usize = 4096;

/// A resolver that answers only the addresses webhooks may reach.
struct PublicOnly(Allowed);

impl http::dns::Resolve for PublicOnly {
    fn resolve(&self, name: http::dns::Name) -> http::dns::Resolving {
        let allowed = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allowed.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                let why = format!("{host} resolves to no address webhooks may reach");
                return Err(why.into());
            }
            Ok(Box::new(permitted.into_iter()) as http::dns::Addrs)
        })
    }
}

/// Sends deliveries.
#[derive(Clone)]
pub struct Sender {
    client: http::Client,
    allowed: Allowed,
    public_url: String,
}

impl Sender {
    /// A sender under the webhook policy `allowed`; links in events start with `public_url`.
    pub fn new(allowed: Allowed, public_url: &str) -> Result<Sender, AppError> {
        let client = http::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(http::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly(allowed.clone())))
            .user_agent(concat!("Gatehouse-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                tracing::error!(error = %e, "building the webhook HTTP client failed");
                AppError::internal()
            })?;
        Ok(Sender {
            client,
            allowed,
            public_url: public_url.to_owned(),
        })
    }

    /// The sender `state`'s settings describe.
    pub fn for_state(state: &AppState) -> Result<Sender, AppError> {
        let public = state
            .config
            .origins
            .first()
            .map_or("http://127.0.0.1", String::as_str);
        Sender::new(state.config.webhooks.allowed.clone(), public)
    }

    /// One attempt at `d`: what the receiver answered, and the start of its body.
    pub async fn send(&self, d: &Due) -> (Answer, String) {
        let started = Instant::now();
        let failed = |why: String| Answer {
            status: None,
            retry_after: None,
            latency: started.elapsed(),
            error: Some(why),
        };
        if let Err(why) = address::check_url(&d.url, &self.allowed) {
            return (failed(format!("refused: {}", why.0)), String::new());
        }
        let now = time::OffsetDateTime::now_utc();
        let out = ops::outgoing(d, &self.public_url, now.unix_timestamp());
        let mut req = self
            .client
            .post(&d.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(out.body);
        for (name, value) in out.headers {
            req = req.header(name, value);
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => return (failed(error_chain(&e)), String::new()),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        let body = resp.text().await.unwrap_or_default();
        let answer = Answer {
            status: Some(status),
            retry_after,
            latency: started.elapsed(),
            error: None,
        };
        (answer, body.chars().take(MAX_BODY).collect())
    }
}

/// An error with its causes, `a: b: c` (reqwest's own message names only the URL).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Sends what is due once: each subscription's first pending delivery, all at once. Returns
/// how many attempts were made.
pub async fn deliver_due(pool: &Pool, sender: &Sender, schedule: &Schedule) -> usize {
    let due = match ops::due(pool, BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "reading the webhook queue failed");
            return 0;
        }
    };
    let attempts = due.iter().map(|d| async move {
        let (answer, _) = sender.send(d).await;
        match ops::record(pool, d, &answer, schedule).await {
            Ok(Some(outcome)) => tracing::info!(
                delivery = %d.delivery_id, event = %d.event, status = ?answer.status,
                error = ?answer.error, ?outcome, "webhook delivery attempt"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "recording a webhook attempt failed"),
        }
    });
    futures_util::future::join_all(attempts).await;
    due.len()
}

/// Runs the worker for as long as the server does: delivers while it holds the lease, woken
/// by events queued here and polling for the others'.
pub fn spawn(state: &AppState, holder: String) -> Result<tokio::task::JoinHandle<()>, AppError> {
    let sender = Sender::for_state(state)?;
    Ok(run(
        state.pool.clone(),
        sender,
        state.config.webhooks.schedule,
        holder,
    ))
}

/// The worker over `pool` with its sender and schedule, as lease holder `holder`.
pub fn run(
    pool: Pool,
    sender: Sender,
    schedule: Schedule,
    holder: String,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut renewed: Option<Instant> = None;
        loop {
            if renewed.is_none_or(|at| at.elapsed() >= LEASE_RENEW) {
                renewed = hold(&pool, &holder).await.then(Instant::now);
            }
            let busy = renewed.is_some() && deliver_due(&pool, &sender, &schedule).await > 0;
            if !busy {
                tokio::select! {
                    () = QUEUED.notified() => {
                        // Let the transaction that queued the event commit first.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    () = tokio::time::sleep(POLL) => {}
                }
            }
        }
    })
}

/// Takes or renews the worker's lease; true while held.
async fn hold(pool: &Pool, holder: &str) -> bool {
    let ttl = i64::try_from(LEASE_TTL.as_millis()).unwrap_or(i64::MAX);
    match leases::acquire(pool, LEASE, holder, app::service::now_ms(), ttl).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, "taking the webhook delivery lease failed");
            false
        }
    }
}

/// Gives the worker's lease up (at shutdown), so another server delivers at once.
pub async fn release(pool: &Pool, holder: &str) {
    if let Err(e) = leases::release(pool, LEASE, holder).await {
        tracing::warn!(error = %e, "giving the webhook delivery lease up failed");
    }
}

/// MLflow's webhook test: an example of `kind` sent to `w` now, outside the queue, and what
/// the receiver answered (`success`, `response_status`, `response_body`, `error_message`).
pub async fn test(state: &AppState, w: &Webhook, kind: EventKind) -> Result<Value, AppError> {
    let secret = app::store::webhooks::secret(&state.pool, &w.id)
        .await?
        .unwrap_or_default();
    let d = Due {
        delivery_id: uuid::Uuid::new_v4().to_string(),
        webhook_id: w.id.clone(),
        attempts: 0,
        url: w.url.clone(),
        format: w.format.clone(),
        secret,
        event: kind.name(),
        data: ops::example(kind).to_string(),
        link: None,
        occurred_ms: app::service::now_ms(),
    };
    let (answer, body) = Sender::for_state(state)?.send(&d).await;
    let mut result = json!({ "success": answer.accepted() });
    if let Some(status) = answer.status {
        result["response_status"] = json!(status);
        result["response_body"] = json!(body);
    }
    if let Some(error) = answer.error {
        result["error_message"] = json!(format!("Failed to test webhook: {error}"));
    }
    Ok(result)
}
