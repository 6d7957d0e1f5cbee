//! Runs read as plain rows and made into documents in Rust: PostgreSQL's path.
//!
//! SQLite builds a run's MLflow document itself ([`super::RUN_JSON`]) in microseconds.
//! PostgreSQL's JSON functions cost about 40 µs a run (a `json_build_object` per param, tag
//! and metric), which made a 100-run `runs/search` page three times SQLite's; here the same
//! page is one statement of plain rows through the native pool ([`crate::store::native`]), and
//! the documents are written by serde, key for key as [`super::RUN_JSON`].

use super::run_doc::RunDoc;
use super::{DatasetInput, MetricPoint, Run, RunInfo};
use crate::store::Pool;
use sqlx::postgres::PgRow;
use sqlx::Row;

/// Every row of the runs `$1` names (bound as one array, so the statement is the same text for
/// any page size and stays prepared), in one shape: `kind` (0 the run's attributes, 1 a param,
/// 2 a tag, 3 a latest metric, 4 a dataset input), the run's place in `$1` (from 1), seven
/// texts, three integers, a number and a flag; what each kind puts where is read back by
/// [`run_info`] and [`add_row`]. One statement, so a page is one round trip, and the run id
/// only on its attributes' row: a page of 100 runs is some 2,800 rows. (The ids are joined as
/// a table: `= ANY($1)` in each part measured 2.5 ms against 1.4, its generic plan scanning
/// `runs` whole.)
const ROWS: &str = "WITH ids AS (SELECT * FROM unnest(CAST($1 AS text[])) WITH ORDINALITY AS ids(run_uuid, n)) \
    SELECT 0::int8 AS kind, ids.n, r.run_uuid AS a, r.run_name AS b, r.user_id AS c, r.status AS d, \
      r.artifact_uri AS e, r.lifecycle_stage AS f, NULL::text AS g, \
      r.experiment_id AS n1, r.start_time AS n2, r.end_time AS n3, NULL::float8 AS x, FALSE AS flag \
      FROM ids JOIN runs r ON r.run_uuid = ids.run_uuid \
    UNION ALL SELECT 1, ids.n, p.key, p.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, FALSE \
      FROM ids JOIN params p ON p.run_uuid = ids.run_uuid \
    UNION ALL SELECT 2, ids.n, t.key, t.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, FALSE \
      FROM ids JOIN run_tags t ON t.run_uuid = ids.run_uuid \
    UNION ALL SELECT 3, ids.n, m.key, NULL, NULL, NULL, NULL, NULL, NULL, m.timestamp, m.step, NULL, m.value, m.is_nan \
      FROM ids JOIN latest_metrics m ON m.run_uuid = ids.run_uuid \
    UNION ALL SELECT 4, ids.n, i.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile, \
      NULL, NULL, NULL, NULL, FALSE \
      FROM ids JOIN run_inputs i ON i.run_uuid = ids.run_uuid JOIN datasets d ON d.dataset_id = i.dataset_id";

/// Full runs for the given ids, in the given order (missing ids are skipped).
pub async fn load_runs_rows(pool: &Pool, ids: &[String]) -> Result<Vec<Run>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(ROWS)
        .bind(ids)
        .fetch_all(&crate::store::native::postgres(pool)?)
        .await?;
    let mut runs: Vec<Option<Run>> = (0..ids.len()).map(|_| None).collect();
    // A run's attributes first, then its values (a run deleted in between has none).
    for row in rows
        .iter()
        .filter(|r| r.try_get::<i64, _>(0).is_ok_and(|k| k == 0))
    {
        if let Some(slot) = slot(&mut runs, row)? {
            *slot = Some(empty_run(run_info(row)?));
        }
    }
    for row in rows
        .iter()
        .filter(|r| r.try_get::<i64, _>(0).is_ok_and(|k| k != 0))
    {
        if let Some(Some(run)) = slot(&mut runs, row)? {
            add_row(run, row)?;
        }
    }
    Ok(runs
        .into_iter()
        .flatten()
        .map(|mut run| {
            run.metrics.sort_by(|a, b| a.key.cmp(&b.key));
            run.inputs
                .sort_by(|a, b| (&a.name, &a.digest).cmp(&(&b.name, &b.digest)));
            run
        })
        .collect())
}

/// The place of a row's run among the ids.
fn slot<'r>(
    runs: &'r mut [Option<Run>],
    row: &PgRow,
) -> Result<Option<&'r mut Option<Run>>, sqlx::Error> {
    let n: i64 = row.try_get(1)?;
    Ok(usize::try_from(n - 1).ok().and_then(|i| runs.get_mut(i)))
}

/// A run's attributes from its row of [`ROWS`].
fn run_info(row: &PgRow) -> Result<RunInfo, sqlx::Error> {
    Ok(RunInfo {
        run_uuid: row.try_get(2)?,
        run_name: row.try_get(3)?,
        user_id: row.try_get(4)?,
        status: row.try_get(5)?,
        artifact_uri: row.try_get(6)?,
        lifecycle_stage: row.try_get(7)?,
        experiment_id: row.try_get(9)?,
        start_time: row.try_get(10)?,
        end_time: row.try_get(11)?,
    })
}

fn empty_run(info: RunInfo) -> Run {
    Run {
        info,
        metrics: Vec::new(),
        params: Default::default(),
        tags: Default::default(),
        inputs: Vec::new(),
    }
}

/// Adds a param, tag, metric or input row of [`ROWS`] to its run.
fn add_row(run: &mut Run, row: &PgRow) -> Result<(), sqlx::Error> {
    match row.try_get::<i64, _>(0)? {
        1 => {
            run.params.insert(row.try_get(2)?, row.try_get(3)?);
        }
        2 => {
            run.tags.insert(row.try_get(2)?, row.try_get(3)?);
        }
        3 => {
            let number: Option<f64> = row.try_get(12)?;
            run.metrics.push(MetricPoint {
                key: row.try_get(2)?,
                // NaN is stored as a flag (SQLite cannot hold it), the value NULL.
                value: if row.try_get(13)? {
                    f64::NAN
                } else {
                    number.unwrap_or(f64::NAN)
                },
                timestamp: row.try_get(9)?,
                step: row.try_get(10)?,
            });
        }
        _ => {
            // Input tags are kept as a JSON array of `[key, value]`.
            let tags: &str = row.try_get(2)?;
            run.inputs.push(DatasetInput {
                tags: serde_json::from_str(tags).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                name: row.try_get(3)?,
                digest: row.try_get(4)?,
                source_type: row.try_get(5)?,
                source: row.try_get(6)?,
                schema: row.try_get(7)?,
                profile: row.try_get(8)?,
            });
        }
    }
    Ok(())
}

/// Runs in MLflow's JSON shape for the given ids, in the given order, from rows.
pub async fn runs_json_rows(pool: &Pool, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    load_runs_rows(pool, ids)
        .await?
        .iter()
        .map(|run| {
            serde_json::to_string(&RunDoc::from(run)).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        })
        .collect()
}
