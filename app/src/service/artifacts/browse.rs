//! What the artifact browser (run page) and the model version page read: a run's files and
//! logged models with a safe preview of one file, and a version's files, digest, `MLmodel`
//! description and aliases.

use crate::domain::artifacts::Root;
use crate::dto::artifacts::{ArtifactFile, ModelSummary, ModelVersionPage, RunArtifacts};
use crate::error::AppError;
use crate::server_fns::artifacts::download_href;
use crate::service::artifact_store::ArtifactStore;
use crate::service::state::AppState;
use crate::store::{artifacts, logged_models, registry, tracking};

/// Largest preview of a text file.
pub const PREVIEW_BYTES: usize = 64 * 1024;
/// Rows of a CSV preview after its header.
pub const PREVIEW_ROWS: usize = 50;

/// A run's files and the models it logged, with a preview of `artifact` (a path below the
/// run's folder) when one is chosen.
pub async fn run_artifacts(
    state: &AppState,
    run_id: String,
    artifact: Option<String>,
) -> Result<RunArtifacts, AppError> {
    let mut conn = state.pool.acquire().await?;
    let info = tracking::run_info(&mut conn, &run_id).await?;
    let root = Root::Run {
        experiment_id: info.experiment_id,
        run_id: run_id.clone(),
    }
    .prefix();
    let files: Vec<ArtifactFile> = artifacts::files_below(&mut conn, &root)
        .await?
        .into_iter()
        .map(|f| ArtifactFile {
            path: f.path[root.len() + 1..].to_string(),
            size: f.size as u64,
            sha256: f.sha256,
        })
        .collect();
    let ids = logged_models::ids_of_run(&mut conn, &run_id).await?;
    let mut models = Vec::new();
    for id in ids {
        if let Some(m) = logged_models::get(&mut conn, &id).await? {
            let versions = logged_models::registered_versions(&mut conn, &id).await?;
            models.push(ModelSummary {
                model_id: m.model_id,
                name: m.name,
                status: m.status,
                digest: m.digest,
                versions,
            });
        }
    }
    drop(conn);
    // Only a file of this run is previewed; anything else in the URL is ignored.
    let chosen = artifact.filter(|a| files.iter().any(|f| &f.path == a));
    let preview = match chosen {
        Some(a) => Some(preview(state, &format!("{root}/{a}")).await?),
        None => None,
    };
    Ok(RunArtifacts {
        root,
        files,
        models,
        preview,
    })
}

/// A safe preview of one stored file: text, CSV and raster images; never HTML or SVG.
async fn preview(
    state: &AppState,
    key: &str,
) -> Result<crate::dto::artifacts::ArtifactPreview, AppError> {
    use crate::domain::artifacts::parse_store_path;
    use crate::dto::artifacts::ArtifactPreview;
    use crate::store::artifacts;
    let p = parse_store_path(key).map_err(|e| AppError::validation("artifact", e))?;
    let key = p.key();
    let indexed = {
        let mut conn = state.pool.acquire().await?;
        artifacts::file(&mut conn, &key).await?
    };
    let f = indexed.ok_or_else(|| AppError::not_found(format!("No such artifact: '{key}'")))?;
    let kind = preview_kind(&key);
    let mut out = ArtifactPreview {
        path: p.rel.clone(),
        size: f.size as u64,
        kind: kind.clone(),
        text: String::new(),
        rows: Vec::new(),
        truncated: false,
        href: download_href(&key),
    };
    if matches!(
        kind,
        crate::dto::artifacts::PreviewKind::Text | crate::dto::artifacts::PreviewKind::Csv
    ) {
        let head = read_head(&state.artifacts, &key).await?;
        out.truncated = (f.size as usize) > head.len();
        match String::from_utf8(head) {
            Err(e) if e.utf8_error().error_len().is_none() && out.truncated => {
                // Cut inside a character: keep what is whole.
                let valid = e.utf8_error().valid_up_to();
                let mut bytes = e.into_bytes();
                bytes.truncate(valid);
                out.text = String::from_utf8(bytes).unwrap_or_default();
            }
            Err(_) => out.kind = crate::dto::artifacts::PreviewKind::None,
            Ok(t) => out.text = t,
        }
        if out.kind == crate::dto::artifacts::PreviewKind::Csv {
            let text = std::mem::take(&mut out.text);
            let mut records = crate::domain::csv::records(&text, false);
            if out.truncated {
                // The last record may be cut.
                records.pop();
            }
            out.truncated |= records.len() > PREVIEW_ROWS + 1;
            out.rows = records
                .into_iter()
                .take(PREVIEW_ROWS + 1)
                .map(|r| r.fields)
                .collect();
        }
    }
    Ok(out)
}

