//! The rule that freezes a model's bytes: what may not change below a path, and the files
//! bound to a registered version.

use super::files_below;
use super::manifest_of;
use crate::domain::artifacts::{ArtifactPath, FileEntry, Root};
use crate::domain::logged_models::READY;
use crate::store::Conn;

/// Why nothing at or below `p` may be written or deleted, if so: a finalized logged model,
/// a logged model a registered version is, or the folder of a run a registered version
/// points at. `None` when the path may change.
pub async fn frozen(conn: &mut Conn, p: &ArtifactPath) -> Result<Option<String>, sqlx::Error> {
    match &p.root {
        Root::Model { model_id, .. } => {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM logged_models WHERE model_id = $1")
                    .bind(model_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            if status.as_deref() == Some(READY) {
                return Ok(Some(format!(
                    "logged model {model_id} is finalized (READY): its files are frozen and its digest recorded"
                )));
            }
            let version: Option<(String, i64)> = sqlx::query_as(
                "SELECT name, version FROM model_versions WHERE model_id = $1 ORDER BY name, version LIMIT 1",
            )
            .bind(model_id)
            .fetch_optional(&mut *conn)
            .await?;
            Ok(version.map(|(n, v)| {
                format!("logged model {model_id} is registered as {n} version {v}: its files are frozen")
            }))
        }
        Root::Run { run_id, .. } => {
            let versions: Vec<(String, i64, String)> = sqlx::query_as(
                "SELECT name, version, source FROM model_versions WHERE run_id = $1 ORDER BY name, version",
            )
            .bind(run_id)
            .fetch_all(&mut *conn)
            .await?;
            for (name, version, source) in versions {
                let Some(folder) = run_folder_of(&source, run_id) else {
                    continue;
                };
                if overlaps(&folder, &p.rel) {
                    let shown = if folder.is_empty() {
                        "artifacts"
                    } else {
                        folder.as_str()
                    };
                    return Ok(Some(format!(
                        "{name} version {version} is registered from run {run_id}'s `{shown}`: files there are frozen"
                    )));
                }
            }
            Ok(None)
        }
    }
}

/// The folder below a run's artifact root that a version's `source` points at, if the source
/// is inside that run (`runs:/<run>/<path>` or `…/<run>/artifacts/<path>`).
pub fn run_folder_of(source: &str, run_id: &str) -> Option<String> {
    if let Some(rest) = source.strip_prefix("runs:/") {
        let (run, path) = rest.split_once('/').unwrap_or((rest, ""));
        return (run == run_id).then(|| path.trim_matches('/').to_string());
    }
    let marker = format!("/{run_id}/artifacts");
    let at = source.find(&marker)?;
    let rest = &source[at + marker.len()..];
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    Some(rest.trim_matches('/').to_string())
}

/// Whether two folders (relative, `/`-separated) are the same or one holds the other.
pub(super) fn overlaps(a: &str, b: &str) -> bool {
    let within = |inner: &str, outer: &str| {
        outer.is_empty() || inner == outer || inner.starts_with(&format!("{outer}/"))
    };
    within(a, b) || within(b, a)
}

/// The stored files a model version is bound to.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    /// `logged model m-…` or `run <id>, folder <path>`.
    pub source: String,
    /// The logged model, when the version is one.
    pub model_id: Option<String>,
    /// The store key of the folder holding them.
    pub prefix: String,
    /// `sha256:…` over the manifest.
    pub digest: String,
    /// The files, relative to `prefix`.
    pub manifest: Vec<FileEntry>,
    /// Frozen: a finalized model, or a registered run folder.
    pub sealed: bool,
}

