//! The OpenLineage store: raw events and the graph normalised from them.
//!
//! Ingestion keeps every derived row a function of the *set* of events received: a repeated
//! event is ignored by its dedup key, a run is re-folded from all its events
//! ([`fold_run`]), and facets, schemas and versions are replaced only by an event that sorts
//! later by (event time, dedup key). Events arriving twice or out of order give the same graph.
//!
//! An event touches twenty-odd rows: on SQLite a statement each, on PostgreSQL a batch of
//! events takes one statement per table ([`ingest`]). Through sqlx each statement costs about 55 µs (a round trip to its
//! worker thread); through rusqlite about 4 µs. So on SQLite ingestion runs on a writer thread
//! with a rusqlite connection of its own ([`super::open_own_connection`]), whose prepared
//! statements live as long as it does: the events, their audit entries
//! ([`super::audit::append_all_sync`]) and the commit are one transaction there.

use crate::store::Pool;
use serde_json::{json, Value};

mod details;
mod graph;
mod ingest;
mod neighbours;
mod nodes;

pub use details::*;
pub use graph::*;
pub use ingest::*;
pub use neighbours::{neighbours, Direction};
pub use nodes::*;

/// What an ingest did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    /// The event's dedup key.
    pub dedup_key: String,
    /// False when the same event had been received before (nothing changed).
    pub stored: bool,
}

/// Counts of what the store holds, for tests and the overview.
pub async fn counts(pool: &Pool) -> Result<Value, sqlx::Error> {
    let (events, datasets, jobs, runs): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM lineage_events), (SELECT count(*) FROM lineage_datasets), \
                (SELECT count(*) FROM lineage_jobs), (SELECT count(*) FROM lineage_runs)",
    )
    .fetch_one(pool)
    .await?;
    Ok(json!({ "events": events, "datasets": datasets, "jobs": jobs, "runs": runs }))
}

/// How many datasets and jobs are stored.
pub async fn totals(pool: &Pool) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM lineage_datasets), (SELECT count(*) FROM lineage_jobs)",
    )
    .fetch_one(pool)
    .await
}

/// Whether any dataset or job is stored (without counting them).
pub async fn any_lineage(pool: &Pool) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM lineage_datasets) OR EXISTS (SELECT 1 FROM lineage_jobs)",
    )
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}

/// How many OpenLineage events are stored.
pub async fn event_count(pool: &Pool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM lineage_events")
        .fetch_one(pool)
        .await
}
