//! The index of stored artifact files, and the rule that freezes a model's bytes.

use crate::domain::artifacts::{ArtifactPath, FileEntry, Root};
use crate::error::AppError;
use crate::store::Conn;

mod frozen;
mod verification;

pub use frozen::*;
pub use verification::*;

/// One indexed file.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FileRow {
    /// Its key in the store.
    pub path: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When, ms.
    pub uploaded_at: i64,
}

/// The file at `key`, if indexed.
pub async fn file(conn: &mut Conn, key: &str) -> Result<Option<FileRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT path, size, sha256, uploaded_by, uploaded_at FROM artifact_files WHERE path = $1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Every file strictly below the folder `key`, by path.
pub async fn files_below(conn: &mut Conn, key: &str) -> Result<Vec<FileRow>, sqlx::Error> {
    // `/` + 1 is `0`: the half-open range [key/, key0) is everything below key/.
    sqlx::query_as(
        "SELECT path, size, sha256, uploaded_by, uploaded_at FROM artifact_files WHERE path >= $1 AND path < $2 ORDER BY path",
    )
    .bind(format!("{key}/"))
    .bind(format!("{key}0"))
    .fetch_all(conn)
    .await
}

/// Records a stored file, replacing an earlier one at the same key; answers the one replaced.
pub async fn record(
    conn: &mut Conn,
    key: &str,
    size: u64,
    sha256: &str,
    by: &str,
    at: i64,
) -> Result<Option<FileRow>, sqlx::Error> {
    let old = file(conn, key).await?;
    sqlx::query(
        "INSERT INTO artifact_files (path, size, sha256, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (path) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, uploaded_by = excluded.uploaded_by, uploaded_at = excluded.uploaded_at",
    )
    .bind(key)
    .bind(size as i64)
    .bind(sha256)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(old)
}

/// Removes a file from the index.
pub async fn forget(conn: &mut Conn, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM artifact_files WHERE path = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// The manifest of a root as indexed now: its files relative to the root.
pub async fn manifest_of(conn: &mut Conn, root: &Root) -> Result<Vec<FileEntry>, sqlx::Error> {
    let prefix = root.prefix();
    Ok(files_below(conn, &prefix)
        .await?
        .into_iter()
        .map(|f| FileEntry {
            path: f.path[prefix.len() + 1..].to_string(),
            size: f.size as u64,
            sha256: f.sha256,
        })
        .collect())
}

/// Checks that the root of `p` exists: the run or logged model, in that experiment.
pub async fn check_root(conn: &mut Conn, p: &ArtifactPath) -> Result<(), AppError> {
    let found: Option<i64> = match &p.root {
        Root::Run {
            experiment_id,
            run_id,
        } => {
            sqlx::query_scalar("SELECT 1 FROM runs WHERE run_uuid = $1 AND experiment_id = $2")
                .bind(run_id)
                .bind(experiment_id)
                .fetch_optional(&mut *conn)
                .await?
        }
        Root::Model {
            experiment_id,
            model_id,
        } => {
            sqlx::query_scalar(
                "SELECT 1 FROM logged_models WHERE model_id = $1 AND experiment_id = $2",
            )
            .bind(model_id)
            .bind(experiment_id)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    if found.is_none() {
        let what = match &p.root {
            Root::Run {
                experiment_id,
                run_id,
            } => format!("run {run_id} in experiment {experiment_id}"),
            Root::Model {
                experiment_id,
                model_id,
            } => format!("logged model {model_id} in experiment {experiment_id}"),
        };
        return Err(AppError::not_found(format!("No {what}")));
    }
    Ok(())
}
