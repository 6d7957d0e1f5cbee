//! Links between logged models and runs (`runs/outputs`, model inputs) and the registry
//! versions made from a model.

use super::get;
use crate::error::AppError;
use crate::store::Conn;

/// Records `runs/outputs`: models a run produced.
pub async fn add_outputs(
    conn: &mut Conn,
    run_id: &str,
    models: &[(String, i64)],
) -> Result<(), AppError> {
    for (i, (model_id, step)) in models.iter().enumerate() {
        if get(conn, model_id).await?.is_none() {
            return Err(AppError::validation(
                format!("models[{i}].model_id"),
                format!("no logged model {model_id}"),
            ));
        }
        sqlx::query(
            "INSERT INTO run_outputs (run_uuid, model_id, step) VALUES ($1, $2, $3) ON CONFLICT (run_uuid, model_id) DO UPDATE SET step = excluded.step",
        )
        .bind(run_id)
        .bind(model_id)
        .bind(step)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Records models a run used as inputs (`runs/log-inputs` with `models`).
pub async fn add_inputs(conn: &mut Conn, run_id: &str, models: &[String]) -> Result<(), AppError> {
    for (i, model_id) in models.iter().enumerate() {
        if get(conn, model_id).await?.is_none() {
            return Err(AppError::validation(
                format!("models[{i}].model_id"),
                format!("no logged model {model_id}"),
            ));
        }
        sqlx::query("INSERT INTO run_model_inputs (run_uuid, model_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(run_id)
            .bind(model_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A run's outputs (model id, step) and model inputs.
pub async fn run_models(
    conn: &mut Conn,
    run_id: &str,
) -> Result<(Vec<(String, i64)>, Vec<String>), sqlx::Error> {
    let outputs = sqlx::query_as(
        "SELECT model_id, step FROM run_outputs WHERE run_uuid = $1 ORDER BY step, model_id",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    let inputs = sqlx::query_scalar(
        "SELECT model_id FROM run_model_inputs WHERE run_uuid = $1 ORDER BY model_id",
    )
    .bind(run_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok((outputs, inputs))
}

/// The ids of the active models a run logged and of the models it recorded as outputs.
pub async fn ids_of_run(conn: &mut Conn, run_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT model_id FROM logged_models WHERE source_run_id = $1 AND lifecycle_stage = 'active' \
         UNION SELECT model_id FROM run_outputs WHERE run_uuid = $2 ORDER BY 1",
    )
    .bind(run_id)
    .bind(run_id)
    .fetch_all(conn)
    .await
}

/// The registered model versions (name, version) created from a logged model.
pub async fn registered_versions(
    conn: &mut Conn,
    model_id: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, version FROM model_versions WHERE model_id = $1 ORDER BY name, version",
    )
    .bind(model_id)
    .fetch_all(conn)
    .await
}
