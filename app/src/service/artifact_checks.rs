//! Re-hashing stored files against the manifest they were sealed with: before a promotion is
//! requested or reviewed (so the `artifact` check speaks of the bytes as they are), and for
//! `server verify-artifacts`. Each result is recorded for the check to read.

use crate::domain::artifacts::{drift, FileEntry};
use crate::domain::promotion::ArtifactVerification;
use crate::error::AppError;
use crate::service::artifact_store::{ArtifactStore, StoreError};
use crate::service::now_ms;
use crate::store::Pool;
use crate::store::{artifacts, begin_write};

/// The files under `prefix` as the store holds them now, hashed.
pub async fn hash_folder(
    store: &ArtifactStore,
    prefix: &str,
) -> Result<Vec<FileEntry>, StoreError> {
    let mut found = Vec::new();
    for (rel, _) in store.list_under(prefix).await? {
        if let Some(s) = store.hash(&format!("{prefix}/{rel}")).await? {
            found.push(FileEntry {
                path: rel,
                size: s.size,
                sha256: s.sha256,
            });
        }
    }
    Ok(found)
}

/// Re-hashes `prefix` against `manifest` and records the outcome under `digest`.
pub async fn verify_folder(
    pool: &Pool,
    store: &ArtifactStore,
    prefix: &str,
    digest: &str,
    manifest: &[FileEntry],
) -> Result<ArtifactVerification, AppError> {
    let (ok, detail) = match hash_folder(store, prefix).await {
        Ok(found) => {
            let d = drift(manifest, &found);
            (d.is_clean(), d.describe())
        }
        Err(e) => {
            tracing::error!(error = %e, prefix, "artifact store read failed during verification");
            (false, "the artifact store could not be read".to_string())
        }
    };
    let at = now_ms();
    let mut tx = begin_write(pool).await?;
    artifacts::record_verification(&mut tx, prefix, digest, ok, &detail, at).await?;
    tx.commit().await?;
    Ok(ArtifactVerification { ok, detail })
}

/// Re-hashes the files of the version a promotion request is about.
pub async fn verify_request(
    pool: &Pool,
    store: &ArtifactStore,
    request_id: i64,
) -> Result<(), AppError> {
    if let Some((name, version)) = crate::store::promotions::target_of(pool, request_id).await? {
        verify_version(pool, store, &name, version).await?;
    }
    Ok(())
}

/// Re-hashes the files `name` version `version` is bound to, if Gatehouse stores them.
pub async fn verify_version(
    pool: &Pool,
    store: &ArtifactStore,
    name: &str,
    version: i64,
) -> Result<Option<ArtifactVerification>, AppError> {
    let bound = {
        let mut conn = pool.acquire().await?;
        artifacts::bound_to_version(&mut conn, name, version).await?
    };
    match bound {
        Some(b) => Ok(Some(
            verify_folder(pool, store, &b.prefix, &b.digest, &b.manifest).await?,
        )),
        None => Ok(None),
    }
}
