//! Re-hashes of a model's files against its recorded digest, and the evidence they give a
//! version.

use super::bound_to_version;
use crate::store::Conn;

/// Records a re-hash of the files under `prefix` against `digest`.
pub async fn record_verification(
    conn: &mut Conn,
    prefix: &str,
    digest: &str,
    ok: bool,
    detail: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO artifact_verifications (prefix, digest, verified_at, ok, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(prefix)
    .bind(digest)
    .bind(at)
    .bind(ok)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// The latest re-hash of `prefix` against `digest`, if any.
pub async fn latest_verification(
    conn: &mut Conn,
    prefix: &str,
    digest: &str,
) -> Result<Option<crate::domain::promotion::ArtifactVerification>, sqlx::Error> {
    let row: Option<(crate::store::Flag, String)> = sqlx::query_as(
        "SELECT ok, detail FROM artifact_verifications WHERE prefix = $1 AND digest = $2 ORDER BY verified_at DESC, verification_id DESC LIMIT 1",
    )
    .bind(prefix)
    .bind(digest)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(ok, detail)| crate::domain::promotion::ArtifactVerification { ok: ok.0, detail }))
}

/// A version's artifact evidence: what its files are bound to and their latest re-hash.
pub async fn evidence_for_version(
    conn: &mut Conn,
    name: &str,
    version: i64,
) -> Result<Option<crate::domain::promotion::ArtifactEvidence>, sqlx::Error> {
    let Some(b) = bound_to_version(conn, name, version).await? else {
        return Ok(None);
    };
    let verified = latest_verification(conn, &b.prefix, &b.digest).await?;
    Ok(Some(crate::domain::promotion::ArtifactEvidence {
        files: b.manifest.len(),
        bytes: b.manifest.iter().map(|f| f.size).sum(),
        source: b.source,
        model_id: b.model_id,
        digest: b.digest,
        sealed: b.sealed,
        verified,
    }))
}

/// The latest re-hash of the files under `prefix` with `digest`, with when it ran (Unix ms):
/// when, whether the files still matched, and what differed.
pub async fn latest_verification_at(
    conn: &mut Conn,
    prefix: &str,
    digest: &str,
) -> Result<Option<(i64, bool, String)>, sqlx::Error> {
    let row: Option<(i64, crate::store::Flag, String)> = sqlx::query_as(
        "SELECT verified_at, ok, detail FROM artifact_verifications WHERE prefix = $1 AND digest = $2 ORDER BY verified_at DESC, verification_id DESC LIMIT 1",
    )
    .bind(prefix)
    .bind(digest)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(at, ok, detail)| (at, ok.0, detail)))
}
