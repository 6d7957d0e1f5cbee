-- Events out. A subscription (`webhooks`) names a receiver URL, the events it wants
-- (`webhook_subscriptions`, one row per `entity.action`), a format (MLflow's signed JSON or a
-- Slack message) and the secret its signatures use. An event is written to the outbox
-- (`webhook_events`) in the same transaction as the change it reports, with one delivery per
-- subscriber; the delivery worker sends each subscription's deliveries in event order and
-- records every attempt. A delivery is `pending` until it succeeds (`delivered`) or runs out of
-- attempts (`dead`, which an admin can send again: `attempts` then counts afresh, while
-- `webhook_attempts` keeps every attempt ever made).
CREATE TABLE webhooks (
    webhook_id  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    url         TEXT NOT NULL,
    format      TEXT NOT NULL CHECK (format IN ('JSON', 'SLACK')),
    secret      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
    created_by  TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_subscriptions (
    webhook_id TEXT NOT NULL REFERENCES webhooks(webhook_id) ON DELETE CASCADE,
    event      TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event)
) STRICT;
CREATE INDEX webhook_subscriptions_by_event ON webhook_subscriptions(event, webhook_id);

CREATE TABLE webhook_events (
    event_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    event       TEXT NOT NULL,
    data        TEXT NOT NULL,
    link        TEXT,
    occurred_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    delivery_id TEXT PRIMARY KEY,
    webhook_id  TEXT NOT NULL REFERENCES webhooks(webhook_id) ON DELETE CASCADE,
    event_id    INTEGER NOT NULL REFERENCES webhook_events(event_id),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts    INTEGER NOT NULL,
    next_ms     INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries(state, webhook_id, event_id);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, event_id);

CREATE TABLE webhook_attempts (
    attempt_id  INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(delivery_id) ON DELETE CASCADE,
    at_ms       INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT
) STRICT;
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts(delivery_id, attempt_id);
