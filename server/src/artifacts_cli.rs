//! `server model-digest DIR` and `server verify-artifacts`: the model digest recomputed from
//! files on disk, and every finalized model's files re-hashed in the store.

use app::domain::artifacts::{model_digest, FileEntry};
use app::service::artifact_checks::verify_folder;
use app::service::artifact_store::ArtifactStore;
use app::store::logged_models;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The artifact root used when none is configured: `artifacts/` beside the database file.
pub fn default_root(database_url: &str) -> String {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .unwrap_or(database_url);
    let file = file.split('?').next().unwrap_or(file);
    match Path::new(file).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join("artifacts").display().to_string(),
        _ => "artifacts".to_string(),
    }
}

/// What the MLflow client writes beside a model it downloads from a `models:/` URI: not part
/// of the model, so not part of its digest.
pub const CLIENT_META_FILE: &str = "registered_model_meta";

/// The manifest of a folder on disk: every regular file below it, relative, `/`-separated
/// (less the client's own `registered_model_meta` at the top).
pub fn manifest_of_dir(dir: &Path) -> anyhow::Result<Vec<FileEntry>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).map_err(|e| anyhow::anyhow!("reading {}: {e}", d.display()))?
        {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let rel = path
                    .strip_prefix(dir)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                if rel == CLIENT_META_FILE {
                    continue;
                }
                let (size, sha256) = hash_file(&path)?;
                out.push(FileEntry {
                    path: rel,
                    size,
                    sha256,
                });
            }
        }
    }
    Ok(out)
}

fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, hex::encode(h.finalize())))
}

/// `model-digest DIR`: the digest, and with `manifest` the manifest lines before it.
pub fn model_digest_command(dir: &Path, manifest: bool) -> anyhow::Result<String> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a folder", dir.display());
    }
    let files = manifest_of_dir(dir)?;
    let mut out = String::new();
    if manifest {
        out.push_str(&app::domain::artifacts::manifest_text(&files));
    }
    out.push_str(&model_digest(&files));
    Ok(out)
}

/// What `verify-artifacts` found.
pub struct Verification {
    /// Models checked.
    pub checked: usize,
    /// One line per model whose files no longer match: id, digest, what differs.
    pub broken: Vec<String>,
}

/// Re-hashes every finalized model's files in the store against its recorded manifest, and
/// records each outcome for the promotion checks.
pub async fn verify_artifacts(
    pool: &app::store::Pool,
    store: &ArtifactStore,
) -> anyhow::Result<Verification> {
    let models = {
        let mut conn = pool.acquire().await?;
        logged_models::finalized(&mut conn).await?
    };
    let mut broken = Vec::new();
    for m in &models {
        let recorded = m.digest.clone().unwrap_or_default();
        if model_digest(&m.manifest) != recorded {
            broken.push(format!(
                "{} ({}): the recorded manifest does not give the recorded digest {recorded}",
                m.model_id, m.name
            ));
            continue;
        }
        let v = verify_folder(pool, store, &m.root().prefix(), &recorded, &m.manifest)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !v.ok {
            broken.push(format!(
                "{} ({}) {recorded}: {}",
                m.model_id, m.name, v.detail
            ));
        }
    }
    Ok(Verification {
        checked: models.len(),
        broken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_root_is_beside_the_database() {
        assert_eq!(default_root("sqlite://data/gatehouse.db"), "data/artifacts");
        assert_eq!(
            default_root("sqlite:///var/lib/g/g.db?mode=rwc"),
            "/var/lib/g/artifacts"
        );
        assert_eq!(default_root("sqlite://g.db"), "artifacts");
    }
}
