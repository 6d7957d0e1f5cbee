//! Result rows as clients post them, as JSON or CSV, checked against the definition.

use super::validate::bad;
use super::{check_row, is_date, DataRow, ExperimentDef};
use crate::domain::FieldError;
use serde::{Deserialize, Serialize};

/// One result row as posted: a day, a metric (empty for an assignment count) and a
/// variant's sufficient statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ResultRow {
    /// Day, `YYYY-MM-DD`.
    pub day: String,
    /// Metric name; absent or empty for the units assigned to the variant that day.
    #[serde(default)]
    pub metric: Option<String>,
    /// The statistics.
    #[serde(flatten)]
    pub data: DataRow,
}

/// A batch of results (`POST /api/v1/experiments/{id}/results`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ResultBatch {
    /// Rows are running totals up to their day rather than that day's counts.
    #[serde(default)]
    pub cumulative: bool,
    /// The parsed CSV rows, one per day, metric and variant.
    pub rows: Vec<ResultRow>,
}

/// Checks every row of a batch against the definition; the error names row, metric, variant
/// and field.
pub fn check_batch(def: &ExperimentDef, batch: &ResultBatch) -> Result<(), FieldError> {
    if batch.rows.is_empty() {
        return Err(bad("rows", "no result rows"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, row) in batch.rows.iter().enumerate() {
        let at = format!("rows[{i}]");
        if !is_date(&row.day) {
            return Err(bad(
                format!("{at}.day"),
                format!("row {i}: day '{}' is not a date YYYY-MM-DD", row.day),
            ));
        }
        if !def.variants.iter().any(|v| v.name == row.data.variant) {
            return Err(bad(
                format!("{at}.variant"),
                format!(
                    "row {i}: variant '{}' is not in the experiment",
                    row.data.variant
                ),
            ));
        }
        let metric = row.metric.as_deref().unwrap_or("");
        if !seen.insert((row.day.clone(), metric.to_owned(), row.data.variant.clone())) {
            return Err(bad(
                format!("{at}.variant"),
                format!(
                    "row {i}: a second row for day {}, metric '{metric}', variant '{}'",
                    row.day, row.data.variant
                ),
            ));
        }
        if metric.is_empty() {
            let units = row.data.units.ok_or_else(|| {
                bad(
                    format!("{at}.units"),
                    format!("row {i}: an assignment row (no metric) needs units"),
                )
            })?;
            if !(units.is_finite() && units >= 0.0) {
                return Err(bad(
                    format!("{at}.units"),
                    format!(
                        "row {i}, variant '{}': units must be a non-negative number",
                        row.data.variant
                    ),
                ));
            }
            continue;
        }
        let Some(m) = def.metrics.iter().find(|m| m.name == metric) else {
            return Err(bad(
                format!("{at}.metric"),
                format!("row {i}: metric '{metric}' is not in the experiment"),
            ));
        };
        check_row(&m.name, m.kind, &at, &row.data)?;
    }
    Ok(())
}

/// Columns a results CSV may carry (a header names them, in any order; `day` and `variant`
/// are required; `metric` empty means an assignment count).
pub const CSV_COLUMNS: [&str; 11] = [
    "day",
    "metric",
    "variant",
    "units",
    "conversions",
    "n",
    "sum",
    "sum_squares",
    "sum_x",
    "sum_x2",
    "sum_xy",
];

/// Parses results uploaded as CSV into rows; errors name the line and column.
pub fn parse_results_csv(text: &str) -> Result<Vec<ResultRow>, FieldError> {
    let mut records = crate::domain::csv::records(text, true).into_iter();
    let Some(header) = records.next() else {
        return Err(bad("csv", "the CSV is empty"));
    };
    let head = header.line;
    let cols: Vec<String> = header
        .fields
        .into_iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    for c in &cols {
        if !CSV_COLUMNS.contains(&c.as_str()) {
            return Err(bad(
                "csv",
                format!(
                    "line {head}: unknown column '{c}' (expected {})",
                    CSV_COLUMNS.join(", ")
                ),
            ));
        }
    }
    for need in ["day", "variant"] {
        if !cols.iter().any(|c| c == need) {
            return Err(bad(
                "csv",
                format!("line {head}: the header needs a '{need}' column"),
            ));
        }
    }
    let mut rows = Vec::new();
    for record in records {
        let n = record.line;
        let fields = record.fields;
        if fields.len() != cols.len() {
            return Err(bad(
                "csv",
                format!(
                    "line {n}: {} fields, the header has {}",
                    fields.len(),
                    cols.len()
                ),
            ));
        }
        let mut row = ResultRow::default();
        for (c, v) in cols.iter().zip(&fields) {
            let num = || -> Result<Option<f64>, FieldError> {
                if v.is_empty() {
                    return Ok(None);
                }
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map(Some)
                    .ok_or_else(|| {
                        bad(
                            "csv",
                            format!("line {n}, column '{c}': '{v}' is not a number"),
                        )
                    })
            };
            match c.as_str() {
                "day" => row.day = v.clone(),
                "metric" => row.metric = (!v.is_empty()).then(|| v.clone()),
                "variant" => row.data.variant = v.clone(),
                "units" => row.data.units = num()?,
                "conversions" => row.data.conversions = num()?,
                "n" => row.data.n = num()?,
                "sum" => row.data.sum = num()?,
                "sum_squares" => row.data.sum_squares = num()?,
                "sum_x" => row.data.sum_x = num()?,
                "sum_x2" => row.data.sum_x2 = num()?,
                _ => row.data.sum_xy = num()?,
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(bad("csv", "the CSV has a header but no rows"));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_parse_and_errors_name_line_and_column() {
        let rows = parse_results_csv(
            "day,metric,variant,units,conversions\n2026-11-01,,control,100,\n2026-11-01,checkout,\"control\",100,12\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].metric, None);
        assert_eq!(rows[1].data.conversions, Some(12.0));
        let e = parse_results_csv("day,variant,units\n2026-11-01,control,ten\n").unwrap_err();
        assert!(e.message.contains("line 2, column 'units'"), "{e:?}");
        let e = parse_results_csv("day,variant,colour\n").unwrap_err();
        assert!(e.message.contains("unknown column 'colour'"), "{e:?}");
        let e = parse_results_csv("day,variant\n2026-11-01\n").unwrap_err();
        assert!(e.message.contains("line 2: 1 fields"), "{e:?}");
    }
}
