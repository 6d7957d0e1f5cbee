//! MLflow experiments: create, rename, stage, tags, the baseline run, search and the
//! summaries the pages list.

use super::active_run;
use super::check_key;
use super::Experiment;
use super::MAX_TAG_VALUE_LEN;
use crate::domain::run_search::{like_to_glob, Op};
use crate::error::AppError;
use crate::store::{Conn, Db, Pool};
use sqlx::QueryBuilder;
use std::collections::BTreeMap;

async fn load_experiment_tags(
    pool: &Pool,
    id: i64,
) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM experiment_tags WHERE experiment_id = $1")
            .bind(id)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

type ExperimentRow = (i64, String, String, String, i64, i64);
const EXPERIMENT_COLS: &str =
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

async fn experiment_from(
    pool: &Pool,
    row: Option<ExperimentRow>,
) -> Result<Option<Experiment>, sqlx::Error> {
    let Some((
        experiment_id,
        name,
        artifact_location,
        lifecycle_stage,
        creation_time,
        last_update_time,
    )) = row
    else {
        return Ok(None);
    };
    Ok(Some(Experiment {
        tags: load_experiment_tags(pool, experiment_id).await?,
        experiment_id,
        name,
        artifact_location,
        lifecycle_stage,
        creation_time,
        last_update_time,
    }))
}

