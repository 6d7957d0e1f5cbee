//! MLflow 3 logged models: the record of a model's files (kept in the artifact store), its
//! tags, params and metrics, the runs that produced or used it, and its digest once finalized.

use crate::domain::artifacts::{FileEntry, Root};
use crate::error::AppError;
use crate::store::tracking::{check_key, MetricPoint};

mod reads;
mod record;
mod runs;

pub use reads::*;
pub use record::*;
pub use runs::*;

/// A logged model with its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedModel {
    /// `m-` and 32 hex digits.
    pub model_id: String,
    /// Its experiment.
    pub experiment_id: i64,
    /// Name (`model`, say: the `name=` of `log_model`).
    pub name: String,
    /// Free-form type.
    pub model_type: String,
    /// The run that logged it.
    pub source_run_id: Option<String>,
    /// `LOGGED_MODEL_…`.
    pub status: String,
    /// Why, when failed.
    pub status_message: String,
    /// `mlflow-artifacts:/<experiment>/models/<id>/artifacts`.
    pub artifact_uri: String,
    /// Who created it.
    pub created_by: String,
    /// ms.
    pub creation_time: i64,
    /// ms.
    pub last_updated_time: i64,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
    /// `sha256:…` once finalized READY.
    pub digest: Option<String>,
    /// Its files as recorded at finalization.
    pub manifest: Vec<FileEntry>,
    /// When finalized, ms.
    pub finalized_at: Option<i64>,
    /// Tags, by key.
    pub tags: Vec<(String, String)>,
    /// Params, by key.
    pub params: Vec<(String, String)>,
    /// Every metric point logged against it.
    pub metrics: Vec<ModelMetric>,
}

impl LoggedModel {
    /// The artifact root.
    pub fn root(&self) -> Root {
        Root::Model {
            experiment_id: self.experiment_id,
            model_id: self.model_id.clone(),
        }
    }
}

/// A metric point logged with a `model_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelMetric {
    /// The model it was logged against.
    pub model_id: String,
    /// The metric's key, value, step and time.
    pub point: MetricPoint,
    /// The run it was logged in, if any.
    pub run_id: Option<String>,
    /// The dataset it was computed on, if named.
    pub dataset_name: String,
    /// That dataset's digest.
    pub dataset_digest: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    model_id: String,
    experiment_id: i64,
    name: String,
    model_type: String,
    source_run_id: Option<String>,
    status: String,
    status_message: String,
    artifact_uri: String,
    created_by: String,
    creation_time: i64,
    last_updated_time: i64,
    lifecycle_stage: String,
    digest: Option<String>,
    manifest: Option<String>,
    finalized_at: Option<i64>,
}

const COLUMNS: &str = "model_id, experiment_id, name, model_type, source_run_id, status, status_message, artifact_uri, created_by, creation_time, last_updated_time, lifecycle_stage, digest, manifest, finalized_at";

/// A fresh random logged-model id, `m-` and 32 hex digits.
pub fn new_model_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    format!("m-{}", hex::encode(b))
}

fn check_kvs(field: &str, kvs: &[(String, String)], max_value: usize) -> Result<(), AppError> {
    for (i, (k, v)) in kvs.iter().enumerate() {
        check_key(&format!("{field}[{i}].key"), k)?;
        if v.chars().count() > max_value {
            return Err(AppError::validation(
                format!("{field}[{i}].value"),
                format!("value of `{k}` is longer than {max_value} characters"),
            ));
        }
    }
    Ok(())
}

/// What a new logged model is given.
#[derive(Clone, Debug, Default)]
pub struct NewModel<'a> {
    /// Its experiment.
    pub experiment_id: i64,
    /// Its name (a default is made when empty).
    pub name: Option<&'a str>,
    /// Its type.
    pub model_type: &'a str,
    /// The run logging it.
    pub source_run_id: Option<&'a str>,
    /// Key-value tags to set on the model.
    pub tags: &'a [(String, String)],
    /// Its parameters, key to value.
    pub params: &'a [(String, String)],
}
