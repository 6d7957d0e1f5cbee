//! Run and model files (the MLflow artifact proxy's writes): the bytes go to the artifact
//! store, and the file's index row and audit entry are written in one transaction. A file
//! under a finalized or registered model is frozen (409): the model's manifest and digest
//! keep speaking of the bytes that are there.

pub mod browse;

use crate::domain::artifacts::ArtifactPath;
use crate::error::AppError;
use crate::service::artifact_store::{ArtifactStore, PutError};
use crate::service::auth::Principal;
use crate::service::now_ms;
use crate::store::audit::{self, NewEntry};
use crate::store::{artifacts, begin_write};
use crate::store::{Conn, Pool};
use bytes::Bytes;
use futures_util::Stream;
use serde_json::json;

/// The file's audit entry: its size and digest, and the digest it replaced.
fn file_entry(
    p: &Principal,
    action: &str,
    key: &str,
    (size, sha256): (u64, &str),
    replaced: Option<String>,
) -> NewEntry {
    let mut details = json!({ "size": size, "sha256": sha256 });
    if let Some(old) = replaced {
        details["replaced_sha256"] = json!(old);
    }
    NewEntry::new(p.actor(), action, "artifact", key, details)
}

/// 409 when `path` is under a finalized or registered model.
async fn refuse_if_frozen(conn: &mut Conn, path: &ArtifactPath) -> Result<(), AppError> {
    match artifacts::frozen(conn, path).await? {
        Some(why) => Err(AppError::conflict(why)),
        None => Ok(()),
    }
}

/// Whether a file may be written at `path`: its run or model exists, it is not frozen, and it
/// does not take the place of a folder. Checked before the bytes are streamed.
pub async fn check_upload(pool: &Pool, path: &ArtifactPath) -> Result<(), AppError> {
    let mut conn = pool.acquire().await?;
    artifacts::check_root(&mut conn, path).await?;
    refuse_if_frozen(&mut conn, path).await?;
    if !artifacts::files_below(&mut conn, &path.key())
        .await?
        .is_empty()
    {
        return Err(AppError::validation(
            "path",
            format!("`{}` is a folder", path.rel),
        ));
    }
    Ok(())
}

/// Streams `body` (at most `max` bytes) into the store at `path`, then records the file and
/// its audit entry; a file already there is replaced, and the entry names the old digest.
pub async fn upload<S, E>(
    pool: &Pool,
    store: &ArtifactStore,
    p: &Principal,
    path: &ArtifactPath,
    (body, max): (S, u64),
) -> Result<(), AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    check_upload(pool, path).await?;
    let key = path.key();
    let stored = store
        .put_stream(&key, body, max)
        .await
        .map_err(|e| match e {
            PutError::TooLarge(limit) => AppError::too_large(
                format!("the file is larger than the {limit}-byte limit on one artifact"),
                limit,
            ),
            PutError::Body(m) => AppError::validation("body", format!("the upload broke off: {m}")),
            PutError::Store(m) => {
                tracing::error!(error = %m, key, "artifact store write failed");
                AppError::Unavailable {
                    message: "the artifact store could not take the file; try again".into(),
                }
            }
        })?;
    let mut tx = begin_write(pool).await?;
    // A model finalized while this upload streamed keeps the manifest it was sealed with;
    // `verify-artifacts` names such a file.
    refuse_if_frozen(&mut tx, path).await?;
    let (size, sha256) = (stored.size, stored.sha256.as_str());
    let replaced = artifacts::record(&mut tx, &key, size, sha256, &p.username, now_ms()).await?;
    let entry = file_entry(
        p,
        "artifact.upload",
        &key,
        (size, sha256),
        replaced.map(|r| r.sha256),
    );
    audit::append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the file at `path`, or every file below it: the index rows and their audit entries
/// in one transaction, then the bytes (a removal that fails leaves only an orphan, logged).
pub async fn remove(
    pool: &Pool,
    store: &ArtifactStore,
    p: &Principal,
    path: &ArtifactPath,
) -> Result<(), AppError> {
    let key = path.key();
    let mut tx = begin_write(pool).await?;
    refuse_if_frozen(&mut tx, path).await?;
    let mut gone = artifacts::files_below(&mut tx, &key).await?;
    if let Some(f) = artifacts::file(&mut tx, &key).await? {
        gone.push(f);
    }
    for f in &gone {
        artifacts::forget(&mut tx, &f.path).await?;
        let entry = file_entry(
            p,
            "artifact.delete",
            &f.path,
            (f.size as u64, &f.sha256),
            None,
        );
        audit::append(&mut tx, entry).await?;
    }
    tx.commit().await?;
    for f in &gone {
        if let Err(e) = store.delete(&f.path).await {
            tracing::warn!(error = %e, key = f.path, "artifact bytes not removed from the store");
        }
    }
    Ok(())
}
