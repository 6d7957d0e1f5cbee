//! A/B analysis benchmark (run with `make bench-ab`): 100 metrics × 4 variants, half binomial
//! and half continuous with CUPED covariates, Holm correction and sequential intervals — every
//! code path of the analysis at once. Target: ≤ 5 ms.

use app::domain::ab::{
    analyze, AnalysisRequest, Context, Correction, DataRow, Direction, MetricKind, MetricRole,
    MetricSpec, VariantSpec,
};
use std::time::Instant;

fn request() -> AnalysisRequest {
    let variants = ["control", "b", "c", "d"];
    let metrics = (0..100)
        .map(|m| {
            let binomial = m % 2 == 0;
            MetricSpec {
                name: format!("metric_{m:03}"),
                kind: if binomial {
                    MetricKind::Binomial
                } else {
                    MetricKind::Continuous
                },
                direction: if m % 7 == 0 {
                    Direction::Decrease
                } else {
                    Direction::Increase
                },
                role: if m % 5 == 0 {
                    MetricRole::Guardrail
                } else {
                    MetricRole::Goal
                },
                tolerance: (m % 5 == 0).then_some(0.01),
                data: variants
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let n = 25_000.0 + 10.0 * i as f64;
                        if binomial {
                            DataRow {
                                variant: (*v).into(),
                                units: Some(n),
                                conversions: Some(n * (0.1 + 0.002 * i as f64 + 0.0001 * m as f64)),
                                ..Default::default()
                            }
                        } else {
                            let mean = 20.0 + 0.1 * i as f64 + m as f64 * 0.01;
                            let sum = n * mean;
                            DataRow {
                                variant: (*v).into(),
                                n: Some(n),
                                sum: Some(sum),
                                sum_squares: Some(sum * sum / n + (n - 1.0) * 9.0),
                                sum_x: Some(n * 19.0),
                                sum_x2: Some(n * 19.0 * 19.0 + (n - 1.0) * 8.0),
                                sum_xy: Some(n * 19.0 * mean + (n - 1.0) * 5.0),
                                ..Default::default()
                            }
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    AnalysisRequest {
        alpha: 0.05,
        control: "control".into(),
        variants: variants
            .iter()
            .map(|v| VariantSpec {
                name: (*v).into(),
                weight: 1.0,
                units: Some(25_000.0),
            })
            .collect(),
        metrics,
        correction: Correction::Holm,
        sequential: true,
        sequential_tuning: 5000.0,
        mde: 0.02,
        min_units: 100.0,
        max_plausible_lift: 0.5,
    }
}

fn main() {
    let req = request();
    let mut times = Vec::new();
    let mut comparisons = 0;
    for _ in 0..200 {
        let t = Instant::now();
        let a = analyze(&req, Context { days: Some(14) }).expect("valid request");
        times.push(t.elapsed().as_secs_f64() * 1e3);
        comparisons = a.metrics.iter().map(|m| m.comparisons.len()).sum();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "analysis:     100 metrics × 4 variants ({comparisons} comparisons, CUPED + sequential + Holm): median {:.3} ms, p95 {:.3} ms",
        times[times.len() / 2],
        times[times.len() * 95 / 100]
    );
}
