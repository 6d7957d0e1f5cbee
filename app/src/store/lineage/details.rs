//! Search over datasets, jobs and runs, and the detail of one dataset or job.

use crate::store::Pool;
use std::collections::VecDeque;

/// One search hit: node type, namespace (empty for runs), name, node id and last update.
pub type SearchHit = (String, String, String, String, String);

/// Datasets, jobs and runs whose name (or namespace, or run id) contains `q`, best first:
/// exact names, then names starting with `q`, then the rest, each alphabetically.
pub async fn search(pool: &Pool, q: &str, limit: i64) -> Result<Vec<SearchHit>, sqlx::Error> {
    // `%` and `_` in what was typed are literal characters, never wildcards; letters match
    // in either case (as SQLite's LIKE does by itself).
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let like = format!("%{escaped}%");
    let prefix = format!("{escaped}%");
    let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
        "SELECT type, namespace, name, node_id, updated_at, rank FROM ( \
           SELECT 'DATASET' AS type, namespace, name, 'dataset:' || namespace || ':' || name AS node_id, updated_at, \
                  CASE WHEN lower(name) = lower($1) THEN 0 WHEN lower(name) LIKE lower($4) ESCAPE '\\' THEN 1 ELSE 2 END AS rank \
             FROM lineage_datasets WHERE lower(name) LIKE lower($2) ESCAPE '\\' OR lower(namespace) LIKE lower($2) ESCAPE '\\' \
           UNION ALL \
           SELECT 'JOB', namespace, name, 'job:' || namespace || ':' || name, updated_at, \
                  CASE WHEN lower(name) = lower($1) THEN 0 WHEN lower(name) LIKE lower($4) ESCAPE '\\' THEN 1 ELSE 2 END \
             FROM lineage_jobs WHERE lower(name) LIKE lower($2) ESCAPE '\\' OR lower(namespace) LIKE lower($2) ESCAPE '\\' \
           UNION ALL \
           SELECT 'RUN', '', run_name, 'run:' || run_uuid, CAST(coalesce(end_time, start_time, 0) AS TEXT), \
                  CASE WHEN lower(run_name) = lower($1) OR run_uuid = lower($1) THEN 0 ELSE 2 END \
             FROM runs WHERE lifecycle_stage = 'active' AND (lower(run_name) LIKE lower($2) ESCAPE '\\' OR run_uuid LIKE lower($4) ESCAPE '\\') \
           UNION ALL \
           SELECT 'RUN', j.namespace, j.name, 'run:' || r.run_id, r.last_event_time, CASE WHEN r.run_id = lower($1) THEN 0 ELSE 2 END \
             FROM lineage_runs r JOIN lineage_jobs j ON j.job_id = r.job_id WHERE r.run_id LIKE lower($4) ESCAPE '\\' AND length($1) >= 8 \
         ) AS hits ORDER BY rank, name, namespace, node_id LIMIT $3",
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

/// See [`DatasetDetail`]. One statement (on PostgreSQL three were a round trip each): the
/// dataset's row first, with its current version's column lineage, then its versions.
pub async fn dataset_detail(
    pool: &Pool,
    namespace: &str,
    name: &str,
) -> Result<Option<DatasetDetail>, sqlx::Error> {
    // `facets_from` is the event time and the dedup key, separated by U+0001; the versions'
    // fifth column is it whole, to keep them newest first.
    let rows: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT CAST(0 AS bigint), d.fields, d.facets, (SELECT v.column_lineage FROM lineage_dataset_versions v \
           WHERE v.dataset_id = d.dataset_id AND v.version = d.current_version), '' \
         FROM lineage_datasets d WHERE d.namespace = $1 AND d.name = $2 \
         UNION ALL SELECT CAST(1 AS bigint), version, substr(facets_from, 1, instr(facets_from, $3) - 1), run_id, \
           facets_from FROM (SELECT v.version, v.facets_from, v.run_id \
             FROM lineage_datasets d JOIN lineage_dataset_versions v ON v.dataset_id = d.dataset_id \
             WHERE d.namespace = $1 AND d.name = $2 ORDER BY v.facets_from DESC LIMIT 20) AS newest \
         ORDER BY 1, 5 DESC",
    )
    .bind(namespace)
    .bind(name)
    .bind("\u{1}")
    .fetch_all(pool)
    .await?;
    let mut rows = rows.into_iter();
    let Some((_, fields, facets, lineage, _)) = rows.next().filter(|r| r.0 == 0) else {
        return Ok(None);
    };
    let versions = rows.map(|(_, v, at, run, _)| (v, at, run)).collect();
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
    pool: &Pool,
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
    pool: &Pool,
    namespace: &str,
    name: &str,
) -> Result<Option<JobDetail>, sqlx::Error> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT job_id, facets FROM lineage_jobs WHERE namespace = $1 AND name = $2",
    )
    .bind(namespace)
    .bind(name)
    .fetch_optional(pool)
    .await?;
    let Some((id, facets)) = row else {
        return Ok(None);
    };
    let versions = sqlx::query_as(
        "SELECT version, created_at FROM lineage_job_versions WHERE job_id = $1 ORDER BY created_at DESC, version LIMIT 20",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let runs = sqlx::query_as(
        "SELECT run_id, state, started_at, ended_at, error_message FROM lineage_runs WHERE job_id = $1 \
         ORDER BY last_event_time DESC, run_id DESC LIMIT 10",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let training = sqlx::query_as(
        "SELECT r.run_uuid, r.run_name FROM lineage_runs lr JOIN runs r ON r.run_uuid = lr.mlflow_run_id \
         WHERE lr.job_id = $1 AND r.lifecycle_stage = 'active' \
         GROUP BY r.run_uuid, r.run_name, r.start_time ORDER BY r.start_time DESC NULLS LAST LIMIT 8",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Some((facets, versions, runs, training)))
}
