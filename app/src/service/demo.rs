//! The deterministic demo workspace. Everything is written through the same functions as real
//! use, so the audit trail covers it; later steps extend it with models, runs and experiments.

use super::accounts;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::store as db;
use crate::store::Pool;

/// The password of every demo account; shown on the sign-in page in demo mode only.
pub const DEMO_PASSWORD: &str = "gatehouse-demo";

/// The demo accounts: one per role, named after it, and a second reviewer so that a
/// promotion can gather two approvals.
pub const DEMO_USERS: [(&str, Role); 7] = [
    ("viewer", Role::Viewer),
    ("pm", Role::ProductManager),
    ("scientist", Role::Scientist),
    ("reviewer", Role::Reviewer),
    ("reviewer2", Role::Reviewer),
    ("auditor", Role::Auditor),
    ("admin", Role::Admin),
];

/// Seeds the demo workspace into an empty database; does nothing when users exist.
pub async fn seed(pool: &Pool) -> Result<bool, AppError> {
    if db::users::count(pool).await? > 0 {
        return Ok(false);
    }
    for (name, role) in DEMO_USERS {
        accounts::create_user(pool, "system:demo", name, &[role], DEMO_PASSWORD).await?;
    }
    Ok(true)
}