/// An experiment by id.
pub async fn get_experiment(pool: &Pool, id: i64) -> Result<Option<Experiment>, sqlx::Error> {
    let row = sqlx::query_as(&format!(
        "SELECT {EXPERIMENT_COLS} FROM experiments WHERE experiment_id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    experiment_from(pool, row).await
}

/// An experiment by name (deleted ones included, as MLflow does).
pub async fn get_experiment_by_name(
    pool: &Pool,
    name: &str,
) -> Result<Option<Experiment>, sqlx::Error> {
    let row = sqlx::query_as(&format!(
        "SELECT {EXPERIMENT_COLS} FROM experiments WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    experiment_from(pool, row).await
}

/// Creates an experiment; the name must be new (deleted experiments keep theirs).
pub async fn create_experiment(
    conn: &mut Conn,
    name: &str,
    artifact_location: Option<&str>,
    tags: &[(String, String)],
    now_ms: i64,
) -> Result<i64, AppError> {
    let name = crate::domain::names::check_name(name, crate::domain::names::MAX_NAME_CHARS)
        .map_err(|m| AppError::validation("name", format!("experiment name {m}")))?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT experiment_id FROM experiments WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    if exists.is_some() {
        return Err(AppError::conflict(format!(
            "Experiment '{name}' already exists."
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES ($1, '', $2, $3) RETURNING experiment_id",
    )
    .bind(name)
    .bind(now_ms)
    .bind(now_ms)
    .fetch_one(&mut *conn)
    .await?;
    let location = artifact_location
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("mlflow-artifacts:/{id}"));
    sqlx::query("UPDATE experiments SET artifact_location = $1 WHERE experiment_id = $2")
        .bind(location)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (k, v) in tags {
        set_experiment_tag(conn, id, k, v, now_ms).await?;
    }
    Ok(id)
}

/// The experiment's lifecycle stage (`active` or `deleted`); 404 in MLflow's words when absent.
pub async fn experiment_stage(conn: &mut Conn, id: i64) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT lifecycle_stage FROM experiments WHERE experiment_id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No Experiment with id={id} exists")))
}

/// Renames an experiment.
pub async fn rename_experiment(
    conn: &mut Conn,
    id: i64,
    new_name: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    let new_name = crate::domain::names::check_name(new_name, crate::domain::names::MAX_NAME_CHARS)
        .map_err(|m| AppError::validation("new_name", format!("experiment name {m}")))?;
    if experiment_stage(conn, id).await? != "active" {
        return Err(AppError::validation(
            "experiment_id",
            "cannot rename a non-active experiment",
        ));
    }
    sqlx::query("UPDATE experiments SET name = $1, last_update_time = $2 WHERE experiment_id = $3")
        .bind(new_name)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                AppError::conflict(format!("Experiment '{new_name}' already exists."))
            }
            other => other.into(),
        })?;
    Ok(())
}

/// Moves an experiment (and its runs) between `active` and `deleted`.
pub async fn set_experiment_stage(
    conn: &mut Conn,
    id: i64,
    stage: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    experiment_stage(conn, id).await?;
    if id == 0 && stage == "deleted" {
        return Err(AppError::validation(
            "experiment_id",
            "the default experiment cannot be deleted",
        ));
    }
    sqlx::query(
        "UPDATE experiments SET lifecycle_stage = $1, last_update_time = $2 WHERE experiment_id = $3",
    )
    .bind(stage)
    .bind(now_ms)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE runs SET lifecycle_stage = $1 WHERE experiment_id = $2")
        .bind(stage)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets (or replaces) an experiment tag.
pub async fn set_experiment_tag(
    conn: &mut Conn,
    id: i64,
    key: &str,
    value: &str,
    now_ms: i64,
) -> Result<(), AppError> {
    check_key("key", key)?;
    if value.chars().count() > MAX_TAG_VALUE_LEN {
        return Err(AppError::validation(
            "value",
            format!("tag value is longer than {MAX_TAG_VALUE_LEN} characters"),
        ));
    }
    if experiment_stage(conn, id).await? != "active" {
        return Err(AppError::validation(
            "experiment_id",
            "the experiment must be active to set tags",
        ));
    }
    sqlx::query("INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value")
        .bind(id)
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE experiments SET last_update_time = $1 WHERE experiment_id = $2")
        .bind(now_ms)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The experiment tag naming an experiment's baseline run; its value is the run id. MLflow
/// clients can set it too (`MlflowClient.set_experiment_tag`).
pub const BASELINE_TAG: &str = "gatehouse.baseline";

/// Each given experiment's baseline as (experiment id, run id, run name), where the tag names
/// an active run of that experiment (a stale or foreign id counts as no baseline).
pub async fn baselines(
    pool: &Pool,
    experiment_ids: &[i64],
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    if experiment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::new(
        "SELECT t.experiment_id, r.run_uuid, r.run_name FROM experiment_tags t \
         JOIN runs r ON r.run_uuid = t.value AND r.experiment_id = t.experiment_id AND r.lifecycle_stage = 'active' \
         WHERE t.key = ",
    );
    q.push_bind(BASELINE_TAG).push(" AND t.experiment_id IN (");
    let mut sep = q.separated(", ");
    for id in experiment_ids {
        sep.push_bind(*id);
    }
    q.push(")");
    crate::store::sql::fetch_all_as(&mut q, pool).await
}

/// Makes an active run its experiment's baseline (`on`), or stops it being the baseline.
/// Returns the experiment id and the baseline before the change.
pub async fn set_baseline(
    conn: &mut Conn,
    run_uuid: &str,
    on: bool,
    now_ms: i64,
) -> Result<(i64, Option<String>), AppError> {
    let info = active_run(conn, run_uuid).await?;
    let exp = info.experiment_id;
    let previous: Option<String> = sqlx::query_scalar(
        "SELECT value FROM experiment_tags WHERE experiment_id = $1 AND key = $2",
    )
    .bind(exp)
    .bind(BASELINE_TAG)
    .fetch_optional(&mut *conn)
    .await?;
    if on {
        set_experiment_tag(conn, exp, BASELINE_TAG, run_uuid, now_ms).await?;
    } else {
        if previous.as_deref() != Some(run_uuid) {
            return Err(AppError::validation(
                "run_id",
                "this run is not its experiment's baseline",
            ));
        }
        sqlx::query("DELETE FROM experiment_tags WHERE experiment_id = $1 AND key = $2")
            .bind(exp)
            .bind(BASELINE_TAG)
            .execute(&mut *conn)
            .await?;
    }
    Ok((exp, previous))
}

/// A page of experiments by name filter (`None` = all), newest first.
pub async fn search_experiments(
    pool: &Pool,
    stages: &[&str],
    name_filter: Option<(Op, String)>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Experiment>, sqlx::Error> {
    let mut q: QueryBuilder<Db> = QueryBuilder::new(format!(
        "SELECT {EXPERIMENT_COLS} FROM experiments WHERE lifecycle_stage IN ("
    ));
    let mut sep = q.separated(", ");
    for s in stages {
        sep.push_bind(s.to_string());
    }
    q.push(")");
    let pg = crate::store::backend(pool) == crate::store::Backend::Postgres;
    if let Some((op, v)) = name_filter {
        // MLflow's LIKE is case-sensitive (PostgreSQL's LIKE, SQLite's GLOB), ILIKE is not.
        match op {
            Op::Like if pg => q.push(" AND name LIKE ").push_bind(v),
            Op::Like => q.push(" AND name GLOB ").push_bind(like_to_glob(&v)),
            Op::ILike => q
                .push(" AND lower(name) LIKE lower(")
                .push_bind(v)
                .push(")"),
            Op::Ne => q.push(" AND name != ").push_bind(v),
            _ => q.push(" AND name = ").push_bind(v),
        };
    }
    q.push(" ORDER BY creation_time DESC, experiment_id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows: Vec<ExperimentRow> = crate::store::sql::fetch_all_as(&mut q, pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(e) = experiment_from(pool, Some(row)).await? {
            out.push(e);
        }
    }
    Ok(out)
}

/// Active experiments with their active run counts and descriptions, newest first.
pub async fn experiment_summaries(
    pool: &Pool,
) -> Result<Vec<(i64, String, Option<String>, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.experiment_id, e.name, \
                (SELECT value FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = 'mlflow.note.content'), \
                (SELECT count(*) FROM runs r WHERE r.experiment_id = e.experiment_id AND r.lifecycle_stage = 'active') \
         FROM experiments e WHERE e.lifecycle_stage = 'active' ORDER BY e.creation_time DESC, e.experiment_id DESC",
    )
    .fetch_all(pool)
    .await
}

/// An active experiment's name and description, by id.
pub async fn active_experiment(
    pool: &Pool,
    experiment_id: i64,
) -> Result<Option<(i64, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.experiment_id, e.name, \
                (SELECT value FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = 'mlflow.note.content') \
         FROM experiments e WHERE e.experiment_id = $1 AND e.lifecycle_stage = 'active'",
    )
    .bind(experiment_id)
    .fetch_optional(pool)
    .await
}

/// How many experiments exist besides MLflow's `Default` (id 0).
pub async fn experiment_count(pool: &Pool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM experiments WHERE experiment_id != 0")
        .fetch_one(pool)
        .await
}

/// The ids of an experiment's runs (by the experiment's name), oldest first.
pub async fn run_ids_of_experiment(
    pool: &Pool,
    experiment: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT r.run_uuid FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id \
         WHERE e.name = $1 ORDER BY r.start_time, r.run_uuid",
    )
    .bind(experiment)
    .fetch_all(pool)
    .await
}
