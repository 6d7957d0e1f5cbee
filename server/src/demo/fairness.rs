//! The demo's fairness reports (`fixtures/demo/fairness.yaml`): a prediction file per report,
//! drawn from its groups and uploaded as CSV.

use super::{deliver, fixture, with_token, Rng};
use app::error::AppError;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde::Deserialize;

const FIXTURE: &str = include_str!("../../fixtures/demo/fairness.yaml");

#[derive(Deserialize)]
struct Fixture {
    mapping: String,
    reports: Vec<Report>,
}

#[derive(Deserialize)]
struct Report {
    model_version: String,
    dataset: String,
    groups: Vec<Group>,
}

/// (sex, age band, rows, base rate, approval probability for label 1 and for label 0).
type Group = (String, String, usize, f64, f64, f64);

/// Seeds the fairness reports through the API as a data scientist would upload them: the
/// credit model v4 on its hold-out set (passes the four-fifths rule) and the churn model on
/// its evaluation set (fails for one age band). Skipped when any report exists.
pub async fn seed_fairness(router: &Router, pool: &app::store::Pool) -> Result<(), AppError> {
    if !app::store::fairness::list(pool).await?.is_empty() {
        return Ok(());
    }
    let demo: Fixture = fixture("fairness.yaml", FIXTURE)?;
    with_token(pool, "scientist", "demo-fairness", |token| async move {
        let mut rng = Rng(0xfa1e_0001);
        for r in &demo.reports {
            let path = format!(
                "/api/v1/fairness/reports?model_version={}&dataset={}&{}",
                r.model_version, r.dataset, demo.mapping
            );
            post_csv(router, &token, &path, predictions(&mut rng, &r.groups)).await?;
        }
        Ok(())
    })
    .await
}

/// A prediction file drawn from `groups`; prediction 1 means approve.
fn predictions(rng: &mut Rng, groups: &[Group]) -> String {
    let mut out = String::from("applicant_id,label,prediction,score,sex,age_band\n");
    let mut id = 0;
    for (sex, age, rows, base, p1, p0) in groups {
        for _ in 0..*rows {
            id += 1;
            let label = rng.next_f64() < *base;
            let approve = rng.next_f64() < if label { *p1 } else { *p0 };
            let score = ((if approve { 0.62 } else { 0.38 }) + rng.noise(0.2)).clamp(0.0, 1.0);
            out.push_str(&format!(
                "{id},{},{},{score:.4},{sex},{age}\n",
                label as u8, approve as u8
            ));
        }
    }
    out
}

async fn post_csv(router: &Router, token: &str, path: &str, body: String) -> Result<(), AppError> {
    let req = Request::post(path).header(header::CONTENT_TYPE, "text/csv");
    deliver(router, token, req, Body::from(body), StatusCode::CREATED)
        .await
        .map(|_| ())
}
