//! Ingestion on the writer thread's connection ([`Direct`]: rusqlite on SQLite, a pool
//! connection on PostgreSQL). On PostgreSQL a batch of events is written with one statement
//! per table: the events, then namespaces, datasets, jobs and dataset versions as [`Batch`]
//! gathers them, then the runs re-folded from all their events ([`runs`]); each statement
//! binds its rows as one [`Table`]. There every statement is a round trip under the ingest
//! lock, and one per row (some twenty-five per event, [`one_by_one`]) held ingest to 348-454
//! events/s on the benchmark; a statement per table stores 868-912. SQLite, where a statement
//! is a function call, keeps the per-row path, which is faster there.

mod one_by_one;
mod runs;

use super::Ingested;
use crate::domain::lineage::{Batch, LineageEvent, Name};
use crate::store::direct::{Direct, Table, Val};
use std::collections::{HashMap, HashSet};

type R<T> = Result<T, crate::store::DriverError>;

/// A row the statement just wrote or found was not returned (it always is).
fn missing(what: &str) -> crate::store::DriverError {
    crate::store::DriverError::Pool(sqlx::Error::Protocol(format!(
        "the statement returned no {what}"
    )))
}

/// A table's cell: text, or NULL.
type Cell = Option<String>;

/// Runs `sql` (written after `WITH t(n, cols…) AS (…)`) over `rows` as the table `t`, with
/// `now` as `$1` when given. Nothing runs for no rows.
fn over(
    db: &mut impl Direct,
    sql: &str,
    cols: &[&str],
    rows: &[Vec<Cell>],
    now: Option<&str>,
) -> R<Vec<Vec<Val>>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let t = Table::new(
        db.postgres(),
        "t",
        cols,
        1 + usize::from(now.is_some()),
        rows,
    );
    let mut args: Vec<crate::store::direct::Arg<'_>> = now.into_iter().map(Into::into).collect();
    args.extend(t.args());
    db.rows(&format!("{}{sql}", t.with), &args)
}

/// `(namespace, name, id)` rows as a map.
fn ids(rows: Vec<Vec<Val>>) -> R<HashMap<Name, i64>> {
    rows.into_iter()
        .map(|r| {
            let mut r = r.into_iter();
            match (r.next(), r.next(), r.next().as_ref().and_then(Val::int)) {
                (Some(Val::Text(ns)), Some(Val::Text(name)), Some(id)) => Ok(((ns, name), id)),
                _ => Err(missing("namespace, name and id")),
            }
        })
        .collect()
}

/// Stores validated events (with their raw bodies) and updates the graph inside the caller's
/// write transaction on `db`. An event whose dedup key is already stored, or comes earlier in
/// `events`, is a duplicate and changes nothing.
pub fn ingest(
    db: &mut impl Direct,
    events: &[(&LineageEvent, &str)],
    now: &str,
) -> R<Vec<Ingested>> {
    if db.postgres() {
        ingest_batched(db, events, now)
    } else {
        one_by_one::ingest(db, events, now)
    }
}

