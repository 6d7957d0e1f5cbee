//! Read-only share links to a test's page: created with a random token whose hash alone is
//! stored, revoked by a manager; both audited.

use super::load;
use crate::error::AppError;
use crate::service::auth::{random_secret, sha256_hex};
use crate::service::state::AppState;
use crate::store::ab_tests as db;
use crate::store::audit::{self, NewEntry};
use crate::store::begin_write;
use serde_json::json;

/// Creates a read-only share link: a random token (only its hash is stored) valid for `days`.
pub async fn create_share(
    s: &AppState,
    id: i64,
    days: i64,
    actor: &str,
) -> Result<(String, String), AppError> {
    if !(1..=90).contains(&days) {
        return Err(AppError::validation(
            "days",
            "a share link lasts 1 to 90 days",
        ));
    }
    load(s, id).await?;
    let token = random_secret();
    let now = crate::service::now_ts();
    let expires = crate::domain::audit_chain::format_ts(
        time::OffsetDateTime::now_utc() + time::Duration::days(days),
    );
    let mut tx = begin_write(&s.pool).await?;
    let link = db::create_share(&mut tx, id, &sha256_hex(&token), actor, &now, &expires).await?;
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.share",
            "ab_test",
            id.to_string(),
            json!({ "link_id": link, "expires_at": expires }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((format!("/shared/ab/{token}"), expires))
}

/// Revokes a share link; audited.
pub async fn revoke(s: &AppState, id: i64, link: i64, actor: &str) -> Result<(), AppError> {
    let now = crate::service::now_ts();
    let mut tx = begin_write(&s.pool).await?;
    if !db::revoke_share(&mut tx, id, link, &now).await? {
        return Err(AppError::not_found(format!(
            "no live share link {link} on A/B test {id}"
        )));
    }
    audit::append(
        &mut tx,
        NewEntry::new(
            actor,
            "experiment.share_revoke",
            "ab_test",
            id.to_string(),
            json!({ "link_id": link }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
