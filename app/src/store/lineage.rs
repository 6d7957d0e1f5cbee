//! The OpenLineage store: raw events and the graph normalised from them.
//!
//! Ingestion keeps every derived row a function of the *set* of events received: a repeated
//! event is ignored by its dedup key, a run is re-folded from all its events
//! ([`fold_run`]), and facets, schemas and versions are replaced only by an event that sorts
//! later by (event time, dedup key). Events arriving twice or out of order give the same graph.
//!
//! An event touches twenty-odd rows. Through sqlx each statement costs about 55 µs (a
//! round trip to its worker thread); through rusqlite about 4 µs. So ingestion runs on a
//! writer thread with a rusqlite connection of its own ([`super::open_own_connection`]),
//! whose prepared statements live as long as it does: the events, their audit entries
//! ([`super::audit::append_all_sync`]) and the commit are one transaction there.

use crate::domain::lineage::{
    fold_run, job_version, parse_event, DatasetPart, EventKind, LineageEvent,
};
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Map, Value};
use sqlx::SqlitePool;
use std::collections::BTreeSet;

/// What an ingest did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    /// The event's dedup key.
    pub dedup_key: String,
    /// False when the same event had been received before (nothing changed).
    pub stored: bool,
}

fn facets_json(m: &Map<String, Value>) -> String {
    Value::Object(m.clone()).to_string()
}

type Db = rusqlite::Connection;

type R<T> = Result<T, rusqlite::Error>;