/// [`ingest`] with one statement per table for the whole batch: PostgreSQL's path, public so
/// that the tests hold it to the graph SQLite's per-row path leaves.
pub fn ingest_batched(
    db: &mut impl Direct,
    events: &[(&LineageEvent, &str)],
    now: &str,
) -> R<Vec<Ingested>> {
    let keys: Vec<String> = events.iter().map(|(e, _)| e.dedup_key()).collect();
    let mut seen = HashSet::new();
    let first: Vec<bool> = keys.iter().map(|k| seen.insert(k.as_str())).collect();
    let rows: Vec<Vec<Cell>> = events
        .iter()
        .zip(&keys)
        .zip(&first)
        .filter(|(_, first)| **first)
        .map(|(((e, body), key), _)| {
            vec![
                Some(key.clone()),
                Some(e.kind.name().to_owned()),
                match &e.kind {
                    crate::domain::lineage::EventKind::Run(t) => Some(t.as_str().to_owned()),
                    _ => None,
                },
                Some(e.event_time.clone()),
                e.run.as_ref().map(|r| r.run_id.clone()),
                Some((*body).to_owned()),
            ]
        })
        .collect();
    let stored: HashSet<String> = over(db, EVENTS, &EVENT_COLS, &rows, Some(now))?
        .into_iter()
        .filter_map(|r| r.into_iter().next().and_then(Val::text))
        .collect();
    let mut batch = Batch::default();
    let mut done = Vec::with_capacity(events.len());
    for (((e, _), key), first) in events.iter().zip(keys).zip(first) {
        let new = first && stored.contains(&key);
        if new {
            batch.add(e, &key);
        }
        done.push(Ingested {
            dedup_key: key,
            stored: new,
        });
    }
    if !batch.is_empty() {
        write(db, &batch, now)?;
    }
    Ok(done)
}

const EVENT_COLS: [&str; 6] = [
    "dedup_key",
    "kind",
    "event_type",
    "event_time",
    "run_id",
    "body",
];

/// Inserts the events, in order; returns the keys of those not stored before.
const EVENTS: &str = "INSERT INTO lineage_events (dedup_key, kind, event_type, event_time, run_id, received_at, body) \
     SELECT t.dedup_key, t.kind, t.event_type, t.event_time, t.run_id, $1, t.body FROM t WHERE true ORDER BY t.n \
     ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key";

/// Writes what the batch's new events touch.
fn write(db: &mut impl Direct, batch: &Batch, now: &str) -> R<()> {
    let namespaces: Vec<Vec<Cell>> = batch
        .namespaces
        .iter()
        .map(|n| vec![Some(n.clone())])
        .collect();
    over(db, NAMESPACES, &["name"], &namespaces, Some(now))?;
    let datasets: Vec<Vec<Cell>> = batch
        .datasets
        .iter()
        .map(|((ns, name), d)| {
            let (facets, fields) = (d.facets.as_ref(), d.fields.as_ref());
            vec![
                Some(ns.clone()),
                Some(name.clone()),
                facets.map(|s| s.value.clone()),
                facets.map(|s| s.from.clone()),
                fields.map(|s| s.value.clone()),
                fields.map(|s| s.from.clone()),
            ]
        })
        .collect();
    let mut dataset_ids = ids(over(db, DATASETS, &DATASET_COLS, &datasets, Some(now))?)?;
    let jobs: Vec<Vec<Cell>> = batch
        .jobs
        .iter()
        .map(|((ns, name), facets)| {
            vec![
                Some(ns.clone()),
                Some(name.clone()),
                facets.as_ref().map(|s| s.value.clone()),
                facets.as_ref().map(|s| s.from.clone()),
            ]
        })
        .collect();
    let job_ids = ids(over(db, JOBS, &JOB_COLS, &jobs, Some(now))?)?;
    let mut versions = Vec::with_capacity(batch.versions.len());
    for ((dataset, version), v) in &batch.versions {
        let id = dataset_ids
            .get(dataset)
            .ok_or_else(|| missing("dataset_id"))?;
        versions.push(vec![
            Some(id.to_string()),
            Some(version.clone()),
            v.run_id.clone(),
            Some(v.fields.clone()),
            Some(v.facets.clone()),
            Some(v.column_lineage.clone()),
            Some(v.from.clone()),
        ]);
    }
    over(db, VERSIONS, &VERSION_COLS, &versions, Some(now))?;
    let touched: Vec<Vec<Cell>> = versions.iter().map(|v| vec![v[0].clone()]).collect();
    over(db, CURRENT_VERSIONS, &["dataset_id"], &touched, None)?;
    runs::write(db, batch, &mut dataset_ids, &job_ids, now)
}

const NAMESPACES: &str =
    "INSERT INTO lineage_namespaces (name, created_at) SELECT t.name, $1 FROM t WHERE true \
     ON CONFLICT DO NOTHING";

