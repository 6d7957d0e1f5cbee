//! The webhook tables: subscriptions (`webhooks`, `webhook_subscriptions`), the outbox
//! (`webhook_events`), one delivery per subscriber and event (`webhook_deliveries`) and every
//! attempt (`webhook_attempts`).

mod deliveries;

pub use deliveries::*;

use crate::store::{Conn, Pool};

/// A subscription as stored (its secret is read only by the delivery).
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    /// Its id (`wh-…`).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The receiver.
    pub url: String,
    /// `JSON` or `SLACK`.
    pub format: String,
    /// `ACTIVE` or `DISABLED`.
    pub status: String,
    /// Who created it.
    pub created_by: String,
    /// When it was created (ms since the epoch).
    pub created_ms: i64,
    /// When it last changed (ms since the epoch).
    pub updated_ms: i64,
    /// The events it receives, `entity.action`, sorted.
    pub events: Vec<String>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

const COLUMNS: &str = "webhook_id, name, description, url, format, status, created_by, \
                       created_ms, updated_ms";

fn from_row(r: Row, events: Vec<String>) -> Webhook {
    Webhook {
        id: r.0,
        name: r.1,
        description: r.2,
        url: r.3,
        format: r.4,
        status: r.5,
        created_by: r.6,
        created_ms: r.7,
        updated_ms: r.8,
        events,
    }
}

/// Stores a new subscription with its secret and events.
pub async fn insert(conn: &mut Conn, w: &Webhook, secret: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhooks (webhook_id, name, description, url, format, secret, status, \
         created_by, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&w.id)
    .bind(&w.name)
    .bind(&w.description)
    .bind(&w.url)
    .bind(&w.format)
    .bind(secret)
    .bind(&w.status)
    .bind(&w.created_by)
    .bind(w.created_ms)
    .bind(w.updated_ms)
    .execute(&mut *conn)
    .await?;
    set_events(conn, &w.id, &w.events).await
}

/// Writes a subscription's changed fields and events (and its secret, when replaced).
pub async fn update(conn: &mut Conn, w: &Webhook, secret: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhooks SET name = $1, description = $2, url = $3, format = $4, status = $5, \
         updated_ms = $6, secret = COALESCE($7, secret) WHERE webhook_id = $8",
    )
    .bind(&w.name)
    .bind(&w.description)
    .bind(&w.url)
    .bind(&w.format)
    .bind(&w.status)
    .bind(w.updated_ms)
    .bind(secret)
    .bind(&w.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM webhook_subscriptions WHERE webhook_id = $1")
        .bind(&w.id)
        .execute(&mut *conn)
        .await?;
    set_events(conn, &w.id, &w.events).await
}

async fn set_events(conn: &mut Conn, id: &str, events: &[String]) -> Result<(), sqlx::Error> {
    for event in events {
        sqlx::query("INSERT INTO webhook_subscriptions (webhook_id, event) VALUES ($1, $2)")
            .bind(id)
            .bind(event)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Removes a subscription with its deliveries and their attempts (the events stay in the
/// outbox for the other subscribers). False when there was none.
pub async fn delete(conn: &mut Conn, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery_id IN \
         (SELECT delivery_id FROM webhook_deliveries WHERE webhook_id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    for sql in [
        "DELETE FROM webhook_deliveries WHERE webhook_id = $1",
        "DELETE FROM webhook_subscriptions WHERE webhook_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    }
    let gone = sqlx::query("DELETE FROM webhooks WHERE webhook_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(gone == 1)
}

/// The subscription `id`, if any.
pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Webhook>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE webhook_id = $1");
    let Some(row) = sqlx::query_as::<_, Row>(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let events = events_of(conn, id).await?;
    Ok(Some(from_row(row, events)))
}

/// A subscription's secret, for signing.
pub async fn secret(pool: &Pool, id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT secret FROM webhooks WHERE webhook_id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

async fn events_of(conn: &mut Conn, id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT event FROM webhook_subscriptions WHERE webhook_id = $1 ORDER BY event",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
}

/// Up to `limit` subscriptions after the first `offset`, oldest first.
pub async fn list(pool: &Pool, offset: i64, limit: i64) -> Result<Vec<Webhook>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks ORDER BY created_ms, webhook_id LIMIT $1 OFFSET $2"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let events = events_of(&mut conn, &row.0).await?;
        out.push(from_row(row, events));
    }
    Ok(out)
}

/// Writes an event to the outbox; returns its id, which orders each subscription's deliveries.
pub async fn insert_event(
    conn: &mut Conn,
    event: &str,
    data: &str,
    link: Option<&str>,
    now_ms: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO webhook_events (event, data, link, occurred_ms) VALUES ($1, $2, $3, $4) \
         RETURNING event_id",
    )
    .bind(event)
    .bind(data)
    .bind(link)
    .bind(now_ms)
    .fetch_one(conn)
    .await
}

/// The active subscriptions to `event`.
pub async fn subscribers(conn: &mut Conn, event: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT s.webhook_id FROM webhook_subscriptions s \
         JOIN webhooks w ON w.webhook_id = s.webhook_id \
         WHERE s.event = $1 AND w.status = 'ACTIVE' ORDER BY s.webhook_id",
    )
    .bind(event)
    .fetch_all(conn)
    .await
}
