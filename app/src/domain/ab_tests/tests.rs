//! The A/B statistics against scipy / statsmodels fixtures (`app/fixtures/ab/`) in `reference`,
//! and the verdict rules, bad input and properties in `verdicts`; the shared helpers are here.

mod reference;
mod verdicts;

use super::*;
use proptest::prelude::*;
use serde_json::Value;

const FIXTURES: &str = include_str!("../../../fixtures/ab/ab_fixtures.json");

fn fixtures() -> Value {
    serde_json::from_str(FIXTURES).expect("fixture file is JSON")
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("fixture field {k} in {v}"))
}

fn pair(v: &Value, k: &str) -> [f64; 2] {
    [v[k][0].as_f64().unwrap(), v[k][1].as_f64().unwrap()]
}

/// Equal to 1e-9 relative (absolute below 1e-300, where only underflow differs).
fn close(what: &str, got: f64, want: f64) {
    let ok = if want == 0.0 {
        got.abs() < 1e-300
    } else {
        ((got - want) / want).abs() <= 1e-9
    };
    assert!(ok, "{what}: got {got:e}, want {want:e}");
}

fn binomial_request(xt: f64, nt: f64, xc: f64, nc: f64, alpha: f64) -> AnalysisRequest {
    AnalysisRequest {
        alpha,
        control: "control".into(),
        variants: vec![
            VariantSpec {
                name: "control".into(),
                weight: nc,
                units: None,
            },
            VariantSpec {
                name: "treatment".into(),
                weight: nt,
                units: None,
            },
        ],
        metrics: vec![MetricSpec {
            name: "conversion".into(),
            kind: MetricKind::Binomial,
            direction: Direction::Increase,
            role: MetricRole::Goal,
            tolerance: None,
            data: vec![
                DataRow {
                    variant: "control".into(),
                    units: Some(nc),
                    conversions: Some(xc),
                    ..Default::default()
                },
                DataRow {
                    variant: "treatment".into(),
                    units: Some(nt),
                    conversions: Some(xt),
                    ..Default::default()
                },
            ],
        }],
        correction: Correction::None,
        sequential: false,
        sequential_tuning: 5000.0,
        mde: 0.05,
        min_units: 0.0,
        max_plausible_lift: 10.0,
    }
}

fn continuous_row(variant: &str, n: f64, sum: f64, sum_squares: f64) -> DataRow {
    DataRow {
        variant: variant.into(),
        n: Some(n),
        sum: Some(sum),
        sum_squares: Some(sum_squares),
        ..Default::default()
    }
}