const DATASET_COLS: [&str; 6] = [
    "namespace",
    "name",
    "facets",
    "facets_from",
    "fields",
    "fields_from",
];

/// Creates the datasets, and takes facets and schema from the batch where they sort later
/// than what is stored (a part without them has `''`, which never does).
const DATASETS: &str = "INSERT INTO lineage_datasets AS d (namespace, name, facets, facets_from, fields, fields_from, created_at, updated_at) \
     SELECT t.namespace, t.name, coalesce(t.facets, '{}'), coalesce(t.facets_from, ''), coalesce(t.fields, '[]'), \
       coalesce(t.fields_from, ''), $1, $1 FROM t WHERE true \
     ON CONFLICT (namespace, name) DO UPDATE SET \
       facets = CASE WHEN excluded.facets_from > d.facets_from THEN excluded.facets ELSE d.facets END, \
       facets_from = CASE WHEN excluded.facets_from > d.facets_from THEN excluded.facets_from ELSE d.facets_from END, \
       fields = CASE WHEN excluded.fields_from > d.fields_from THEN excluded.fields ELSE d.fields END, \
       fields_from = CASE WHEN excluded.fields_from > d.fields_from THEN excluded.fields_from ELSE d.fields_from END, \
       updated_at = CASE WHEN excluded.facets_from > d.facets_from OR excluded.fields_from > d.fields_from \
         THEN excluded.updated_at ELSE d.updated_at END \
     RETURNING namespace, name, dataset_id";

const JOB_COLS: [&str; 4] = ["namespace", "name", "facets", "facets_from"];

/// Creates the jobs, and takes facets from the batch where they sort later.
const JOBS: &str = "INSERT INTO lineage_jobs AS j (namespace, name, facets, facets_from, created_at, updated_at) \
     SELECT t.namespace, t.name, coalesce(t.facets, '{}'), coalesce(t.facets_from, ''), $1, $1 FROM t WHERE true \
     ON CONFLICT (namespace, name) DO UPDATE SET \
       facets = CASE WHEN excluded.facets_from > j.facets_from THEN excluded.facets ELSE j.facets END, \
       updated_at = CASE WHEN excluded.facets_from > j.facets_from THEN excluded.updated_at ELSE j.updated_at END, \
       facets_from = CASE WHEN excluded.facets_from > j.facets_from THEN excluded.facets_from ELSE j.facets_from END \
     RETURNING namespace, name, job_id";

const VERSION_COLS: [&str; 7] = [
    "dataset_id",
    "version",
    "run_id",
    "fields",
    "facets",
    "column_lineage",
    "facets_from",
];

/// Records dataset versions (outputs of runs, versioned DatasetEvents), each replaced only by
/// a part that sorts later.
const VERSIONS: &str = "INSERT INTO lineage_dataset_versions (dataset_id, version, run_id, fields, facets, column_lineage, facets_from, created_at) \
     SELECT CAST(t.dataset_id AS BIGINT), t.version, t.run_id, t.fields, t.facets, t.column_lineage, t.facets_from, $1 \
     FROM t WHERE true \
     ON CONFLICT (dataset_id, version) DO UPDATE SET run_id = excluded.run_id, fields = excluded.fields, facets = excluded.facets, \
       column_lineage = excluded.column_lineage, facets_from = excluded.facets_from \
     WHERE excluded.facets_from > lineage_dataset_versions.facets_from";

/// Makes each touched dataset's latest version current.
const CURRENT_VERSIONS: &str = "UPDATE lineage_datasets SET current_version = \
       (SELECT version FROM lineage_dataset_versions v WHERE v.dataset_id = lineage_datasets.dataset_id \
        ORDER BY facets_from DESC, version DESC LIMIT 1) \
     WHERE dataset_id IN (SELECT CAST(t.dataset_id AS BIGINT) FROM t)";
