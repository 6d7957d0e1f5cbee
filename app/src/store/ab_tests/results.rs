//! A test's daily results: storing a checked batch (cumulative rows become daily ones) and
//! reading them back.

use super::DailyRow;
use crate::domain::ab_tests::MetricKind;
use crate::domain::ab_tests::{ExperimentDef, ResultBatch};
use crate::error::AppError;
use sqlx::{SqliteConnection, SqlitePool};

/// Stores a checked batch (see [`crate::domain::ab_tests::check_batch`]); a day already
/// stored is replaced. Cumulative rows become differences from the days before, in day order;
/// a running total that goes down, or one that arrives before a stored later day, is
/// rejected naming the row. Returns the rows stored.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub async fn store_results(
    conn: &mut SqliteConnection,
    id: i64,
    def: &ExperimentDef,
    batch: &ResultBatch,
) -> Result<usize, AppError> {
    let mut order: Vec<usize> = (0..batch.rows.len()).collect();
    order.sort_by(|a, b| batch.rows[*a].day.cmp(&batch.rows[*b].day).then(a.cmp(b)));
    for i in order {
        let row = &batch.rows[i];
        let metric = row.metric.clone().unwrap_or_default();
        let kind = def
            .metrics
            .iter()
            .find(|m| m.name == metric)
            .map(|m| m.kind);
        let d = &row.data;
        let (mut a, mut b, mut c) = match kind {
            None => (d.units.unwrap_or(0.0), 0.0, 0.0),
            Some(MetricKind::Binomial) => {
                (d.units.unwrap_or(0.0), d.conversions.unwrap_or(0.0), 0.0)
            }
            Some(MetricKind::Continuous) => (
                d.n.unwrap_or(0.0),
                d.sum.unwrap_or(0.0),
                d.sum_squares.unwrap_or(0.0),
            ),
        };
        let (mut sx, mut sx2, mut sxy) = (d.sum_x, d.sum_x2, d.sum_xy);
        if batch.cumulative {
            let later: Option<String> = sqlx::query_scalar(
                "SELECT day FROM ab_results WHERE test_id = ? AND metric = ? AND variant = ? AND day > ? LIMIT 1",
            )
            .bind(id)
            .bind(&metric)
            .bind(&d.variant)
            .bind(&row.day)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(later) = later {
                return Err(AppError::validation(
                    format!("rows[{i}].day"),
                    format!(
                        "row {i}: cumulative results for {} must come after the stored day {later}",
                        row.day
                    ),
                ));
            }
            let before: (f64, f64, f64, Option<f64>, Option<f64>, Option<f64>) = sqlx::query_as(
                "SELECT coalesce(sum(a), 0.0), coalesce(sum(b), 0.0), coalesce(sum(c), 0.0), sum(sum_x), sum(sum_x2), sum(sum_xy) \
                 FROM ab_results WHERE test_id = ? AND metric = ? AND variant = ? AND day < ?",
            )
            .bind(id)
            .bind(&metric)
            .bind(&d.variant)
            .bind(&row.day)
            .fetch_one(&mut *conn)
            .await?;
            let (pa, pb, pc) = (before.0, before.1, before.2);
            if a < pa || (kind == Some(MetricKind::Binomial) && b < pb) {
                return Err(AppError::validation(
                    format!("rows[{i}]"),
                    format!(
                        "row {i}: metric '{metric}', variant '{}': the running total on {} is below the days before it",
                        d.variant, row.day
                    ),
                ));
            }
            a -= pa;
            b -= pb;
            c -= pc;
            sx = sx.map(|v| v - before.3.unwrap_or(0.0));
            sx2 = sx2.map(|v| v - before.4.unwrap_or(0.0));
            sxy = sxy.map(|v| v - before.5.unwrap_or(0.0));
        }
        sqlx::query(
            "INSERT INTO ab_results (test_id, metric, variant, day, a, b, c, sum_x, sum_x2, sum_xy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (test_id, metric, variant, day) DO UPDATE SET a = excluded.a, b = excluded.b, c = excluded.c, \
               sum_x = excluded.sum_x, sum_x2 = excluded.sum_x2, sum_xy = excluded.sum_xy",
        )
        .bind(id)
        .bind(&metric)
        .bind(&d.variant)
        .bind(&row.day)
        .bind(a)
        .bind(b)
        .bind(c)
        .bind(sx)
        .bind(sx2)
        .bind(sxy)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE ab_tests SET updated_at = ? WHERE test_id = ?")
        .bind(crate::service::now_ts())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(batch.rows.len())
}

/// Every stored daily row of a test, by day.
pub async fn daily(pool: &SqlitePool, id: i64) -> Result<Vec<DailyRow>, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        f64,
        f64,
        f64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT metric, variant, day, a, b, c, sum_x, sum_x2, sum_xy FROM ab_results WHERE test_id = ? ORDER BY day, metric, variant",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(metric, variant, day, a, b, c, sum_x, sum_x2, sum_xy)| DailyRow {
                metric,
                variant,
                day,
                a,
                b,
                c,
                sum_x,
                sum_x2,
                sum_xy,
            },
        )
        .collect())
}