fn namespace(db: &Db, name: &str, now: &str) -> R<()> {
    db.prepare_cached(
        "INSERT INTO lineage_namespaces (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![name, now])?;
    Ok(())
}

/// Creates the dataset if needed and takes its facets and schema from this event when it is
/// the latest to carry them. Returns the dataset id.
fn dataset(db: &Db, d: &DatasetPart, from: &str, now: &str) -> R<i64> {
    namespace(db, &d.namespace, now)?;
    let facets = (!d.facets.is_empty()).then(|| facets_json(&d.facets));
    let fields = d
        .fields
        .as_ref()
        .map(|f| serde_json::to_string(f).unwrap_or_else(|_| "[]".into()));
    db.prepare_cached(
        "INSERT INTO lineage_datasets (namespace, name, facets, facets_from, fields, fields_from, created_at, updated_at) \
         VALUES (?1, ?2, coalesce(?3, '{}'), CASE WHEN ?3 IS NULL THEN '' ELSE ?5 END, coalesce(?4, '[]'), CASE WHEN ?4 IS NULL THEN '' ELSE ?5 END, ?6, ?6) \
         ON CONFLICT (namespace, name) DO UPDATE SET \
           facets = CASE WHEN ?3 IS NOT NULL AND ?5 > facets_from THEN ?3 ELSE facets END, \
           facets_from = CASE WHEN ?3 IS NOT NULL AND ?5 > facets_from THEN ?5 ELSE facets_from END, \
           fields = CASE WHEN ?4 IS NOT NULL AND ?5 > fields_from THEN ?4 ELSE fields END, \
           fields_from = CASE WHEN ?4 IS NOT NULL AND ?5 > fields_from THEN ?5 ELSE fields_from END, \
           updated_at = CASE WHEN (?3 IS NOT NULL AND ?5 > facets_from) OR (?4 IS NOT NULL AND ?5 > fields_from) THEN ?6 ELSE updated_at END \
         RETURNING dataset_id",
    )?
    .query_row(
        params![d.namespace, d.name, facets, fields, from, now],
        |r| r.get(0),
    )
}

/// Records a dataset version (an output of a run, or a versioned DatasetEvent) and makes the
/// latest version current.
fn dataset_version(
    db: &Db,
    dataset_id: i64,
    d: &DatasetPart,
    version: &str,
    run_id: Option<&str>,
    from: &str,
    now: &str,
) -> R<()> {
    let lineage: Vec<[&str; 4]> = d
        .column_lineage
        .iter()
        .map(|c| {
            [
                c.field.as_str(),
                c.namespace.as_str(),
                c.name.as_str(),
                c.input_field.as_str(),
            ]
        })
        .collect();
    let fields = serde_json::to_string(d.fields.as_deref().unwrap_or_default())
        .unwrap_or_else(|_| "[]".into());
    let lineage = serde_json::to_string(&lineage).unwrap_or_else(|_| "[]".into());
    db.prepare_cached(
        "INSERT INTO lineage_dataset_versions (dataset_id, version, run_id, fields, facets, column_lineage, facets_from, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (dataset_id, version) DO UPDATE SET run_id = excluded.run_id, fields = excluded.fields, facets = excluded.facets, \
           column_lineage = excluded.column_lineage, facets_from = excluded.facets_from \
         WHERE excluded.facets_from > lineage_dataset_versions.facets_from",
    )?
    .execute(params![
        dataset_id,
        version,
        run_id,
        fields,
        facets_json(&d.facets),
        lineage,
        from,
        now
    ])?;
    db.prepare_cached(
        "UPDATE lineage_datasets SET current_version = \
           (SELECT version FROM lineage_dataset_versions v WHERE v.dataset_id = ?1 ORDER BY facets_from DESC, version DESC LIMIT 1) \
         WHERE dataset_id = ?1",
    )?
    .execute(params![dataset_id])?;
    Ok(())
}

fn job(
    db: &Db,
    namespace_name: &str,
    name: &str,
    facets: &Map<String, Value>,
    from: &str,
    now: &str,
) -> R<i64> {
    namespace(db, namespace_name, now)?;
    let facets = (!facets.is_empty()).then(|| facets_json(facets));
    db.prepare_cached(
        "INSERT INTO lineage_jobs (namespace, name, facets, facets_from, created_at, updated_at) \
         VALUES (?1, ?2, coalesce(?3, '{}'), CASE WHEN ?3 IS NULL THEN '' ELSE ?4 END, ?5, ?5) \
         ON CONFLICT (namespace, name) DO UPDATE SET \
           facets = CASE WHEN ?3 IS NOT NULL AND ?4 > facets_from THEN ?3 ELSE facets END, \
           updated_at = CASE WHEN ?3 IS NOT NULL AND ?4 > facets_from THEN ?5 ELSE updated_at END, \
           facets_from = CASE WHEN ?3 IS NOT NULL AND ?4 > facets_from THEN ?4 ELSE facets_from END \
         RETURNING job_id",
    )?
    .query_row(params![namespace_name, name, facets, from, now], |r| r.get(0))
}

/// Ensures a job version with these inputs and outputs exists.
fn job_version_row(
    db: &Db,
    job_id: i64,
    version: &str,
    inputs: &[i64],
    outputs: &[i64],
    static_time: Option<&str>,
    now: &str,
) -> R<()> {
    db.prepare_cached(
        "INSERT INTO lineage_job_versions (job_id, version, static_time, created_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (job_id, version) DO UPDATE SET static_time = max(coalesce(static_time, ''), coalesce(excluded.static_time, '')) \
         WHERE excluded.static_time IS NOT NULL",
    )?
    .execute(params![job_id, version, static_time, now])?;
    let mut io = db.prepare_cached(
        "INSERT INTO lineage_job_io (job_id, version, direction, dataset_id) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    )?;
    for (direction, ids) in [("in", inputs), ("out", outputs)] {
        for id in ids {
            io.execute(params![job_id, version, direction, id])?;
        }
    }
    Ok(())
}

/// Drops run-derived versions no run names any more, and makes current the version of the
/// latest completed run or declaration (as in Marquez, completed runs make versions; a job
/// whose runs all failed or are still going shows its latest attempt).
fn settle_job(db: &Db, job_id: i64) -> R<()> {
    db.prepare_cached(
        "DELETE FROM lineage_job_versions WHERE job_id = ?1 AND static_time IS NULL \
         AND NOT EXISTS (SELECT 1 FROM lineage_runs r WHERE r.job_id = ?1 AND r.job_version = lineage_job_versions.version)",
    )?
    .execute(params![job_id])?;
    // Each max() is one seek in lineage_runs_by_version; "latest run in any state" is the
    // greatest of one seek per state.
    db.prepare_cached(
        "UPDATE lineage_jobs SET current_version = ( \
           SELECT v.version FROM lineage_job_versions v WHERE v.job_id = ?1 \
           ORDER BY max(coalesce((SELECT max(r.last_event_time) FROM lineage_runs r WHERE r.job_id = ?1 AND r.job_version = v.version \
                                   AND r.state = 'COMPLETE'), ''), coalesce(v.static_time, '')) DESC, \
                    (SELECT coalesce(max((SELECT max(r.last_event_time) FROM lineage_runs r \
                                          WHERE r.job_id = ?1 AND r.job_version = v.version AND r.state = s.column1)), '') \
                     FROM (VALUES ('START'), ('RUNNING'), ('COMPLETE'), ('ABORT'), ('FAIL'), ('OTHER')) s) DESC, \
                    v.version DESC LIMIT 1) \
         WHERE job_id = ?1",
    )?
    .execute(params![job_id])?;
    Ok(())
}

fn ids_of(db: &Db, set: &BTreeSet<(String, String)>) -> R<Vec<i64>> {
    let mut q = db.prepare_cached(
        "SELECT dataset_id FROM lineage_datasets WHERE namespace = ?1 AND name = ?2",
    )?;
    set.iter()
        .map(|(ns, name)| q.query_row(params![ns, name], |r| r.get(0)))
        .collect()
}

/// Stores validated events (with their raw bodies) and updates the graph, in order, inside
/// the caller's write transaction on `db` (see the module docs for why rusqlite).
pub fn ingest(db: &Db, events: &[(&LineageEvent, &str)], now: &str) -> R<Vec<Ingested>> {
    events
        .iter()
        .map(|(e, body)| ingest_one(db, e, body, now))
        .collect()
}

fn ingest_one(db: &Db, e: &LineageEvent, body: &str, now: &str) -> R<Ingested> {
    let key = e.dedup_key();
    let event_type = match &e.kind {
        EventKind::Run(t) => Some(t.as_str()),
        _ => None,
    };
    let run_id = e.run.as_ref().map(|r| r.run_id.as_str());
    let inserted = db
        .prepare_cached(
            "INSERT INTO lineage_events (dedup_key, kind, event_type, event_time, run_id, received_at, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (dedup_key) DO NOTHING",
        )?
        .execute(params![key, e.kind.name(), event_type, e.event_time, run_id, now, body])?;
    if inserted == 0 {
        return Ok(Ingested {
            dedup_key: key,
            stored: false,
        });
    }
    // Later (event time, dedup key) wins; the separator sorts below every printable character.
    let from = format!("{}\u{1}{key}", e.event_time);
    match (&e.kind, &e.dataset, &e.job, &e.run) {
        (EventKind::Dataset, Some(d), _, _) => {
            let id = dataset(db, d, &from, now)?;
            if let Some(v) = &d.version {
                dataset_version(db, id, d, v, None, &from, now)?;
            }
        }
        (EventKind::Job, _, Some((ns, name, facets)), _) => {
            let job_id = job(db, ns, name, facets, &from, now)?;
            let ins = e
                .inputs
                .iter()
                .map(|d| dataset(db, d, &from, now))
                .collect::<R<Vec<i64>>>()?;
            let outs = e
                .outputs
                .iter()
                .map(|d| dataset(db, d, &from, now))
                .collect::<R<Vec<i64>>>()?;
            let set = |v: &[DatasetPart]| -> BTreeSet<(String, String)> {
                v.iter()
                    .map(|d| (d.namespace.clone(), d.name.clone()))
                    .collect()
            };
            let version = job_version(&set(&e.inputs), &set(&e.outputs), None);
            job_version_row(db, job_id, &version, &ins, &outs, Some(&e.event_time), now)?;
            settle_job(db, job_id)?;
        }
        (EventKind::Run(_), _, Some((ns, name, facets)), Some(run)) => {
            let job_id = job(db, ns, name, facets, &from, now)?;
            for d in &e.inputs {
                dataset(db, d, &from, now)?;
            }
            for d in &e.outputs {
                let id = dataset(db, d, &from, now)?;
                let version = d
                    .version
                    .clone()
                    .unwrap_or_else(|| format!("run:{}", run.run_id));
                dataset_version(db, id, d, &version, Some(&run.run_id), &from, now)?;
            }
            refold_run(db, &run.run_id, job_id, now)?;
        }
        _ => {}
    }
    Ok(Ingested {
        dedup_key: key,
        stored: true,
    })
}

/// Re-derives a run from all its stored events.
fn refold_run(db: &Db, run_id: &str, job_id: i64, now: &str) -> R<()> {
    let events: Vec<LineageEvent> = {
        let mut q = db
            .prepare_cached("SELECT body FROM lineage_events WHERE run_id = ?1 AND kind = 'run'")?;
        let bodies = q.query_map(params![run_id], |r| r.get::<_, String>(0))?;
        bodies
            .filter_map(Result::ok)
            .filter_map(|b| serde_json::from_str::<Value>(&b).ok())
            .filter_map(|v| parse_event(&v).ok())
            .collect()
    };
    let Some(s) = fold_run(&events) else {
        return Ok(());
    };
    let (ins, outs) = (ids_of(db, &s.inputs)?, ids_of(db, &s.outputs)?);
    let version = job_version(&s.inputs, &s.outputs, None);
    job_version_row(db, job_id, &version, &ins, &outs, None, now)?;
    let previous: Option<(i64, String)> = db
        .prepare_cached("SELECT job_id, job_version FROM lineage_runs WHERE run_id = ?1")?
        .query_row(params![run_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let current: Option<String> = db
        .prepare_cached("SELECT current_version FROM lineage_jobs WHERE job_id = ?1")?
        .query_row(params![job_id], |r| r.get(0))?;
    db.prepare_cached(
        "INSERT INTO lineage_runs (run_id, job_id, job_version, state, started_at, ended_at, last_event_time, nominal_start, nominal_end, \
           parent_run_id, error_message, mlflow_run_id, facets) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT (run_id) DO UPDATE SET job_id = excluded.job_id, job_version = excluded.job_version, state = excluded.state, \
           started_at = excluded.started_at, ended_at = excluded.ended_at, last_event_time = excluded.last_event_time, \
           nominal_start = excluded.nominal_start, nominal_end = excluded.nominal_end, parent_run_id = excluded.parent_run_id, \
           error_message = excluded.error_message, mlflow_run_id = excluded.mlflow_run_id, facets = excluded.facets",
    )?
    .execute(params![
        run_id,
        job_id,
        version,
        s.state.as_str(),
        s.started_at,
        s.ended_at,
        s.last_event_time,
        s.nominal.as_ref().map(|n| n.0.clone()),
        s.nominal.as_ref().and_then(|n| n.1.clone()),
        s.parent.as_ref().map(|p| p.0.clone()),
        s.error_message,
        s.mlflow_run_id,
        facets_json(&s.facets),
    ])?;
    db.prepare_cached("DELETE FROM lineage_run_io WHERE run_id = ?1")?
        .execute(params![run_id])?;
    let mut io = db.prepare_cached(
        "INSERT INTO lineage_run_io (run_id, direction, dataset_id) VALUES (?1, ?2, ?3)",
    )?;
    for (direction, ids) in [("in", &ins), ("out", &outs)] {
        for id in ids {
            io.execute(params![run_id, direction, id])?;
        }
    }
    // A run's state and times only move forward, so a run joining or staying in the job's
    // current version keeps that version current; only a version change needs settling.
    let moved = previous
        .as_ref()
        .is_some_and(|(j, v)| *j != job_id || *v != version);
    if moved || current.as_deref() != Some(version.as_str()) {
        settle_job(db, job_id)?;
    }
    if let Some((old, _)) = previous.filter(|(j, _)| *j != job_id) {
        settle_job(db, old)?;
    }
    Ok(())
}

/// Counts of what the store holds, for tests and the overview.
pub async fn counts(pool: &SqlitePool) -> Result<Value, sqlx::Error> {
    let (events, datasets, jobs, runs): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM lineage_events), (SELECT count(*) FROM lineage_datasets), \
                (SELECT count(*) FROM lineage_jobs), (SELECT count(*) FROM lineage_runs)",
    )
    .fetch_one(pool)
    .await?;
    Ok(json!({ "events": events, "datasets": datasets, "jobs": jobs, "runs": runs }))
}

// ---- the graph ------------------------------------------------------------------------------

use crate::domain::lineage::NodeRef;
use std::collections::{BTreeMap, VecDeque};

/// Upstream or downstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Towards sources.
    Up,
    /// Towards consumers.
    Down,
}

fn dataset_ref((namespace, name): (String, String)) -> NodeRef {
    NodeRef::Dataset { namespace, name }
}

fn job_ref((namespace, name): (String, String)) -> NodeRef {
    NodeRef::Job { namespace, name }
}

/// The node an id names, if it exists. Ambiguous dataset and job ids (colons in the
/// namespace or name) resolve to the reading that exists; an OpenLineage run id resolves to
/// its job, an MLflow run id to the training run.
pub async fn resolve(
    pool: &SqlitePool,
    id: &str,
) -> Result<Option<NodeRef>, crate::error::AppError> {
    let candidates = NodeRef::parse_candidates(id)
        .map_err(|e| crate::error::AppError::validation("nodeId", e))?;
    for c in candidates {
        let found = match &c {
            NodeRef::Dataset { namespace, name } => sqlx::query_scalar::<_, i64>(
                "SELECT 1 FROM lineage_datasets WHERE namespace = ? AND name = ?",
            )
            .bind(namespace)
            .bind(name)
            .fetch_optional(pool)
            .await?
            .map(|_| c.clone()),
            NodeRef::Job { namespace, name } => sqlx::query_scalar::<_, i64>(
                "SELECT 1 FROM lineage_jobs WHERE namespace = ? AND name = ?",
            )
            .bind(namespace)
            .bind(name)
            .fetch_optional(pool)
            .await?
            .map(|_| c.clone()),
            NodeRef::Run(run) => {
                let mlflow = sqlx::query_scalar::<_, i64>(
                    "SELECT 1 FROM runs WHERE run_uuid = ? AND lifecycle_stage = 'active'",
                )
                .bind(run)
                .fetch_optional(pool)
                .await?;
                if mlflow.is_some() {
                    Some(c.clone())
                } else {
                    sqlx::query_as::<_, (String, String)>(
                        "SELECT j.namespace, j.name FROM lineage_runs r JOIN lineage_jobs j ON j.job_id = r.job_id WHERE r.run_id = ?",
                    )
                    .bind(run)
                    .fetch_optional(pool)
                    .await?
                    .map(job_ref)
                }
            }
            NodeRef::ModelVersion { name, version } => match version.parse::<i64>() {
                Ok(v) => sqlx::query_scalar::<_, i64>(
                    "SELECT 1 FROM model_versions WHERE name = ? AND version = ?",
                )
                .bind(name)
                .bind(v)
                .fetch_optional(pool)
                .await?
                .map(|_| c.clone()),
                Err(_) => None,
            },
            NodeRef::Deployment(d) => match d.rsplit_once('@') {
                Some((model, alias)) => sqlx::query_scalar::<_, i64>(
                    "SELECT 1 FROM model_aliases WHERE name = ? AND alias = ?",
                )
                .bind(model)
                .bind(alias)
                .fetch_optional(pool)
                .await?
                .map(|_| c.clone()),
                None => None,
            },
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn version_ref((name, version): (String, i64)) -> NodeRef {
    NodeRef::ModelVersion {
        name,
        version: version.to_string(),
    }
}

/// Rows of one or two text columns (a second column may be an integer version).
fn texts(
    db: &rusqlite::Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<String>, rusqlite::Error> {
    db.prepare_cached(sql)?
        .query_map(args, |r| r.get(0))?
        .collect()
}

fn text_pairs<B: rusqlite::types::FromSql>(
    db: &rusqlite::Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<(String, B)>, rusqlite::Error> {
    db.prepare_cached(sql)?
        .query_map(args, |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// A node's neighbours one step up or down, sorted.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub fn neighbours(
    db: &rusqlite::Connection,
    node: &NodeRef,
    dir: Direction,
) -> Result<Vec<NodeRef>, rusqlite::Error> {
    let io = |d: Direction| if d == Direction::Up { "out" } else { "in" };
    let mut out: Vec<NodeRef> = match (node, dir) {
        (NodeRef::Dataset { namespace, name }, _) => {
            // Jobs whose current version reads (down) or writes (up) the dataset.
            let mut v: Vec<NodeRef> = text_pairs(
                db,
                "SELECT j.namespace, j.name FROM lineage_datasets d \
                 JOIN lineage_job_io io ON io.dataset_id = d.dataset_id AND io.direction = ? \
                 JOIN lineage_jobs j ON j.job_id = io.job_id AND j.current_version = io.version \
                 WHERE d.namespace = ? AND d.name = ?",
                &[&io(dir), namespace, name],
            )?
            .into_iter()
            .map(job_ref)
            .collect();
            if dir == Direction::Down {
                // MLflow training runs that logged a dataset input of this name.
                v.extend(
                    texts(
                        db,
                        "SELECT DISTINCT i.run_uuid FROM datasets md JOIN run_inputs i ON i.dataset_id = md.dataset_id \
                         JOIN runs r ON r.run_uuid = i.run_uuid AND r.lifecycle_stage = 'active' WHERE md.name = ?",
                        &[name],
                    )?
                    .into_iter()
                    .map(NodeRef::Run),
                );
            }
            v
        }
        (NodeRef::Job { namespace, name }, _) => {
            let mut v: Vec<NodeRef> = text_pairs(
                db,
                "SELECT d.namespace, d.name FROM lineage_jobs j \
                 JOIN lineage_job_io io ON io.job_id = j.job_id AND io.version = j.current_version AND io.direction = ? \
                 JOIN lineage_datasets d ON d.dataset_id = io.dataset_id \
                 WHERE j.namespace = ? AND j.name = ?",
                &[&if dir == Direction::Up { "in" } else { "out" }, namespace, name],
            )?
            .into_iter()
            .map(dataset_ref)
            .collect();
            if dir == Direction::Down {
                // Training runs this job's runs name (the `mlflow` run facet).
                v.extend(
                    texts(
                        db,
                        "SELECT DISTINCT lr.mlflow_run_id FROM lineage_jobs j JOIN lineage_runs lr ON lr.job_id = j.job_id \
                         JOIN runs r ON r.run_uuid = lr.mlflow_run_id AND r.lifecycle_stage = 'active' \
                         WHERE j.namespace = ? AND j.name = ?",
                        &[namespace, name],
                    )?
                    .into_iter()
                    .map(NodeRef::Run),
                );
            }
            v
        }
        (NodeRef::Run(run), Direction::Up) => {
            let mut v: Vec<NodeRef> = text_pairs(
                db,
                "SELECT DISTINCT j.namespace, j.name FROM lineage_runs lr JOIN lineage_jobs j ON j.job_id = lr.job_id WHERE lr.mlflow_run_id = ?",
                &[run],
            )?
            .into_iter()
            .map(job_ref)
            .collect();
            v.extend(
                text_pairs(
                    db,
                    "SELECT DISTINCT ld.namespace, ld.name FROM run_inputs i JOIN datasets md ON md.dataset_id = i.dataset_id \
                     JOIN lineage_datasets ld ON ld.name = md.name WHERE i.run_uuid = ?",
                    &[run],
                )?
                .into_iter()
                .map(dataset_ref),
            );
            v
        }
        // Model versions registered from the run.
        (NodeRef::Run(run), Direction::Down) => text_pairs(
            db,
            "SELECT name, version FROM model_versions WHERE run_id = ?",
            &[run],
        )?
        .into_iter()
        .map(version_ref)
        .collect(),
        (NodeRef::ModelVersion { name, version }, Direction::Up) => texts(
            db,
            "SELECT v.run_id FROM model_versions v JOIN runs r ON r.run_uuid = v.run_id AND r.lifecycle_stage = 'active' \
             WHERE v.name = ? AND v.version = ?",
            &[name, &version.parse::<i64>().unwrap_or(-1)],
        )?
        .into_iter()
        .map(NodeRef::Run)
        .collect(),
        // A deployment is an alias serving the version (`model@alias`).
        (NodeRef::ModelVersion { name, version }, Direction::Down) => texts(
            db,
            "SELECT alias FROM model_aliases WHERE name = ? AND version = ?",
            &[name, &version.parse::<i64>().unwrap_or(-1)],
        )?
        .into_iter()
        .map(|alias| NodeRef::Deployment(format!("{name}@{alias}")))
        .collect(),
        (NodeRef::Deployment(d), Direction::Up) => match d.rsplit_once('@') {
            Some((model, alias)) => text_pairs(
                db,
                "SELECT name, version FROM model_aliases WHERE name = ? AND alias = ?",
                &[&model, &alias],
            )?
            .into_iter()
            .map(version_ref)
            .collect(),
            None => Vec::new(),
        },
        (NodeRef::Deployment(_), Direction::Down) => Vec::new(),
    };
    out.sort();
    out.dedup();
    Ok(out)
}

/// Most nodes one lineage answer holds.
pub const MAX_GRAPH_NODES: usize = 2000;

/// A subgraph around a node: every node within `up` steps upstream or `down` steps
/// downstream, each with its neighbours (so edges and hidden counts can be drawn).
#[derive(Clone, Debug, Default)]
pub struct Subgraph {
    /// Nodes with their upstream and downstream neighbours (all of them, shown or not).
    pub nodes: BTreeMap<NodeRef, (Vec<NodeRef>, Vec<NodeRef>)>,
    /// Whether [`MAX_GRAPH_NODES`] cut the walk short.
    pub truncated: bool,
}

/// Walks the graph from `start`, upstream and downstream separately.
///
/// A walk is two or more queries per node. Through sqlx each was a trip to the connection's
/// worker thread, and under mixed load each trip queued behind other requests (300 ms per
/// lineage page, 20 ms alone); the whole walk is now one blocking task on a reader of its own.
pub async fn subgraph(
    pool: &SqlitePool,
    start: &NodeRef,
    up: usize,
    down: usize,
) -> Result<Subgraph, rusqlite::Error> {
    let start = start.clone();
    super::read_blocking(pool, move |db| walk(db, &start, up, down)).await
}

fn walk(
    db: &rusqlite::Connection,
    start: &NodeRef,
    up: usize,
    down: usize,
) -> Result<Subgraph, rusqlite::Error> {
    let mut g = Subgraph::default();
    let mut depth_of: BTreeMap<(NodeRef, bool), usize> = BTreeMap::new();
    for (dir, limit) in [(Direction::Up, up), (Direction::Down, down)] {
        let mut queue = VecDeque::from([(start.clone(), 0usize)]);
        while let Some((node, depth)) = queue.pop_front() {
            let key = (node.clone(), dir == Direction::Up);
            if depth_of.contains_key(&key) {
                continue;
            }
            depth_of.insert(key, depth);
            if !g.nodes.contains_key(&node) {
                if g.nodes.len() >= MAX_GRAPH_NODES {
                    g.truncated = true;
                    continue;
                }
                let ups = neighbours(db, &node, Direction::Up)?;
                let downs = neighbours(db, &node, Direction::Down)?;
                g.nodes.insert(node.clone(), (ups, downs));
            }
            if depth < limit {
                let next = match g.nodes.get(&node) {
                    Some((ups, downs)) => {
                        if dir == Direction::Up {
                            ups.clone()
                        } else {
                            downs.clone()
                        }
                    }
                    None => Vec::new(),
                };
                queue.extend(next.into_iter().map(|n| (n, depth + 1)));
            }
        }
    }
    Ok(g)
}

/// What the graph shows of each node, in order, read in one blocking task.
pub async fn nodes_data(
    pool: &SqlitePool,
    nodes: Vec<NodeRef>,
) -> Result<Vec<Value>, rusqlite::Error> {
    super::read_blocking(pool, move |db| {
        nodes.iter().map(|n| node_data(db, n)).collect()
    })
    .await
}

/// What the graph shows of a node.
pub fn node_data(db: &rusqlite::Connection, node: &NodeRef) -> Result<Value, rusqlite::Error> {
    Ok(match node {
        NodeRef::Dataset { namespace, name } => {
            let row = db
                .prepare_cached(
                    "SELECT fields, current_version, created_at, updated_at FROM lineage_datasets WHERE namespace = ? AND name = ?",
                )?
                .query_row([namespace, name], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .optional()?;
            match row {
                Some((fields, version, created, updated)) => json!({
                    "id": { "namespace": namespace, "name": name },
                    "namespace": namespace, "name": name,
                    "fields": serde_json::from_str::<Value>(&fields).unwrap_or(json!([])),
                    "currentVersion": version, "createdAt": created, "updatedAt": updated,
                }),
                None => json!({ "namespace": namespace, "name": name }),
            }
        }
        NodeRef::Job { namespace, name } => {
            let row = db
                .prepare_cached(
                    "SELECT current_version, created_at, updated_at FROM lineage_jobs WHERE namespace = ? AND name = ?",
                )?
                .query_row([namespace, name], |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .optional()?;
            let latest: Option<LatestRunRow> = db
                .prepare_cached(
                    "SELECT r.run_id, r.state, r.started_at, r.ended_at, r.error_message FROM lineage_runs r \
                     JOIN lineage_jobs j ON j.job_id = r.job_id WHERE j.namespace = ? AND j.name = ? \
                     ORDER BY r.last_event_time DESC, r.run_id DESC LIMIT 1",
                )?
                .query_row([namespace, name], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            let (version, created, updated) = row.unwrap_or_default();
            json!({
                "id": { "namespace": namespace, "name": name },
                "namespace": namespace, "name": name,
                "currentVersion": version, "createdAt": created, "updatedAt": updated,
                "latestRun": latest.map(|(id, state, started, ended, error)| json!({
                    "id": id, "state": state, "startedAt": started, "endedAt": ended, "errorMessage": error,
                })),
            })
        }
        NodeRef::Run(run) => {
            let row: Option<TrainingRunRow> = db
                .prepare_cached(
                    "SELECT run_name, experiment_id, status, start_time, end_time FROM runs WHERE run_uuid = ?",
                )?
                .query_row([run], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            match row {
                Some((name, exp, status, start, end)) => json!({
                    "runId": run, "name": name, "experimentId": exp.to_string(), "status": status,
                    "startTime": start, "endTime": end,
                }),
                None => json!({ "runId": run }),
            }
        }
        NodeRef::ModelVersion { name, version } => json!({ "name": name, "version": version }),
        NodeRef::Deployment(name) => json!({ "name": name }),
    })
}

/// A job's latest run: id, state, start, end and error message.
type LatestRunRow = (String, String, String, Option<String>, Option<String>);
/// An MLflow run: name, experiment, status, start and end.
type TrainingRunRow = (String, i64, String, Option<i64>, Option<i64>);

/// One search hit: node type, namespace (empty for runs), name, node id and last update.
pub type SearchHit = (String, String, String, String, String);

/// Datasets, jobs and runs whose name (or namespace, or run id) contains `q`, best first:
/// exact names, then names starting with `q`, then the rest, each alphabetically.
pub async fn search(pool: &SqlitePool, q: &str, limit: i64) -> Result<Vec<SearchHit>, sqlx::Error> {
    // `%` and `_` in what was typed are literal characters, never wildcards.
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let like = format!("%{escaped}%");
    let prefix = format!("{escaped}%");
    let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
        "SELECT type, namespace, name, node_id, updated_at, rank FROM ( \
           SELECT 'DATASET' AS type, namespace, name, 'dataset:' || namespace || ':' || name AS node_id, updated_at, \
                  CASE WHEN lower(name) = lower(?1) THEN 0 WHEN lower(name) LIKE lower(?4) ESCAPE '\\' THEN 1 ELSE 2 END AS rank \
             FROM lineage_datasets WHERE name LIKE ?2 ESCAPE '\\' OR namespace LIKE ?2 ESCAPE '\\' \
           UNION ALL \
           SELECT 'JOB', namespace, name, 'job:' || namespace || ':' || name, updated_at, \
                  CASE WHEN lower(name) = lower(?1) THEN 0 WHEN lower(name) LIKE lower(?4) ESCAPE '\\' THEN 1 ELSE 2 END \
             FROM lineage_jobs WHERE name LIKE ?2 ESCAPE '\\' OR namespace LIKE ?2 ESCAPE '\\' \
           UNION ALL \
           SELECT 'RUN', '', run_name, 'run:' || run_uuid, CAST(coalesce(end_time, start_time, 0) AS TEXT), \
                  CASE WHEN lower(run_name) = lower(?1) OR run_uuid = lower(?1) THEN 0 ELSE 2 END \
             FROM runs WHERE lifecycle_stage = 'active' AND (run_name LIKE ?2 ESCAPE '\\' OR run_uuid LIKE lower(?4) ESCAPE '\\') \
           UNION ALL \
           SELECT 'RUN', j.namespace, j.name, 'run:' || r.run_id, r.last_event_time, CASE WHEN r.run_id = lower(?1) THEN 0 ELSE 2 END \
             FROM lineage_runs r JOIN lineage_jobs j ON j.job_id = r.job_id WHERE r.run_id LIKE lower(?4) ESCAPE '\\' AND length(?1) >= 8 \
         ) ORDER BY rank, name, namespace, node_id LIMIT ?3",
    )
    .bind(q)
    .bind(like)
    .bind(limit)
    .bind(prefix)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(t, ns, name, id, updated, _)| (t, ns, name, id, updated))
        .collect())
}

/// A dataset's current fields and facets (JSON), versions (newest first: version, time of
/// the latest event that described it, producing run) and the current version's column lineage (JSON).
pub type DatasetDetail = (
    String,
    String,
    Vec<(String, String, Option<String>)>,
    String,
);

/// See [`DatasetDetail`].
pub async fn dataset_detail(
    pool: &SqlitePool,
    namespace: &str,
    name: &str,
) -> Result<Option<DatasetDetail>, sqlx::Error> {
    let row: Option<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT dataset_id, fields, facets, current_version FROM lineage_datasets WHERE namespace = ? AND name = ?",
    )
    .bind(namespace)
    .bind(name)
    .fetch_optional(pool)
    .await?;
    let Some((id, fields, facets, current)) = row else {
        return Ok(None);
    };
    let versions: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT version, substr(facets_from, 1, instr(facets_from, char(1)) - 1), run_id FROM lineage_dataset_versions \
         WHERE dataset_id = ? ORDER BY facets_from DESC LIMIT 20",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let lineage: Option<String> = sqlx::query_scalar(
        "SELECT column_lineage FROM lineage_dataset_versions WHERE dataset_id = ? AND version = ?",
    )
    .bind(id)
    .bind(current)
    .fetch_optional(pool)
    .await?;
    Ok(Some((
        fields,
        facets,
        versions,
        lineage.unwrap_or_else(|| "[]".into()),
    )))
}

/// Where a dataset field's values come from, transitively through the column lineage of each
/// dataset's current version: (dataset node id, field), nearest first.
pub async fn field_sources(
    pool: &SqlitePool,
    namespace: &str,
    name: &str,
    field: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut queue = VecDeque::from([(namespace.to_owned(), name.to_owned(), field.to_owned())]);
    while let Some((ns, n, f)) = queue.pop_front() {
        if out.len() >= 200 {
            break;
        }
        let Some((_, _, _, lineage)) = dataset_detail(pool, &ns, &n).await? else {
            continue;
        };
        let mappings: Vec<[String; 4]> = serde_json::from_str(&lineage).unwrap_or_default();
        for [out_field, in_ns, in_name, in_field] in mappings {
            if out_field != f {
                continue;
            }
            let key = (format!("dataset:{in_ns}:{in_name}"), in_field.clone());
            if !out.contains(&key) {
                out.push(key);
                queue.push_back((in_ns, in_name, in_field));
            }
        }
    }
    Ok(out)
}

/// A job's facets (JSON), versions (newest first: version, created), latest runs (run id,
/// state, started, ended, error) and the training runs its runs name (id, name).
pub type JobDetail = (
    String,
    Vec<(String, String)>,
    Vec<(String, String, String, Option<String>, Option<String>)>,
    Vec<(String, String)>,
);

/// See [`JobDetail`].
pub async fn job_detail(
    pool: &SqlitePool,
    namespace: &str,
    name: &str,
) -> Result<Option<JobDetail>, sqlx::Error> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT job_id, facets FROM lineage_jobs WHERE namespace = ? AND name = ?")
            .bind(namespace)
            .bind(name)
            .fetch_optional(pool)
            .await?;
    let Some((id, facets)) = row else {
        return Ok(None);
    };
    let versions = sqlx::query_as(
        "SELECT version, created_at FROM lineage_job_versions WHERE job_id = ? ORDER BY created_at DESC, version LIMIT 20",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let runs = sqlx::query_as(
        "SELECT run_id, state, started_at, ended_at, error_message FROM lineage_runs WHERE job_id = ? \
         ORDER BY last_event_time DESC, run_id DESC LIMIT 10",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let training = sqlx::query_as(
        "SELECT DISTINCT r.run_uuid, r.run_name FROM lineage_runs lr JOIN runs r ON r.run_uuid = lr.mlflow_run_id \
         WHERE lr.job_id = ? AND r.lifecycle_stage = 'active' ORDER BY r.start_time DESC LIMIT 8",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Some((facets, versions, runs, training)))
}

/// How many datasets and jobs are stored.
pub async fn totals(pool: &SqlitePool) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM lineage_datasets), (SELECT count(*) FROM lineage_jobs)",
    )
    .fetch_one(pool)
    .await
}

/// How many OpenLineage events are stored.
pub async fn event_count(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM lineage_events")
        .fetch_one(pool)
        .await
}
