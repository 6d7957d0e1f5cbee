//! A test's stored results as the analysis reads them: one row per day, metric and variant
//! (assignment counts have an empty metric), summed up to a day into the request
//! [`analyze`](crate::domain::ab_tests::analyze) takes. The store (`store/ab_tests.rs`) reads and
//! writes the rows; everything computed from them is here.

use super::ExperimentDef;
use crate::domain::ab_tests::{analyze, Analysis, Context, DataRow, MetricKind, MetricRole};
use serde::{Deserialize, Serialize};

/// One stored daily row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DailyRow {
    /// Metric ('' for assignments).
    pub metric: String,
    /// The variant's name, as in the definition.
    pub variant: String,
    /// The calendar day, `YYYY-MM-DD`.
    pub day: String,
    /// Units or n.
    pub a: f64,
    /// Conversions or Σy.
    pub b: f64,
    /// Σy².
    pub c: f64,
    /// Covariate sums.
    pub sum_x: Option<f64>,
    /// Σx².
    pub sum_x2: Option<f64>,
    /// Σxy.
    pub sum_xy: Option<f64>,
}

/// Totals up to and including `upto` (all days when `None`), shaped for the analysis: per
/// metric a row per variant (absent variants left out, so the analysis names them), and
/// assigned units per variant.
pub fn totals(
    def: &ExperimentDef,
    rows: &[DailyRow],
    upto: Option<&str>,
) -> (Vec<Vec<DataRow>>, Vec<Option<f64>>) {
    let within = |r: &&DailyRow| upto.is_none_or(|u| r.day.as_str() <= u);
    let data = def
        .metrics
        .iter()
        .map(|m| {
            def.variants
                .iter()
                .filter_map(|v| {
                    let mine: Vec<&DailyRow> = rows
                        .iter()
                        .filter(within)
                        .filter(|r| r.metric == m.name && r.variant == v.name)
                        .collect();
                    if mine.is_empty() {
                        return None;
                    }
                    let (a, b, c) = mine
                        .iter()
                        .fold((0.0, 0.0, 0.0), |t, r| (t.0 + r.a, t.1 + r.b, t.2 + r.c));
                    let cov = |f: fn(&DailyRow) -> Option<f64>| -> Option<f64> {
                        mine.iter().map(|r| f(r)).sum::<Option<f64>>()
                    };
                    Some(match m.kind {
                        MetricKind::Binomial => DataRow {
                            variant: v.name.clone(),
                            units: Some(a),
                            conversions: Some(b),
                            sum_x: cov(|r| r.sum_x),
                            sum_x2: cov(|r| r.sum_x2),
                            sum_xy: cov(|r| r.sum_xy),
                            ..Default::default()
                        },
                        MetricKind::Continuous => DataRow {
                            variant: v.name.clone(),
                            n: Some(a),
                            sum: Some(b),
                            sum_squares: Some(c),
                            sum_x: cov(|r| r.sum_x),
                            sum_x2: cov(|r| r.sum_x2),
                            sum_xy: cov(|r| r.sum_xy),
                            ..Default::default()
                        },
                    })
                })
                .collect()
        })
        .collect();
    let assigned = def
        .variants
        .iter()
        .map(|v| {
            let mine: Vec<f64> = rows
                .iter()
                .filter(within)
                .filter(|r| r.metric.is_empty() && r.variant == v.name)
                .map(|r| r.a)
                .collect();
            (!mine.is_empty()).then(|| mine.iter().sum())
        })
        .collect();
    (data, assigned)
}

/// Days with any result, in order.
pub fn days_of(rows: &[DailyRow]) -> Vec<String> {
    let mut days: Vec<String> = rows.iter().map(|r| r.day.clone()).collect();
    days.dedup();
    days
}

/// Why a test has no analysis yet.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Unavailable {
    /// Nothing stored.
    #[error("No results have been received yet.")]
    NoResults,
    /// Stored results the analysis refuses (a variant without data, too few units …).
    #[error("{0}")]
    Unreadable(String),
}

/// The analysis of a test's data up to `upto` (all of it when `None`), or why there is none
/// yet (no data, or data the analysis cannot read).
pub fn analysis_of(
    def: &ExperimentDef,
    rows: &[DailyRow],
    upto: Option<&str>,
) -> Result<Analysis, Unavailable> {
    if rows.is_empty() {
        return Err(Unavailable::NoResults);
    }
    let (data, assigned) = totals(def, rows, upto);
    let days = days_of(rows)
        .iter()
        .filter(|d| upto.is_none_or(|u| d.as_str() <= u))
        .count() as u32;
    analyze(&def.request(data, assigned), Context { days: Some(days) })
        .map_err(|e| Unavailable::Unreadable(e.message))
}

/// One day of the cumulative lift: the day, the relative lift and its decision interval.
pub type LiftDay = (String, f64, f64, f64);

