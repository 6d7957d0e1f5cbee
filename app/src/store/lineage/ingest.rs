//! Ingestion on the writer thread's rusqlite connection: events, namespaces, datasets and
//! their versions, jobs and their versions, and runs re-folded from all their events.

use super::Ingested;
use crate::domain::lineage::{
    fold_run, job_version, parse_event, DatasetPart, EventKind, LineageEvent,
};
use rusqlite::{params, OptionalExtension};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

fn facets_json(m: &Map<String, Value>) -> String {
    Value::Object(m.clone()).to_string()
}

type Db = rusqlite::Connection;

type R<T> = Result<T, rusqlite::Error>;

pub(super) fn namespace(db: &Db, name: &str, now: &str) -> R<()> {
    db.prepare_cached(
        "INSERT INTO lineage_namespaces (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![name, now])?;
    Ok(())
}

/// Creates the dataset if needed and takes its facets and schema from this event when it is
/// the latest to carry them. Returns the dataset id.
pub(super) fn dataset(db: &Db, d: &DatasetPart, from: &str, now: &str) -> R<i64> {
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

pub(super) fn job(
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