/// The files `name` version `version` is bound to, when Gatehouse stores them: its logged
/// model (the manifest recorded when it was finalized), or the run folder its source names
/// (frozen since the version was registered). `None` for a version whose files live elsewhere.
pub async fn bound_to_version(
    conn: &mut Conn,
    name: &str,
    version: i64,
) -> Result<Option<Bound>, sqlx::Error> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT source, run_id, model_id FROM model_versions WHERE name = $1 AND version = $2",
    )
    .bind(name)
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some((_, _, Some(model_id))) => bound_to_logged_model(conn, model_id).await,
        Some((source, Some(run_id), None)) => bound_to_run_folder(conn, &source, run_id).await,
        _ => Ok(None),
    }
}

/// A version registered from a logged model: the manifest recorded when it was finalized
/// (sealed), or the files there are so far.
async fn bound_to_logged_model(conn: &mut Conn, m: String) -> Result<Option<Bound>, sqlx::Error> {
    let Some(model) = crate::store::logged_models::get(conn, &m).await? else {
        return Ok(None);
    };
    let sealed = model.status == READY && model.digest.is_some();
    let manifest = if sealed {
        model.manifest.clone()
    } else {
        manifest_of(conn, &model.root()).await?
    };
    let digest = model
        .digest
        .clone()
        .unwrap_or_else(|| crate::domain::artifacts::model_digest(&manifest));
    Ok(Some(Bound {
        source: format!("logged model {m}"),
        model_id: Some(m),
        prefix: model.root().prefix(),
        digest,
        manifest,
        sealed,
    }))
}

/// A version registered from a run's folder (`runs:/<id>/<folder>` or the folder's artifact
/// URI): the files under it, frozen since. `None` when the source names no folder of that run
/// or the folder is empty.
async fn bound_to_run_folder(
    conn: &mut Conn,
    source: &str,
    run_id: String,
) -> Result<Option<Bound>, sqlx::Error> {
    let Some(folder) = run_folder_of(source, &run_id) else {
        return Ok(None);
    };
    let experiment: Option<i64> =
        sqlx::query_scalar("SELECT experiment_id FROM runs WHERE run_uuid = $1")
            .bind(&run_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(experiment_id) = experiment else {
        return Ok(None);
    };
    let root = Root::Run {
        experiment_id,
        run_id: run_id.clone(),
    }
    .prefix();
    let prefix = if folder.is_empty() {
        root
    } else {
        format!("{root}/{folder}")
    };
    let manifest: Vec<FileEntry> = files_below(conn, &prefix)
        .await?
        .into_iter()
        .map(|f| FileEntry {
            path: f.path[prefix.len() + 1..].to_string(),
            size: f.size as u64,
            sha256: f.sha256,
        })
        .collect();
    if manifest.is_empty() {
        return Ok(None);
    }
    let shown = if folder.is_empty() {
        "artifacts"
    } else {
        folder.as_str()
    };
    Ok(Some(Bound {
        source: format!("run {run_id}, folder {shown}"),
        model_id: None,
        digest: crate::domain::artifacts::model_digest(&manifest),
        prefix,
        manifest,
        sealed: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_sources_name_their_folder() {
        let r = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            run_folder_of(&format!("runs:/{r}/model"), r).as_deref(),
            Some("model")
        );
        assert_eq!(run_folder_of(&format!("runs:/{r}"), r).as_deref(), Some(""));
        assert_eq!(run_folder_of("runs:/other/model", r), None);
        assert_eq!(
            run_folder_of(&format!("mlflow-artifacts:/1/{r}/artifacts/model/"), r).as_deref(),
            Some("model")
        );
        assert_eq!(
            run_folder_of(&format!("s3://b/1/{r}/artifactsX/m"), r),
            None
        );
        assert_eq!(run_folder_of("models:/m-1", r), None);
    }

    #[test]
    fn folders_overlap_by_segment() {
        assert!(overlaps("model", "model/MLmodel"));
        assert!(overlaps("model/MLmodel", "model"));
        assert!(overlaps("", "notes.txt"));
        assert!(overlaps("model", ""));
        assert!(!overlaps("model", "model2/x"));
        assert!(!overlaps("model", "notes.txt"));
    }
}
