//! Logged-model use cases (MLflow 3's logged models and a run's outputs): each change is
//! written with its audit entry in one transaction. Finalizing READY seals the model: the
//! manifest of its files and the model digest over it are recorded with the audit entry, and
//! its files are frozen from then on (see `domain::artifacts` for the manifest format).

use super::audit_and_commit;
use crate::domain::artifacts::model_digest;
use crate::domain::logged_models::READY;
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::service::now_ms;
use crate::store::logged_models::{self, NewModel};
use crate::store::Pool;
use crate::store::{artifacts, begin_write, tracking};
use serde_json::json;

/// Creates a logged model (PENDING); returns its id.
pub async fn create(pool: &Pool, p: &Principal, m: NewModel<'_>) -> Result<String, AppError> {
    let mut tx = begin_write(pool).await?;
    let (experiment_id, name, source_run_id) = (m.experiment_id, m.name, m.source_run_id);
    let id = logged_models::create(&mut tx, m, &p.username, now_ms()).await?;
    let details = json!({
        "experiment_id": experiment_id,
        "name": name,
        "source_run_id": source_run_id,
    });
    audit_and_commit(
        tx,
        p,
        "mlflow.logged_model.create",
        ("logged_model", &id),
        details,
    )
    .await?;
    Ok(id)
}

/// Finalizes a logged model with `status` (READY or UPLOAD_FAILED). READY seals its files
/// under a digest; finalizing a READY model READY again changes nothing, and a READY model
/// cannot become anything else (409).
pub async fn finalize(
    pool: &Pool,
    p: &Principal,
    model_id: &str,
    status: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    let m = logged_models::active(&mut tx, model_id).await?;
    if m.status == READY {
        if status == READY {
            tx.commit().await?;
            return Ok(());
        }
        return Err(AppError::conflict(format!(
            "logged model {model_id} is already finalized READY with digest {}: it cannot become {status}",
            m.digest.as_deref().unwrap_or("?")
        )));
    }
    let now = now_ms();
    let details = if status == READY {
        let files = artifacts::manifest_of(&mut tx, &m.root()).await?;
        let digest = model_digest(&files);
        logged_models::finalize(&mut tx, model_id, status, Some((&digest, &files)), now).await?;
        json!({
            "status": status,
            "digest": digest,
            "files": files.len(),
            "bytes": files.iter().map(|f| f.size).sum::<u64>(),
        })
    } else {
        logged_models::finalize(&mut tx, model_id, status, None, now).await?;
        json!({ "status": status })
    };
    let object = ("logged_model", model_id);
    audit_and_commit(tx, p, "mlflow.logged_model.finalize", object, details).await
}

/// Marks a logged model deleted; one registered as a model version is kept (409).
pub async fn delete(pool: &Pool, p: &Principal, model_id: &str) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    logged_models::active(&mut tx, model_id).await?;
    if let Some((n, v)) = logged_models::registered_versions(&mut tx, model_id)
        .await?
        .first()
    {
        return Err(AppError::conflict(format!(
            "logged model {model_id} is registered as {n} version {v}: it is kept"
        )));
    }
    logged_models::mark_deleted(&mut tx, model_id, now_ms()).await?;
    let object = ("logged_model", model_id);
    audit_and_commit(tx, p, "mlflow.logged_model.delete", object, json!({})).await
}

/// Sets a logged model's tags.
pub async fn set_tags(
    pool: &Pool,
    p: &Principal,
    model_id: &str,
    tags: &[(String, String)],
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    logged_models::set_tags(&mut tx, model_id, tags, now_ms()).await?;
    let details = json!({ "tags": tags.iter().map(|(k, _)| k).collect::<Vec<_>>() });
    let object = ("logged_model", model_id);
    audit_and_commit(tx, p, "mlflow.logged_model.set_tags", object, details).await
}

/// Removes tag `key` from a logged model.
pub async fn delete_tag(
    pool: &Pool,
    p: &Principal,
    model_id: &str,
    key: &str,
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    logged_models::delete_tag(&mut tx, model_id, key, now_ms()).await?;
    let object = ("logged_model", model_id);
    audit_and_commit(
        tx,
        p,
        "mlflow.logged_model.delete_tag",
        object,
        json!({ "key": key }),
    )
    .await
}

/// Logs a logged model's parameters.
pub async fn log_params(
    pool: &Pool,
    p: &Principal,
    model_id: &str,
    params: &[(String, String)],
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    logged_models::log_params(&mut tx, model_id, params, now_ms()).await?;
    let details = json!({ "params": params.iter().map(|(k, _)| k).collect::<Vec<_>>() });
    let object = ("logged_model", model_id);
    audit_and_commit(tx, p, "mlflow.logged_model.log_params", object, details).await
}

/// Records the logged models a run produced, each at a step.
pub async fn log_outputs(
    pool: &Pool,
    p: &Principal,
    run_id: &str,
    models: &[(String, i64)],
) -> Result<(), AppError> {
    let mut tx = begin_write(pool).await?;
    tracking::run_info(&mut tx, run_id).await?;
    logged_models::add_outputs(&mut tx, run_id, models).await?;
    let details = json!({ "models": models.iter().map(|(m, _)| m).collect::<Vec<_>>() });
    audit_and_commit(tx, p, "mlflow.run.log_outputs", ("run", run_id), details).await
}
