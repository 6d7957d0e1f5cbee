//! The demo's registry and governance (`fixtures/demo/registry.yaml`): registered models whose
//! versions are real logged models linked to the demo training runs, directly moved aliases,
//! and promotions to `production` with their waivers and approvals, each sent by the user the
//! fixture names with a token of their own.

use super::{artifacts, call, fixture, send};
use app::error::AppError;
use app::service::accounts;
use app::store;
use axum::http::StatusCode;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const FIXTURE: &str = include_str!("../../fixtures/demo/registry.yaml");

#[derive(Deserialize)]
struct Fixture {
    models: Vec<Model>,
    aliases: Vec<Value>,
    promotions: Vec<Promotion>,
}

#[derive(Deserialize)]
struct Model {
    name: String,
    description: String,
    team: String,
    versions: usize,
}

#[derive(Deserialize)]
struct Promotion {
    request: Value,
    #[serde(default)]
    waivers: Vec<Step>,
    #[serde(default)]
    approvals: Vec<Step>,
}

/// A waiver or an approval: who sends it, and the rest of its body.
#[derive(Deserialize)]
struct Step {
    by: String,
    #[serde(flatten)]
    body: Value,
}

/// The user who registers models and requests promotions; the fixture's reviewers approve.
const REQUESTER: &str = "scientist";

/// The registry and its governance: credit-default v1–v4 and churn-prediction v1–v2 linked to
/// the demo training runs, `staging` moved directly through v1 → v2 → v3, `production` given
/// to credit-default v2 by an approved promotion whose missing fairness report was waived, and
/// a pending promotion of v4 that fails one check (no decided A/B test against v2 yet).
/// Skipped when any registered model exists.
pub async fn seed_registry(router: &Router, pool: &app::store::Pool) -> Result<(), AppError> {
    if store::registry::model_count(pool).await? > 0 {
        return Ok(());
    }
    let demo: Fixture = fixture("registry.yaml", FIXTURE)?;
    // The reviewers approve and waive with these, which only a token its own user created may
    // do: each demo user creates (and afterwards revokes) their own.
    let mut users = vec![REQUESTER.to_owned()];
    for p in &demo.promotions {
        for s in p.waivers.iter().chain(&p.approvals) {
            if !users.contains(&s.by) {
                users.push(s.by.clone());
            }
        }
    }
    let mut tokens = BTreeMap::new();
    for user in &users {
        let t = accounts::create_token(pool, user, user, "demo-registry", accounts::Issue::owner())
            .await?;
        tokens.insert(user.clone(), t);
    }
    let secrets: BTreeMap<String, String> = tokens
        .iter()
        .map(|(user, t)| (user.clone(), t.token.clone()))
        .collect();
    let result = send_registry(router, pool, &demo, &secrets).await;
    for user in &users {
        if let Some(t) = tokens.get(user) {
            accounts::revoke_token(pool, user, t.id).await?;
        }
    }
    result
}

async fn send_registry(
    router: &Router,
    pool: &app::store::Pool,
    demo: &Fixture,
    tokens: &BTreeMap<String, String>,
) -> Result<(), AppError> {
    let token_of = |user: &str| tokens.get(user).map(String::as_str).unwrap_or_default();
    let scientist = token_of(REQUESTER);
    for m in &demo.models {
        send_model(router, pool, scientist, m).await?;
    }
    for alias in &demo.aliases {
        call(router, scientist, "registered-models/alias", alias.clone()).await?;
    }
    for p in &demo.promotions {
        let r = send(
            router,
            scientist,
            "/api/v1/promotions",
            &p.request,
            StatusCode::OK,
        )
        .await?;
        let id = r["request"]["request"]["request_id"]
            .as_i64()
            .ok_or_else(AppError::internal)?;
        let steps = p.waivers.iter().map(|s| ("waive", s));
        for (verb, s) in steps.chain(p.approvals.iter().map(|s| ("approve", s))) {
            let path = format!("/api/v1/promotions/{id}/{verb}");
            send(router, token_of(&s.by), &path, &s.body, StatusCode::OK).await?;
        }
    }
    Ok(())
}

/// Registers `m` and its versions, each a logged model from the next run of the experiment
/// of the same name.
async fn send_model(
    router: &Router,
    pool: &app::store::Pool,
    scientist: &str,
    m: &Model,
) -> Result<(), AppError> {
    let name = &m.name;
    call(router, scientist, "registered-models/create", json!({ "name": name, "description": m.description, "tags": [{ "key": "team", "value": m.team }] })).await?;
    let runs = store::tracking::run_ids_of_experiment(pool, name).await?;
    for v in 0..m.versions {
        let run_id = runs.get(v).cloned();
        let experiment_id: i64 = match &run_id {
            Some(r) => {
                store::tracking::run_info(&mut *pool.acquire().await?, r)
                    .await?
                    .experiment_id
            }
            None => 0,
        };
        // Each version is a real model, stored and sealed as the MLflow client does it.
        let model_id = artifacts::log_model(
            router,
            scientist,
            name,
            v + 1,
            experiment_id,
            run_id.as_deref(),
        )
        .await?;
        call(
            router,
            scientist,
            "model-versions/create",
            json!({
                "name": name, "source": format!("models:/{model_id}"), "model_id": model_id,
                "run_id": run_id, "description": format!("Candidate {} of {name}", v + 1),
            }),
        )
        .await?;
    }
    Ok(())
}
