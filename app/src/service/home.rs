//! The home page's sections, each read for the roles that ask for it.

use crate::domain::ab_tests::Decision;
use crate::domain::ab_tests::Status;
use crate::domain::authz::Action;
use crate::domain::roles::Role;
use crate::dto::home::{
    AdminHome, AuditorHome, Home, ProductHome, ReviewerHome, ScientistHome, Serving,
};
use crate::dto::registry::QueueItem;
use crate::dto::AbTestSummary;
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::service::state::AppState;
use crate::store;
use crate::store::Pool;

/// How many rows each list shows; each links to the page with all of them.
const LIMIT: i64 = 6;

/// Everything `p`'s home page shows, as of now.
pub async fn home(s: &AppState, p: &Principal) -> Result<Home, AppError> {
    let pool = &s.pool;
    let has = |r: Role| p.roles.contains(&r);
    let pending = if has(Role::Reviewer) || has(Role::Scientist) {
        crate::service::promotions::queue(pool, Some("pending")).await?
    } else {
        Vec::new()
    };
    let reviewer = if has(Role::Reviewer) {
        Some(reviewer_home(pool, p, &pending).await?)
    } else {
        None
    };
    let scientist = if has(Role::Scientist) {
        Some(scientist_home(pool, p, &pending).await?)
    } else {
        None
    };
    let product = if has(Role::ProductManager) {
        Some(product_home(s).await?)
    } else {
        None
    };
    let (totals, recent) = store::audit::overview(
        pool,
        (!p.can(Action::ReadAudit)).then_some(p.username.as_str()),
        8,
        &crate::service::now_ts(),
    )
    .await?;
    let auditor = if has(Role::Auditor) || has(Role::Admin) {
        Some(auditor_home(pool, totals.audit_entries).await?)
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
        serving: serving(pool).await?,
        reviewer,
        product,
        scientist,
        auditor,
        admin,
        recent,
        recent_is_everyone: p.can(Action::ReadAudit),
    })
}

/// What each alias serves: protected aliases (what reaches people) first, then by model and
/// alias.
async fn serving(pool: &Pool) -> Result<Vec<Serving>, AppError> {
    let mut serving = store::home::serving(pool).await?;
    for a in &mut serving {
        a.protected = store::promotions::policy_for_model(pool, &a.model)
            .await?
            .1
            .is_protected(&a.alias);
    }
    serving.sort_by(|a, b| {
        (!a.protected, &a.model, &a.alias).cmp(&(!b.protected, &b.model, &b.alias))
    });
    Ok(serving)
}

/// A reviewer's section: the pending requests of others they have not reviewed yet, longest
/// waiting first, and the latest reviews.
async fn reviewer_home(
    pool: &Pool,
    p: &Principal,
    pending: &[QueueItem],
) -> Result<ReviewerHome, AppError> {
    let mut waiting = crate::service::promotions::waiting_for(pool, p, pending.to_vec()).await?;
    waiting.sort_by_key(|q| std::cmp::Reverse(q.age_secs));
    Ok(ReviewerHome {
        waiting,
        decided: store::home::latest_reviews(pool, LIMIT).await?,
    })
}

/// A data scientist's section: their latest runs and their own pending requests.
async fn scientist_home(
    pool: &Pool,
    p: &Principal,
    pending: &[QueueItem],
) -> Result<ScientistHome, AppError> {
    Ok(ScientistHome {
        runs: store::home::runs_by(pool, &p.username, LIMIT).await?,
        requests: pending
            .iter()
            .filter(|q| q.request.requested_by == p.username)
            .cloned()
            .collect(),
    })
}

/// A product manager's section: open tests whose verdict is ready (ship or roll back), and the
/// running ones.
async fn product_home(s: &AppState) -> Result<ProductHome, AppError> {
    let tests = crate::service::ab_tests::summaries(s).await?;
    let open = |t: &AbTestSummary| matches!(t.status, Status::Running | Status::Stopped);
    Ok(ProductHome {
        ready: tests
            .iter()
            .filter(|t| open(t) && matches!(t.verdict, Some(Decision::Ship | Decision::RollBack)))
            .cloned()
            .collect(),
        running: tests
            .into_iter()
            .filter(|t| t.status == Status::Running)
            .collect(),
    })
}

/// An auditor's (or admin's) section: the last verification, the latest checkpoint, the size
/// of the trail and its latest sensitive entries.
async fn auditor_home(pool: &Pool, entries: i64) -> Result<AuditorHome, AppError> {
    Ok(AuditorHome {
        last_verification: store::home::last_verification(pool).await?,
        checkpoint: store::audit_tree::latest_checkpoint(pool)
            .await?
            .map(|c| (c.tree_size, c.issued_at)),
        entries,
        sensitive: store::home::sensitive(pool, LIMIT).await?,
    })
}
