//! The demo's A/B tests (`fixtures/demo/ab_tests.yaml`): each is created, given its daily
//! results and, when the fixture says so, a decision, through the REST API as a product
//! manager's script would.

use super::{fixture, send, with_token, Rng};
use app::error::AppError;
use axum::http::StatusCode;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("../../fixtures/demo/ab_tests.yaml");

#[derive(Deserialize)]
struct Fixture {
    tests: Vec<Test>,
}

#[derive(Deserialize)]
struct Test {
    definition: Value,
    results: Results,
    #[serde(default)]
    decision: Option<Value>,
}

#[derive(Deserialize)]
struct Results {
    from: u32,
    to: u32,
    conversion: String,
    #[serde(default)]
    covariate: bool,
    /// (variant, units a day, conversion rate, mean latency).
    arms: Vec<(String, f64, f64, f64)>,
}

/// Seeds the A/B tests through the API as a product manager would: a running
/// champion–challenger test of the credit-default model with 14 days of data, a decided
/// product test, and a test whose split is broken (sample-ratio mismatch). Skipped when any
/// A/B test exists.
pub async fn seed_ab_tests(router: &Router, pool: &app::store::Pool) -> Result<(), AppError> {
    if !app::store::ab_tests::ids(pool).await?.is_empty() {
        return Ok(());
    }
    let demo: Fixture = fixture("ab_tests.yaml", FIXTURE)?;
    with_token(pool, "pm", "demo-abtests", |token| async move {
        let mut rng = Rng(0x5eed_ab7e);
        for test in &demo.tests {
            send_test(router, &token, test, &mut rng).await?;
        }
        Ok(())
    })
    .await
}

async fn send_test(
    router: &Router,
    token: &str,
    test: &Test,
    rng: &mut Rng,
) -> Result<(), AppError> {
    let created = send(
        router,
        token,
        "/api/v1/experiments",
        &test.definition,
        StatusCode::CREATED,
    )
    .await?;
    let id = created["id"].clone();
    let r = &test.results;
    let mut rows = Vec::new();
    for i in r.from..r.to {
        rows.extend(day_rows(&demo_day(i), r, rng));
    }
    send(
        router,
        token,
        &format!("/api/v1/experiments/{id}/results"),
        &json!({ "rows": rows }),
        StatusCode::CREATED,
    )
    .await?;
    if let Some(decision) = &test.decision {
        send(
            router,
            token,
            &format!("/api/v1/experiments/{id}/decision"),
            decision,
            StatusCode::CREATED,
        )
        .await?;
    }
    Ok(())
}

/// Days from 2026-11-10, as `YYYY-MM-DD`.
fn demo_day(i: u32) -> String {
    let (m, d) = if 10 + i <= 30 {
        (11, 10 + i)
    } else {
        (12, 10 + i - 30)
    };
    format!("2026-{m:02}-{d:02}")
}

/// One day of rows: assignments, the conversion metric and the latency guardrail per variant.
fn day_rows(day: &str, r: &Results, rng: &mut Rng) -> Vec<Value> {
    let mut rows = Vec::new();
    for (v, units, rate, latency) in &r.arms {
        let units = (units * (1.0 + rng.noise(0.03))).round();
        let conv = (units * rate * (1.0 + rng.noise(0.08))).round();
        let mean = latency * (1.0 + rng.noise(0.01));
        let sd = latency * 0.35;
        rows.push(json!({ "day": day, "variant": v, "units": units }));
        rows.push(json!({ "day": day, "metric": r.conversion, "variant": v, "units": units, "conversions": conv }));
        let mut latency_row = json!({ "day": day, "metric": "p50_latency_ms", "variant": v, "n": units,
            "sum": units * mean, "sum_squares": units * mean * mean + (units - 1.0) * sd * sd });
        if r.covariate {
            // Last month's latency of the same users: one mean for both arms (randomised).
            let mx = 180.0 * (1.0 + rng.noise(0.005));
            latency_row["sum_x"] = json!(units * mx);
            latency_row["sum_x2"] = json!(units * mx * mx + (units - 1.0) * sd * sd);
            latency_row["sum_xy"] = json!(units * mx * mean + (units - 1.0) * 0.6 * sd * sd);
        }
        rows.push(latency_row);
    }
    rows
}
