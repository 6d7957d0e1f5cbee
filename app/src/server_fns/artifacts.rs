//! Server functions for the artifact browser (run page) and the model version page.

use crate::dto::artifacts::{ModelVersionPage, RunArtifacts};
use crate::error::AppError;
use leptos::prelude::*;

/// The download address of a stored file.
pub fn download_href(key: &str) -> String {
    format!(
        "/api/2.0/mlflow-artifacts/artifacts/{}",
        key.split('/')
            .map(crate::domain::url::encode)
            .collect::<Vec<_>>()
            .join("/")
    )
}

/// A run's files and the models it logged, with a preview of `artifact` (a path below the
/// run's folder) when one is chosen.
#[server(prefix = "/api", endpoint = "list_run_artifacts")]
pub async fn list_run_artifacts(
    /// The MLflow run's id.
    run_id: String,
    /// The path of the file to preview, below the run's artifact root.
    #[server(default)]
    artifact: Option<String>,
) -> Result<RunArtifacts, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{artifacts::browse, context};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    browse::run_artifacts(&state, run_id, artifact).await
}

/// A model version: its files and digest, what `MLmodel` says, and who serves it.
#[server(prefix = "/api", endpoint = "get_model_version")]
pub async fn get_model_version(
    /// The registered model's name.
    name: String,
    /// The version number, as text.
    version: String,
) -> Result<ModelVersionPage, AppError> {
    use crate::domain::authz::Action;
    use crate::service::{artifacts::browse, context};
    let (state, _) = context::authorized(Action::ReadWorkspace).await?;
    browse::model_version_page(&state, &name, &version).await
}