/// The cumulative relative lift of the first goal metric's first treatment (the first metric
/// when none is a goal), day by day over the data up to each day, and what it follows
/// (`"{metric} · {variant}"`). A day the analysis cannot read yet is left out.
pub fn cumulative_lift(
    def: &ExperimentDef,
    rows: &[DailyRow],
    days: &[String],
) -> (Vec<LiftDay>, String) {
    let goal = def
        .metrics
        .iter()
        .position(|m| m.role == MetricRole::Goal)
        .unwrap_or(0);
    let treatment = def
        .variants
        .get(1)
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let lift = days
        .iter()
        .filter_map(|d| {
            let a = analysis_of(def, rows, Some(d)).ok()?;
            let c = a.metrics.get(goal)?.comparisons.first()?;
            Some((
                d.clone(),
                c.rel_lift,
                c.decision_rel_lift_ci[0],
                c.decision_rel_lift_ci[1],
            ))
        })
        .collect();
    let of = def
        .metrics
        .get(goal)
        .map(|m| format!("{} · {treatment}", m.name))
        .unwrap_or_default();
    (lift, of)
}

/// Units per day per variant, in the definition's order: the assignments where they were
/// sent, else the first metric's units.
pub fn daily_units(
    def: &ExperimentDef,
    rows: &[DailyRow],
    days: &[String],
) -> Vec<(String, Vec<f64>)> {
    let first_metric = def.metrics.first().map_or("", |m| m.name.as_str());
    let has_assignments = rows.iter().any(|r| r.metric.is_empty());
    let counted = |r: &DailyRow| {
        if has_assignments {
            r.metric.is_empty()
        } else {
            r.metric == first_metric
        }
    };
    days.iter()
        .map(|d| {
            let units = def
                .variants
                .iter()
                .map(|v| {
                    rows.iter()
                        .filter(|r| &r.day == d && r.variant == v.name && counted(r))
                        .map(|r| r.a)
                        .sum()
                })
                .collect();
            (d.clone(), units)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(metric: &str, variant: &str, day: &str, a: f64, b: f64) -> DailyRow {
        DailyRow {
            metric: metric.into(),
            variant: variant.into(),
            day: day.into(),
            a,
            b,
            c: 0.0,
            sum_x: None,
            sum_x2: None,
            sum_xy: None,
        }
    }

    fn def() -> ExperimentDef {
        serde_json::from_value(serde_json::json!({
            "name": "t",
            "variants": [{"name": "control", "weight": 1}, {"name": "b", "weight": 1}],
            "metrics": [{"name": "conv", "type": "binomial"}],
        }))
        .expect("a valid definition")
    }

    #[test]
    fn totals_sum_each_metric_and_variant_up_to_a_day() {
        let rows = vec![
            row("", "control", "2026-11-01", 100.0, 0.0),
            row("conv", "control", "2026-11-01", 100.0, 10.0),
            row("conv", "b", "2026-11-01", 100.0, 12.0),
            row("conv", "control", "2026-11-02", 50.0, 5.0),
        ];
        let (data, assigned) = totals(&def(), &rows, Some("2026-11-01"));
        assert_eq!(data[0][0].units, Some(100.0));
        assert_eq!(data[0][0].conversions, Some(10.0));
        assert_eq!(data[0][1].conversions, Some(12.0));
        assert_eq!(assigned, vec![Some(100.0), None]);
        let (all, _) = totals(&def(), &rows, None);
        assert_eq!(all[0][0].units, Some(150.0));
        assert_eq!(days_of(&rows), vec!["2026-11-01", "2026-11-02"]);
    }

    #[test]
    fn no_rows_means_no_analysis_and_says_so() {
        let e = analysis_of(&def(), &[], None).unwrap_err();
        assert_eq!(e, Unavailable::NoResults);
        assert_eq!(e.to_string(), "No results have been received yet.");
    }

    #[test]
    fn daily_units_count_assignments_where_sent_else_the_first_metric() {
        let with = vec![
            row("", "control", "2026-11-01", 100.0, 0.0),
            row("conv", "control", "2026-11-01", 90.0, 10.0),
            row("", "b", "2026-11-01", 80.0, 0.0),
            row("", "b", "2026-11-02", 5.0, 0.0),
        ];
        let days = days_of(&with);
        assert_eq!(
            daily_units(&def(), &with, &days),
            vec![
                ("2026-11-01".to_string(), vec![100.0, 80.0]),
                ("2026-11-02".to_string(), vec![0.0, 5.0]),
            ]
        );
        let without = vec![row("conv", "control", "2026-11-01", 90.0, 10.0)];
        assert_eq!(
            daily_units(&def(), &without, &days_of(&without)),
            vec![("2026-11-01".to_string(), vec![90.0, 0.0])]
        );
    }

    #[test]
    fn cumulative_lift_follows_the_first_goal_day_by_day() {
        let mut rows = Vec::new();
        for (day, conv_b) in [("2026-11-01", 60.0), ("2026-11-02", 140.0)] {
            rows.push(row("conv", "control", day, 1000.0, 100.0));
            rows.push(row("conv", "b", day, 1000.0, conv_b));
        }
        let days = days_of(&rows);
        let (lift, of) = cumulative_lift(&def(), &rows, &days);
        assert_eq!(of, "conv · b");
        assert_eq!(lift.len(), 2);
        assert_eq!(lift[0].0, "2026-11-01");
        assert!((lift[0].1 - -0.4).abs() < 1e-9, "day one: 6% against 10%");
        assert!((lift[1].1 - 0.0).abs() < 1e-9, "both days: 10% against 10%");
        assert!(
            lift[1].2 < 0.0 && lift[1].3 > 0.0,
            "the interval spans no change"
        );
    }
}
