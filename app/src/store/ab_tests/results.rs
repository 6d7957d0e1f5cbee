//! A test's daily results: storing a checked batch (cumulative rows become daily ones) and
//! reading them back.

use super::DailyRow;
use crate::domain::ab_tests::MetricKind;
use crate::domain::ab_tests::{DataRow, ExperimentDef, ResultBatch, ResultRow};
use crate::error::AppError;
use crate::store::{Conn, Pool};

/// Stores a checked batch (see [`crate::domain::ab_tests::check_batch`]); a day already
/// stored is replaced. Cumulative rows become differences from the days before, in day order;
/// a running total that goes down, or one that arrives before a stored later day, is
/// rejected naming the row. Returns the rows stored.
pub async fn store_results(
    conn: &mut Conn,
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
        let mut sums = Sums::of(kind, &row.data);
        if batch.cumulative {
            sums = since_stored_days(conn, id, i, row, &metric, kind, sums).await?;
        }
        sqlx::query(
            "INSERT INTO ab_results (test_id, metric, variant, day, a, b, c, sum_x, sum_x2, sum_xy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (test_id, metric, variant, day) DO UPDATE SET a = excluded.a, b = excluded.b, c = excluded.c, \
               sum_x = excluded.sum_x, sum_x2 = excluded.sum_x2, sum_xy = excluded.sum_xy",
        )
        .bind(id)
        .bind(&metric)
        .bind(&row.data.variant)
        .bind(&row.day)
        .bind(sums.a)
        .bind(sums.b)
        .bind(sums.c)
        .bind(crate::store::Real(sums.sx))
        .bind(crate::store::Real(sums.sx2))
        .bind(crate::store::Real(sums.sxy))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE ab_tests SET updated_at = $1 WHERE test_id = $2")
        .bind(crate::service::now_ts())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(batch.rows.len())
}

/// One stored row's numbers: `a`, `b`, `c` by metric kind (units and conversions, or n, sum
/// and sum of squares; units alone for an assignment row) and the CUPED sums.
struct Sums {
    a: f64,
    b: f64,
    c: f64,
    sx: Option<f64>,
    sx2: Option<f64>,
    sxy: Option<f64>,
}

impl Sums {
    /// The numbers of a row sent for a metric of `kind` (`None`: assignments).
    fn of(kind: Option<MetricKind>, d: &DataRow) -> Sums {
        let (a, b, c) = match kind {
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
        Sums {
            a,
            b,
            c,
            sx: d.sum_x,
            sx2: d.sum_x2,
            sxy: d.sum_xy,
        }
    }
}

/// A running total (row `i`) made a day's numbers: minus the days stored before it. Refused
/// when a later day is already stored or the total went down.
async fn since_stored_days(
    conn: &mut Conn,
    id: i64,
    i: usize,
    row: &ResultRow,
    metric: &str,
    kind: Option<MetricKind>,
    sums: Sums,
) -> Result<Sums, AppError> {
    let d = &row.data;
    let later: Option<String> = sqlx::query_scalar(
        "SELECT day FROM ab_results WHERE test_id = $1 AND metric = $2 AND variant = $3 AND day > $4 LIMIT 1",
    )
    .bind(id)
    .bind(metric)
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
         FROM ab_results WHERE test_id = $1 AND metric = $2 AND variant = $3 AND day < $4",
    )
    .bind(id)
    .bind(metric)
    .bind(&d.variant)
    .bind(&row.day)
    .fetch_one(&mut *conn)
    .await?;
    let (pa, pb, pc) = (before.0, before.1, before.2);
    if sums.a < pa || (kind == Some(MetricKind::Binomial) && sums.b < pb) {
        return Err(AppError::validation(
            format!("rows[{i}]"),
            format!(
                "row {i}: metric '{metric}', variant '{}': the running total on {} is below the days before it",
                d.variant, row.day
            ),
        ));
    }
    Ok(Sums {
        a: sums.a - pa,
        b: sums.b - pb,
        c: sums.c - pc,
        sx: sums.sx.map(|v| v - before.3.unwrap_or(0.0)),
        sx2: sums.sx2.map(|v| v - before.4.unwrap_or(0.0)),
        sxy: sums.sxy.map(|v| v - before.5.unwrap_or(0.0)),
    })
}

/// Every stored daily row of a test, by day.
pub async fn daily(pool: &Pool, id: i64) -> Result<Vec<DailyRow>, sqlx::Error> {
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
        "SELECT metric, variant, day, a, b, c, sum_x, sum_x2, sum_xy FROM ab_results WHERE test_id = $1 ORDER BY day, metric, variant",
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
