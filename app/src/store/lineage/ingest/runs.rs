//! The runs of a batch, each re-folded from all its stored events ([`fold_run`]), the job
//! versions they and JobEvents make, and the settling of every job they touch.

use super::{ids, missing, over, Cell, R};
use crate::domain::lineage::{
    fold_run, job_version, parse_event, Batch, LineageEvent, Name, RunSummary,
};
use crate::store::direct::{Direct, Val};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Job versions to ensure (with the latest declaring time; None: made by runs only), their
/// inputs and outputs, and the jobs to settle.
#[derive(Default)]
struct Jobs {
    versions: BTreeMap<(i64, String), Option<String>>,
    io: BTreeSet<(i64, String, &'static str, i64)>,
    settle: BTreeSet<i64>,
}

/// A run as folded: its id, the job it is stored under, and its summary.
type Folded<'b> = (&'b String, &'b Name, RunSummary);

/// Re-folds the batch's runs and writes them, the job versions (with their inputs and
/// outputs) that they and the batch's JobEvents make, and settles every job touched.
pub(super) fn write(
    db: &mut impl Direct,
    batch: &Batch,
    datasets: &mut HashMap<Name, i64>,
    jobs: &HashMap<Name, i64>,
    now: &str,
) -> R<()> {
    let job_id = |name: &Name| jobs.get(name).copied().ok_or_else(|| missing("job_id"));
    let mut out = Jobs::default();
    for ((job, version), d) in &batch.declared {
        let job = job_id(job)?;
        let time = out.versions.entry((job, version.clone())).or_default();
        if time.as_ref().is_none_or(|t| d.static_time > *t) {
            *time = Some(d.static_time.clone());
        }
        for (direction, set) in [("in", &d.inputs), ("out", &d.outputs)] {
            for name in set {
                let id = datasets.get(name).ok_or_else(|| missing("dataset_id"))?;
                out.io.insert((job, version.clone(), direction, *id));
            }
        }
        out.settle.insert(job);
    }
    let (events, previous) = read_runs(db, batch)?;
    let folded: Vec<Folded<'_>> = batch
        .runs
        .iter()
        .filter_map(|(run_id, job)| {
            let s = fold_run(events.get(run_id.as_str())?)?;
            Some((run_id, job, s))
        })
        .collect();
    find_datasets(db, &folded, datasets)?;
    let (mut runs, mut run_io) = (Vec::with_capacity(folded.len()), Vec::new());
    for (run_id, job, s) in &folded {
        let job = job_id(job)?;
        let version = job_version(&s.inputs, &s.outputs, None);
        out.versions.entry((job, version.clone())).or_default();
        for (direction, set) in [("in", &s.inputs), ("out", &s.outputs)] {
            for name in set {
                let id = *datasets.get(name).ok_or_else(|| missing("dataset_id"))?;
                out.io.insert((job, version.clone(), direction, id));
                run_io.push(vec![
                    Some((*run_id).clone()),
                    Some(direction.to_owned()),
                    Some(id.to_string()),
                ]);
            }
        }
        out.settle.insert(job);
        out.settle.extend(previous.get(run_id.as_str()));
        runs.push(run_row(run_id, job, version, s));
    }
    out.write_versions(db, now)?;
    over(db, RUNS, &RUN_COLS, &runs, None)?;
    over(
        db,
        RUN_IO,
        &["run_id", "direction", "dataset_id"],
        &run_io,
        None,
    )?;
    out.settle(db)
}

/// Adds to `datasets` the ids of those the folded runs name that the batch did not.
fn find_datasets(
    db: &mut impl Direct,
    folded: &[Folded<'_>],
    datasets: &mut HashMap<Name, i64>,
) -> R<()> {
    let rows: Vec<Vec<Cell>> = folded
        .iter()
        .flat_map(|(_, _, s)| s.inputs.iter().chain(&s.outputs))
        .filter(|n| !datasets.contains_key(*n))
        .collect::<BTreeSet<&Name>>()
        .into_iter()
        .map(|(ns, name)| vec![Some(ns.clone()), Some(name.clone())])
        .collect();
    datasets.extend(ids(over(
        db,
        KNOWN_DATASETS,
        &["namespace", "name"],
        &rows,
        None,
    )?)?);
    Ok(())
}

fn run_row(run_id: &str, job: i64, version: String, s: &RunSummary) -> Vec<Cell> {
    vec![
        Some(run_id.to_owned()),
        Some(job.to_string()),
        Some(version),
        Some(s.state.as_str().to_owned()),
        Some(s.started_at.clone()),
        s.ended_at.clone(),
        Some(s.last_event_time.clone()),
        s.nominal.as_ref().map(|n| n.0.clone()),
        s.nominal.as_ref().and_then(|n| n.1.clone()),
        s.parent.as_ref().map(|p| p.0.clone()),
        s.error_message.clone(),
        s.mlflow_run_id.clone(),
        Some(Value::Object(s.facets.clone()).to_string()),
    ]
}

impl Jobs {
    /// Ensures the job versions and their inputs and outputs.
    fn write_versions(&self, db: &mut impl Direct, now: &str) -> R<()> {
        let versions: Vec<Vec<Cell>> = self
            .versions
            .iter()
            .map(|((job, version), time)| {
                vec![Some(job.to_string()), Some(version.clone()), time.clone()]
            })
            .collect();
        let cols = ["job_id", "version", "static_time"];
        over(db, JOB_VERSIONS, &cols, &versions, Some(now))?;
        let io: Vec<Vec<Cell>> = self
            .io
            .iter()
            .map(|(job, version, direction, id)| {
                vec![
                    Some(job.to_string()),
                    Some(version.clone()),
                    Some((*direction).to_owned()),
                    Some(id.to_string()),
                ]
            })
            .collect();
        let cols = ["job_id", "version", "direction", "dataset_id"];
        over(db, JOB_IO, &cols, &io, None)?;
        Ok(())
    }

    /// Settles the touched jobs, once their runs are written.
    fn settle(&self, db: &mut impl Direct) -> R<()> {
        let jobs: Vec<Vec<Cell>> = self
            .settle
            .iter()
            .map(|j| vec![Some(j.to_string())])
            .collect();
        over(db, DROP_UNNAMED_VERSIONS, &["job_id"], &jobs, None)?;
        over(db, CURRENT_JOB_VERSIONS, &["job_id"], &jobs, None)?;
        Ok(())
    }
}

/// Every stored event of the batch's runs (the batch's own included), by run, and the job
/// each run was stored under before the batch.
#[allow(clippy::type_complexity)]
fn read_runs(
    db: &mut impl Direct,
    batch: &Batch,
) -> R<(HashMap<String, Vec<LineageEvent>>, HashMap<String, i64>)> {
    let rows: Vec<Vec<Cell>> = batch.runs.keys().map(|r| vec![Some(r.clone())]).collect();
    let (mut events, mut previous) = (HashMap::<String, Vec<LineageEvent>>::new(), HashMap::new());
    for row in over(db, RUN_EVENTS, &["run_id"], &rows, None)? {
        let mut row = row.into_iter();
        let (Some(Val::Text(what)), Some(Val::Text(run)), Some(Val::Text(value))) =
            (row.next(), row.next(), row.next())
        else {
            continue;
        };
        if what == "r" {
            if let Ok(job) = value.parse::<i64>() {
                previous.insert(run, job);
            }
        } else if let Some(e) = serde_json::from_str::<Value>(&value)
            .ok()
            .and_then(|v| parse_event(&v).ok())
        {
            events.entry(run).or_default().push(e);
        }
    }
    Ok((events, previous))
}

/// The runs' stored events (`e`), and the job each run is stored under (`r`).
const RUN_EVENTS: &str = "SELECT 'e', e.run_id, e.body FROM t JOIN lineage_events e ON e.run_id = t.run_id \
       WHERE e.kind = 'run' AND e.run_id IS NOT NULL \
     UNION ALL SELECT 'r', r.run_id, CAST(r.job_id AS TEXT) FROM t JOIN lineage_runs r ON r.run_id = t.run_id";

/// The ids of datasets stored before the batch.
const KNOWN_DATASETS: &str = "SELECT d.namespace, d.name, d.dataset_id FROM t \
     JOIN lineage_datasets d ON d.namespace = t.namespace AND d.name = t.name";

/// Ensures job versions exist; a declaration keeps the latest declaring time.
const JOB_VERSIONS: &str =
    "INSERT INTO lineage_job_versions AS v (job_id, version, static_time, created_at) \
     SELECT CAST(t.job_id AS BIGINT), t.version, t.static_time, $1 FROM t WHERE true \
     ON CONFLICT (job_id, version) DO UPDATE SET static_time = CASE \
       WHEN coalesce(v.static_time, '') >= excluded.static_time THEN coalesce(v.static_time, '') \
       ELSE excluded.static_time END \
     WHERE excluded.static_time IS NOT NULL";

const JOB_IO: &str = "INSERT INTO lineage_job_io (job_id, version, direction, dataset_id) \
     SELECT CAST(t.job_id AS BIGINT), t.version, t.direction, CAST(t.dataset_id AS BIGINT) FROM t WHERE true \
     ON CONFLICT DO NOTHING";

const RUN_COLS: [&str; 13] = [
    "run_id",
    "job_id",
    "job_version",
    "state",
    "started_at",
    "ended_at",
    "last_event_time",
    "nominal_start",
    "nominal_end",
    "parent_run_id",
    "error_message",
    "mlflow_run_id",
    "facets",
];

const RUNS: &str = "INSERT INTO lineage_runs (run_id, job_id, job_version, state, started_at, ended_at, last_event_time, \
       nominal_start, nominal_end, parent_run_id, error_message, mlflow_run_id, facets) \
     SELECT t.run_id, CAST(t.job_id AS BIGINT), t.job_version, t.state, t.started_at, t.ended_at, t.last_event_time, \
       t.nominal_start, t.nominal_end, t.parent_run_id, t.error_message, t.mlflow_run_id, t.facets FROM t WHERE true \
     ON CONFLICT (run_id) DO UPDATE SET job_id = excluded.job_id, job_version = excluded.job_version, state = excluded.state, \
       started_at = excluded.started_at, ended_at = excluded.ended_at, last_event_time = excluded.last_event_time, \
       nominal_start = excluded.nominal_start, nominal_end = excluded.nominal_end, parent_run_id = excluded.parent_run_id, \
       error_message = excluded.error_message, mlflow_run_id = excluded.mlflow_run_id, facets = excluded.facets";

/// A run's inputs and outputs: every dataset any of its events names, so they only grow as
/// its events arrive (none is ever dropped).
const RUN_IO: &str = "INSERT INTO lineage_run_io (run_id, direction, dataset_id) \
     SELECT t.run_id, t.direction, CAST(t.dataset_id AS BIGINT) FROM t WHERE true \
     ON CONFLICT DO NOTHING";

/// Settling a job, 1: drops run-derived versions no run names any more.
const DROP_UNNAMED_VERSIONS: &str = "DELETE FROM lineage_job_versions \
     WHERE job_id IN (SELECT CAST(t.job_id AS BIGINT) FROM t) AND static_time IS NULL \
       AND NOT EXISTS (SELECT 1 FROM lineage_runs r WHERE r.job_id = lineage_job_versions.job_id \
                       AND r.job_version = lineage_job_versions.version)";

/// Settling a job, 2: makes current the version of the latest completed run or declaration
/// (as in Marquez, completed runs make versions; a job whose runs all failed or are still
/// going shows its latest attempt). Each max() is one seek in lineage_runs_by_version;
/// "latest run in any state" is the greatest of one seek per state.
const CURRENT_JOB_VERSIONS: &str = "UPDATE lineage_jobs SET current_version = ( \
       SELECT v.version FROM lineage_job_versions v WHERE v.job_id = lineage_jobs.job_id \
       ORDER BY (SELECT max(c.latest) FROM (SELECT coalesce((SELECT max(r.last_event_time) FROM lineage_runs r \
                   WHERE r.job_id = v.job_id AND r.job_version = v.version AND r.state = 'COMPLETE'), '') AS latest \
                   UNION ALL SELECT coalesce(v.static_time, '')) AS c) DESC, \
                (SELECT coalesce(max((SELECT max(r.last_event_time) FROM lineage_runs r \
                   WHERE r.job_id = v.job_id AND r.job_version = v.version AND r.state = s.state)), '') \
                 FROM (SELECT 'START' AS state UNION ALL SELECT 'RUNNING' UNION ALL SELECT 'COMPLETE' \
                       UNION ALL SELECT 'ABORT' UNION ALL SELECT 'FAIL' UNION ALL SELECT 'OTHER') AS s) DESC, \
                v.version DESC LIMIT 1) \
     WHERE job_id IN (SELECT CAST(t.job_id AS BIGINT) FROM t)";
