//! The home page's sections, each read for the roles that ask for it.

use crate::domain::ab_tests::Decision;
use crate::domain::ab_tests::Status;
use crate::domain::authz::Action;
use crate::domain::roles::Role;
use crate::dto::home::{AdminHome, AuditorHome, Home, ProductHome, ReviewerHome, ScientistHome};
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::service::state::AppState;
use crate::store;

/// How many rows each list shows; each links to the page with all of them.
const LIMIT: i64 = 6;

/// Everything `p`'s home page shows, as of now.
#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
pub async fn home(s: &AppState, p: &Principal) -> Result<Home, AppError> {
    let pool = &s.pool;
    let has = |r: Role| p.roles.contains(&r);
    let mut serving = store::home::serving(pool).await?;
    for a in &mut serving {
        a.protected = store::promotions::policy_for_model(pool, &a.model)
            .await?
            .1
            .is_protected(&a.alias);
    }
    // Protected aliases (what reaches people) first, then by model and alias.
    serving.sort_by(|a, b| {
        (!a.protected, &a.model, &a.alias).cmp(&(!b.protected, &b.model, &b.alias))
    });

    let pending = if has(Role::Reviewer) || has(Role::Scientist) {
        crate::service::promotions::queue(pool, Some("pending")).await?
    } else {
        Vec::new()
    };
    let reviewer = if has(Role::Reviewer) {
        let done = store::home::reviewed_pending(pool, &p.username).await?;
        let mut waiting: Vec<_> = pending
            .iter()
            .filter(|q| {
                q.request.requested_by != p.username && !done.contains(&q.request.request_id)
            })
            .cloned()
            .collect();
        waiting.sort_by_key(|q| std::cmp::Reverse(q.age_secs));
        Some(ReviewerHome {
            waiting,
            decided: store::home::latest_reviews(pool, LIMIT).await?,
        })
    } else {
        None
    };
    let scientist = if has(Role::Scientist) {
        Some(ScientistHome {
            runs: store::home::runs_by(pool, &p.username, LIMIT).await?,
            requests: pending
                .iter()
                .filter(|q| q.request.requested_by == p.username)
                .cloned()
                .collect(),
        })
    } else {
        None
    };
    let product = if has(Role::ProductManager) {
        let tests = crate::service::ab_tests::summaries(s).await?;
        let open =
            |t: &crate::dto::AbTestSummary| matches!(t.status, Status::Running | Status::Stopped);
        Some(ProductHome {
            ready: tests
                .iter()
                .filter(|t| {
                    open(t) && matches!(t.verdict, Some(Decision::Ship | Decision::RollBack))
                })
                .cloned()
                .collect(),
            running: tests
                .into_iter()
                .filter(|t| t.status == Status::Running)
                .collect(),
        })
    } else {
        None
    };
    let (totals, recent) = store::audit::overview(
        pool,
        (!p.can(Action::ReadAudit)).then_some(p.username.as_str()),
        8,
    )?;
    let auditor = if has(Role::Auditor) || has(Role::Admin) {
        Some(AuditorHome {
            last_verification: store::home::last_verification(pool).await?,
            checkpoint: store::audit_tree::latest_checkpoint(pool)
                .await?
                .map(|c| (c.tree_size, c.issued_at)),
            entries: totals.audit_entries,
            sensitive: store::home::sensitive(pool, LIMIT).await?,
        })
    } else {
        None
    };
    let admin = has(Role::Admin).then_some(AdminHome {
        users: totals.users,
        live_tokens: totals.live_tokens,
    });
    Ok(Home {
        now: crate::service::now_ts(),
        username: p.username.clone(),
        serving,
        reviewer,
        product,
        scientist,
        auditor,
        admin,
        recent,
        recent_is_everyone: p.can(Action::ReadAudit),
    })
}
