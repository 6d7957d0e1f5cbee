//! Metric histories: logging points (the latest value per key kept beside the history),
//! reading a history back, and the extremes and histories the comparison page plots.

use super::MetricPoint;
use crate::error::AppError;
use crate::store::{Conn, Db, Pool};
use sqlx::QueryBuilder;
use std::collections::BTreeMap;

pub(super) async fn insert_metrics(
    conn: &mut Conn,
    run_uuid: &str,
    metrics: &[MetricPoint],
) -> Result<(), AppError> {
    for chunk in metrics.chunks(500) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO metric_history (run_uuid, key, step, timestamp, value, is_nan) ",
        );
        q.push_values(chunk, |mut b, m| {
            b.push_bind(run_uuid.to_owned())
                .push_bind(m.key.clone())
                .push_bind(m.step)
                .push_bind(m.timestamp)
                .push_bind(crate::store::Real((!m.value.is_nan()).then_some(m.value)))
                .push_bind(m.value.is_nan());
        });
        crate::store::sql::execute(&mut q, &mut *conn).await?;
    }
    // The latest point per key: compare (step, timestamp, value) with the stored one. NaN
    // counts as greater than any number here, as MLflow orders it.
    let mut latest: BTreeMap<&str, &MetricPoint> = BTreeMap::new();
    for m in metrics {
        let newer = match latest.get(m.key.as_str()) {
            None => true,
            Some(cur) => newer_than(m, cur),
        };
        if newer {
            latest.insert(&m.key, m);
        }
    }
    for m in latest.values() {
        sqlx::query(
            "INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (run_uuid, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan \
             WHERE (excluded.step, excluded.timestamp) > (latest_metrics.step, latest_metrics.timestamp) \
                OR ((excluded.step, excluded.timestamp) = (latest_metrics.step, latest_metrics.timestamp) \
                    AND (excluded.is_nan > latest_metrics.is_nan OR (excluded.is_nan = latest_metrics.is_nan AND excluded.value >= latest_metrics.value)))",
        )
        .bind(run_uuid)
        .bind(&m.key)
        .bind(m.step)
        .bind(m.timestamp)
        .bind(crate::store::Real((!m.value.is_nan()).then_some(m.value)))
        .bind(m.value.is_nan())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn newer_than(a: &MetricPoint, b: &MetricPoint) -> bool {
    let key = |m: &MetricPoint| (m.step, m.timestamp);
    match key(a).cmp(&key(b)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => a.value.is_nan() || (!b.value.is_nan() && a.value >= b.value),
    }
}

fn metric_from(
    key: String,
    step: i64,
    timestamp: i64,
    value: Option<f64>,
    is_nan: bool,
) -> MetricPoint {
    MetricPoint {
        key,
        step,
        timestamp,
        value: if is_nan {
            f64::NAN
        } else {
            value.unwrap_or(f64::NAN)
        },
    }
}

/// A metric's history for a run, ordered by step then timestamp.
pub async fn metric_history(
    pool: &Pool,
    run_uuid: &str,
    key: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<MetricPoint>, sqlx::Error> {
    let rows: Vec<(i64, i64, Option<f64>, crate::store::Flag)> = sqlx::query_as(
        "SELECT step, timestamp, value, is_nan FROM metric_history WHERE run_uuid = $1 AND key = $2 ORDER BY step, timestamp LIMIT $3 OFFSET $4",
    )
    .bind(run_uuid)
    .bind(key)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(s, t, v, n)| metric_from(key.to_owned(), s, t, v, n.0))
        .collect())
}

/// Minimum and maximum of every metric history of the given runs (finite values only).
pub async fn metric_extremes(
    pool: &Pool,
    run_ids: &[String],
) -> Result<Vec<(String, String, f64, f64)>, sqlx::Error> {
    if run_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Db> = QueryBuilder::new(
        "SELECT run_uuid, key, min(value), max(value) FROM metric_history WHERE value IS NOT NULL AND run_uuid IN (",
    );
    let mut sep = q.separated(", ");
    for id in run_ids {
        sep.push_bind(id.as_str());
    }
    q.push(") GROUP BY run_uuid, key");
    crate::store::sql::fetch_all_as(&mut q, pool).await
}

/// Every point of the given runs' histories for the given keys, by run, key and step.
pub async fn histories(
    pool: &Pool,
    run_ids: &[String],
    keys: &[String],
) -> Result<Vec<(String, String, i64, Option<f64>)>, sqlx::Error> {
    if run_ids.is_empty() || keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Db> = QueryBuilder::new(
        "SELECT run_uuid, key, step, value FROM metric_history WHERE run_uuid IN (",
    );
    {
        let mut sep = q.separated(", ");
        for id in run_ids {
            sep.push_bind(id.as_str());
        }
    }
    q.push(") AND key IN (");
    {
        let mut sep = q.separated(", ");
        for k in keys {
            sep.push_bind(k.as_str());
        }
    }
    q.push(") ORDER BY run_uuid, key, step, timestamp");
    crate::store::sql::fetch_all_as(&mut q, pool).await
}
