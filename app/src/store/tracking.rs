//! The MLflow-compatible tracking store: experiments, runs, params, tags, metric histories and
//! dataset inputs. Writes take the caller's transaction so each request and its audit entry
//! commit together.

use crate::error::AppError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod experiments;
mod metrics;
mod run_doc;
mod run_json;
mod run_rows;
mod runs;
mod search;

pub use experiments::*;
pub use metrics::*;
pub use run_json::*;
pub use runs::*;
pub use search::*;

/// Longest key (metric, param or tag name), as in MLflow.
pub const MAX_KEY_LEN: usize = 250;
/// Longest param value, as in MLflow.
pub const MAX_PARAM_VALUE_LEN: usize = 6000;
/// Longest tag value, as in MLflow.
pub const MAX_TAG_VALUE_LEN: usize = 8000;

/// An experiment with its tags.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Numeric id (MLflow shows it as a string).
    pub experiment_id: i64,
    /// Unique name.
    pub name: String,
    /// Where artifacts would be stored.
    pub artifact_location: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
    /// Milliseconds since the epoch.
    pub creation_time: i64,
    /// Milliseconds since the epoch.
    pub last_update_time: i64,
    /// Tags, by key.
    pub tags: BTreeMap<String, String>,
}

/// A run's attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RunInfo {
    /// 32 hex digits.
    pub run_uuid: String,
    /// Owning experiment.
    pub experiment_id: i64,
    /// Display name.
    pub run_name: String,
    /// Who started it.
    pub user_id: String,
    /// RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.
    pub status: String,
    /// Milliseconds since the epoch.
    pub start_time: Option<i64>,
    /// Milliseconds since the epoch.
    pub end_time: Option<i64>,
    /// Where artifacts would be stored.
    pub artifact_uri: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
}

/// One metric point; `value` may be NaN or infinite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Metric name.
    pub key: String,
    /// The measured value; NaN and ±infinity are kept, as MLflow does.
    pub value: f64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Training step.
    pub step: i64,
}

/// A dataset used by a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInput {
    /// The dataset's name as logged.
    pub name: String,
    /// Content digest.
    pub digest: String,
    /// e.g. `local`, `s3`, `delta_table`.
    pub source_type: String,
    /// Source description (often JSON).
    pub source: String,
    /// Schema (JSON), if given.
    pub schema: Option<String>,
    /// Profile (JSON), if given.
    pub profile: Option<String>,
    /// Input tags, e.g. `mlflow.data.context = training`.
    pub tags: Vec<(String, String)>,
}

/// A run with its latest metrics, params, tags and inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Attributes.
    pub info: RunInfo,
    /// Latest value per metric key.
    pub metrics: Vec<MetricPoint>,
    /// Params by key.
    pub params: BTreeMap<String, String>,
    /// Tags by key.
    pub tags: BTreeMap<String, String>,
    /// Dataset inputs.
    pub inputs: Vec<DatasetInput>,
}

/// Refuses a metric, param or tag key that is empty, longer than the limit, or could escape a
/// path (`..`, a leading `/`, NUL), naming `field` in the error.
pub fn check_key(field: &str, key: &str) -> Result<(), AppError> {
    if key.is_empty() {
        return Err(AppError::validation(field, "key must not be empty"));
    }
    if key.chars().count() > MAX_KEY_LEN {
        return Err(AppError::validation(
            field,
            format!(
                "key `{}…` is longer than {MAX_KEY_LEN} characters",
                key.chars().take(20).collect::<String>()
            ),
        ));
    }
    if key.contains("..") || key.starts_with('/') || key.contains('\0') {
        return Err(AppError::validation(field, format!("invalid key `{key}`")));
    }
    Ok(())
}
