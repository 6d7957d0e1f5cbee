//! Deliveries and their attempts: what the worker sends next, what each attempt answered, and
//! what the admin page lists.

use crate::store::{begin_write, Conn, Pool};

/// Queues event `event_id` for subscription `webhook_id`, due at `now_ms`.
pub async fn insert_delivery(
    conn: &mut Conn,
    delivery_id: &str,
    webhook_id: &str,
    event_id: i64,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (delivery_id, webhook_id, event_id, state, attempts, \
         next_ms, updated_ms) VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
    )
    .bind(delivery_id)
    .bind(webhook_id)
    .bind(event_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// A delivery the worker may send now, with what it needs to send it.
#[derive(Clone, Debug)]
pub struct Due {
    /// The delivery's id (`X-MLflow-Delivery-Id`, the same on every attempt).
    pub delivery_id: String,
    /// The subscription.
    pub webhook_id: String,
    /// Failed attempts so far (since it was last sent again by an admin).
    pub attempts: i64,
    /// The receiver.
    pub url: String,
    /// `JSON` or `SLACK`.
    pub format: String,
    /// The HMAC secret.
    pub secret: String,
    /// `entity.action`.
    pub event: String,
    /// The event's data, JSON.
    pub data: String,
    /// The page the event is about, a path.
    pub link: Option<String>,
    /// When it happened (ms since the epoch).
    pub occurred_ms: i64,
}

type DueRow = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
);

/// Up to `limit` deliveries due at `now_ms` that are first in their subscription's queue: a
/// pending delivery holds back every later one of its subscription, so each receiver gets its
/// events in order. Dead deliveries hold nothing back.
pub async fn due(pool: &Pool, now_ms: i64, limit: i64) -> Result<Vec<Due>, sqlx::Error> {
    let rows: Vec<DueRow> = sqlx::query_as(
        "SELECT d.delivery_id, d.webhook_id, d.attempts, w.url, w.format, w.secret, \
                e.event, e.data, e.link, e.occurred_ms \
         FROM webhook_deliveries d \
         JOIN webhooks w ON w.webhook_id = d.webhook_id \
         JOIN webhook_events e ON e.event_id = d.event_id \
         WHERE d.state = 'pending' AND d.next_ms <= $1 AND w.status = 'ACTIVE' \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries b \
                           WHERE b.state = 'pending' AND b.webhook_id = d.webhook_id \
                             AND b.event_id < d.event_id) \
         ORDER BY d.event_id LIMIT $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Due {
            delivery_id: r.0,
            webhook_id: r.1,
            attempts: r.2,
            url: r.3,
            format: r.4,
            secret: r.5,
            event: r.6,
            data: r.7,
            link: r.8,
            occurred_ms: r.9,
        })
        .collect())
}

/// One attempt's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// When it was made (ms since the epoch).
    pub at_ms: i64,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// How long it took, in milliseconds.
    pub latency_ms: i64,
    /// Why it failed without an answer (refused address, timeout, connection error).
    pub error: Option<String>,
}

/// What becomes of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it.
    Delivered,
    /// Try again at this time (ms since the epoch).
    RetryAt(i64),
    /// Out of attempts.
    Dead,
}

/// Records attempt number `attempt` of a delivery and its outcome, in one transaction. False
/// (and nothing written) when another worker recorded that attempt first.
pub async fn record_attempt(
    pool: &Pool,
    delivery_id: &str,
    attempt: i64,
    a: &Attempt,
    outcome: Outcome,
) -> Result<bool, sqlx::Error> {
    let (state, next_ms) = match outcome {
        Outcome::Delivered => ("delivered", a.at_ms),
        Outcome::RetryAt(at) => ("pending", at),
        Outcome::Dead => ("dead", a.at_ms),
    };
    let mut tx = begin_write(pool).await?;
    let moved = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_ms = $3, updated_ms = $4 \
         WHERE delivery_id = $5 AND state = 'pending' AND attempts = $6",
    )
    .bind(state)
    .bind(attempt)
    .bind(next_ms)
    .bind(a.at_ms)
    .bind(delivery_id)
    .bind(attempt - 1)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, at_ms, status_code, latency_ms, error) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(delivery_id)
    .bind(a.at_ms)
    .bind(a.status_code)
    .bind(a.latency_ms)
    .bind(a.error.as_deref())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Queues a dead (or delivered) delivery again with a fresh count of attempts. False when
/// there is no such delivery or it is still pending.
pub async fn redeliver(
    conn: &mut Conn,
    delivery_id: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_ms = $1, \
         updated_ms = $1 WHERE delivery_id = $2 AND state <> 'pending'",
    )
    .bind(now_ms)
    .bind(delivery_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A delivery as the admin page lists it (its attempts are read with [`attempts`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// Its id.
    pub delivery_id: String,
    /// The subscription.
    pub webhook_id: String,
    /// The subscription's name.
    pub webhook_name: String,
    /// `entity.action`.
    pub event: String,
    /// The page the event is about.
    pub link: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// When the event happened.
    pub occurred_ms: i64,
    /// The next attempt, while pending.
    pub next_ms: i64,
}

type DeliveryRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
);

/// The newest `limit` deliveries, in `state` if given, newest event first.
pub async fn deliveries(
    pool: &Pool,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    // Placeholders are numbered in the order they appear (SQLite numbers them so).
    let (filter, limit_at) = match state {
        Some(_) => ("WHERE d.state = $1", "$2"),
        None => ("", "$1"),
    };
    let sql = format!(
        "SELECT d.delivery_id, d.webhook_id, w.name, e.event, e.link, d.state, e.occurred_ms, \
                d.next_ms \
         FROM webhook_deliveries d \
         JOIN webhooks w ON w.webhook_id = d.webhook_id \
         JOIN webhook_events e ON e.event_id = d.event_id \
         {filter} ORDER BY d.event_id DESC, d.webhook_id LIMIT {limit_at}"
    );
    let mut query = sqlx::query_as::<_, DeliveryRow>(&sql);
    if let Some(state) = state {
        query = query.bind(state);
    }
    let rows = query.bind(limit).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            delivery_id: r.0,
            webhook_id: r.1,
            webhook_name: r.2,
            event: r.3,
            link: r.4,
            state: r.5,
            occurred_ms: r.6,
            next_ms: r.7,
        })
        .collect())
}

/// Every attempt of a delivery, oldest first.
pub async fn attempts(pool: &Pool, delivery_id: &str) -> Result<Vec<Attempt>, sqlx::Error> {
    let rows: Vec<(i64, Option<i64>, i64, Option<String>)> = sqlx::query_as(
        "SELECT at_ms, status_code, latency_ms, error FROM webhook_attempts \
         WHERE delivery_id = $1 ORDER BY attempt_id",
    )
    .bind(delivery_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at_ms, status_code, latency_ms, error)| Attempt {
            at_ms,
            status_code,
            latency_ms,
            error,
        })
        .collect())
}
