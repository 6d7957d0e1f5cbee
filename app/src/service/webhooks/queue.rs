//! The delivery queue as the worker sees it: what is due, and what an attempt's answer makes
//! of its delivery (delivered, tried again after the schedule's wait, or dead).

use crate::domain::webhooks::retry::Schedule;
use crate::error::AppError;
use crate::service::now_ms;
use crate::store::webhooks::{self as db, Attempt, Due, Outcome};
use crate::store::Pool;
use std::time::Duration;

/// Deliveries due now, each first in its subscription's queue.
pub async fn due(pool: &Pool, limit: i64) -> Result<Vec<Due>, AppError> {
    Ok(db::due(pool, now_ms(), limit).await?)
}

/// What a receiver answered (or why it did not).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The HTTP status, when it answered.
    pub status: Option<u16>,
    /// Its `Retry-After`, read.
    pub retry_after: Option<Duration>,
    /// How long the attempt took.
    pub latency: Duration,
    /// Why there was no answer (refused address, timeout, connection error).
    pub error: Option<String>,
}

impl Answer {
    /// A 2xx answer: the receiver has the event.
    pub fn accepted(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records an attempt at `d` and what follows from it: delivered on a 2xx answer, otherwise
/// retried after the schedule's wait (a tenth more at most, at random, so receivers coming back
/// are not met by every server at once) or dead once the attempts are used up. `None` when
/// another worker recorded this attempt first.
pub async fn record(
    pool: &Pool,
    d: &Due,
    answer: &Answer,
    schedule: &Schedule,
) -> Result<Option<Outcome>, AppError> {
    let now = now_ms();
    let attempt = d.attempts + 1;
    let outcome = if answer.accepted() {
        Outcome::Delivered
    } else {
        let done = u32::try_from(attempt).unwrap_or(u32::MAX);
        match schedule.next_wait(done, answer.retry_after) {
            Some(wait) => {
                let ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                let jitter = if ms >= 10 { rand_below(ms / 10) } else { 0 };
                Outcome::RetryAt(now.saturating_add(ms).saturating_add(jitter))
            }
            None => Outcome::Dead,
        }
    };
    let a = Attempt {
        at_ms: now,
        status_code: answer.status.map(i64::from),
        latency_ms: i64::try_from(answer.latency.as_millis()).unwrap_or(i64::MAX),
        error: answer.error.clone(),
    };
    let recorded = db::record_attempt(pool, &d.delivery_id, attempt, &a, outcome).await?;
    Ok(recorded.then_some(outcome))
}

fn rand_below(n: i64) -> i64 {
    use rand::Rng;
    if n <= 0 {
        return 0;
    }
    rand::thread_rng().gen_range(0..n)
}

use crate::service::ts_of_ms as ts;

/// The newest `limit` deliveries (in `state` if given), with their attempts.
pub async fn deliveries(
    pool: &Pool,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<crate::dto::DeliveryView>, AppError> {
    if let Some(s) = state {
        if !matches!(s, "pending" | "delivered" | "dead") {
            return Err(AppError::validation(
                "state",
                "must be pending, delivered or dead",
            ));
        }
    }
    let mut out = Vec::new();
    for d in db::deliveries(pool, state, limit.clamp(1, 500)).await? {
        let attempts = db::attempts(pool, &d.delivery_id)
            .await?
            .into_iter()
            .map(|a| crate::dto::AttemptView {
                at: ts(a.at_ms),
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error,
            })
            .collect();
        out.push(crate::dto::DeliveryView {
            next_attempt_at: (d.state == "pending").then(|| ts(d.next_ms)),
            delivery_id: d.delivery_id,
            webhook_id: d.webhook_id,
            webhook_name: d.webhook_name,
            event: d.event,
            link: d.link,
            state: d.state,
            occurred_at: ts(d.occurred_ms),
            attempts,
        });
    }
    Ok(out)
}

/// Every subscription, oldest first, for the admin page.
pub async fn summaries(pool: &Pool) -> Result<Vec<crate::dto::WebhookSummary>, AppError> {
    Ok(db::list(pool, 0, 1000)
        .await?
        .into_iter()
        .map(|w| crate::dto::WebhookSummary {
            id: w.id,
            name: w.name,
            url: w.url,
            events: w.events,
            format: w.format,
            status: w.status,
            created_by: w.created_by,
        })
        .collect())
}