async fn read_head(store: &ArtifactStore, key: &str) -> Result<Vec<u8>, AppError> {
    use futures_util::StreamExt;
    let Some((_, mut stream)) = store.get(key).await.map_err(|e| {
        tracing::error!(error = %e, key, "artifact store read failed");
        AppError::internal()
    })?
    else {
        return Err(AppError::not_found(format!("No such artifact: '{key}'")));
    };
    let mut head = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::error!(error = %e, key, "artifact store read failed");
            AppError::internal()
        })?;
        let room = PREVIEW_BYTES - head.len();
        head.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if head.len() >= PREVIEW_BYTES {
            break;
        }
    }
    Ok(head)
}

/// How a file is previewed, from its name.
pub fn preview_kind(path: &str) -> crate::dto::artifacts::PreviewKind {
    use crate::dto::artifacts::PreviewKind;
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => PreviewKind::Csv,
        "png" | "jpg" | "jpeg" | "gif" | "webp" => PreviewKind::Image,
        "txt" | "log" | "md" | "py" | "json" | "yaml" | "yml" | "toml" | "cfg" | "ini" => {
            PreviewKind::Text
        }
        _ if name == "MLmodel" || name == "requirements.txt" => PreviewKind::Text,
        _ => PreviewKind::None,
    }
}

/// A model version's page; `version` as typed in the address (`3` or `v3`).
pub async fn model_version_page(
    state: &AppState,
    name: &str,
    version: &str,
) -> Result<ModelVersionPage, AppError> {
    let v: i64 = version
        .trim()
        .trim_start_matches('v')
        .parse()
        .map_err(|_| {
            AppError::validation("version", format!("'{version}' is not a version number"))
        })?;
    let mv = registry::get_version(&state.pool, name, v)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!(
                "Model Version (name={name}, version={v}) not found"
            ))
        })?;
    let mut conn = state.pool.acquire().await?;
    let bound = artifacts::bound_to_version(&mut conn, name, v).await?;
    let verified = match &bound {
        Some(b) => artifacts::latest_verification_at(&mut conn, &b.prefix, &b.digest).await?,
        None => None,
    };
    let aliases = registry::aliases_of_version(&mut conn, name, v).await?;
    drop(conn);
    let mut page = ModelVersionPage {
        version: mv,
        stored: bound.as_ref().map(|b| b.source.clone()),
        prefix: bound.as_ref().map(|b| b.prefix.clone()),
        digest: bound.as_ref().map(|b| b.digest.clone()),
        sealed: bound.as_ref().is_some_and(|b| b.sealed),
        manifest: bound
            .as_ref()
            .map(|b| {
                b.manifest
                    .iter()
                    .map(|f| ArtifactFile {
                        path: f.path.clone(),
                        size: f.size,
                        sha256: f.sha256.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        verified,
        flavors: Vec::new(),
        python_version: None,
        inputs: Vec::new(),
        outputs: Vec::new(),
        input_example: None,
        requirements: Vec::new(),
        aliases,
    };
    if let Some(b) = &bound {
        describe_files(&state.artifacts, b, &mut page).await?;
    }
    Ok(page)
}

/// Fills in what the version's own files say: `MLmodel` (flavors, signature, Python),
/// `requirements.txt` and the start of `input_example.json`.
async fn describe_files(
    store: &ArtifactStore,
    b: &artifacts::Bound,
    page: &mut ModelVersionPage,
) -> Result<(), AppError> {
    let has = |p: &str| b.manifest.iter().any(|f| f.path == p);
    if has("MLmodel") {
        let text = read_head(store, &format!("{}/MLmodel", b.prefix)).await?;
        crate::service::mlmodel::describe(&String::from_utf8_lossy(&text), page);
    }
    if has("requirements.txt") {
        let text = read_head(store, &format!("{}/requirements.txt", b.prefix)).await?;
        page.requirements = String::from_utf8_lossy(&text)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
    }
    if has("input_example.json") {
        let mut text = read_head(store, &format!("{}/input_example.json", b.prefix)).await?;
        text.truncate(8 * 1024);
        page.input_example = Some(String::from_utf8_lossy(&text).into_owned());
    }
    Ok(())
}
