//! Every routed page as a lazily loaded route: in the browser each page's code (its views, and
//! the decoding of the data it shows) is a separate WebAssembly chunk, fetched when the page is
//! first opened, so the first load of any page carries the shell and that page only. Code two
//! pages share goes into a chunk of its own. On the server the routes render as before.
//!
//! Built with `cargo leptos build --split`; without it the chunks stay in the one module.
//!
//! Each route is a unit struct: pages load their data themselves (server-rendered resources
//! hydrate from the page, so the first view needs no second request).

use crate::pages::*;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// The role-aware home page.
pub struct OverviewRoute;

#[lazy_route]
impl LazyRoute for OverviewRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        overview_page::OverviewPage().into_any()
    }
}

/// The sign-in form.
pub struct SignInRoute;

#[lazy_route]
impl LazyRoute for SignInRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        sign_in_page::SignInPage().into_any()
    }
}

/// Experiments of tracked runs.
pub struct RunsRoute;

#[lazy_route]
impl LazyRoute for RunsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        runs_page::RunsPage().into_any()
    }
}

/// The runs of one tracked experiment.
pub struct ExperimentRunsRoute;

#[lazy_route]
impl LazyRoute for ExperimentRunsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        experiment_runs_page::ExperimentRunsPage().into_any()
    }
}

/// One run: parameters, metrics, artifacts.
pub struct RunDetailRoute;

#[lazy_route]
impl LazyRoute for RunDetailRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        run_detail_page::RunDetailPage().into_any()
    }
}

/// Several runs side by side.
pub struct RunCompareRoute;

#[lazy_route]
impl LazyRoute for RunCompareRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        run_compare_page::RunComparePage().into_any()
    }
}

/// The lineage graph.
pub struct LineageRoute;

#[lazy_route]
impl LazyRoute for LineageRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        lineage_page::LineagePage().into_any()
    }
}

/// The A/B tests.
pub struct ExperimentsRoute;

#[lazy_route]
impl LazyRoute for ExperimentsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        ab_pages::ExperimentsPage().into_any()
    }
}

/// One A/B test's results.
pub struct AbTestRoute;

#[lazy_route]
impl LazyRoute for AbTestRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        ab_pages::AbTestPage().into_any()
    }
}

/// An A/B test opened from a share link.
pub struct SharedAbTestRoute;

#[lazy_route]
impl LazyRoute for SharedAbTestRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        ab_pages::SharedAbTestPage().into_any()
    }
}

/// The fairness reports.
pub struct FairnessRoute;

#[lazy_route]
impl LazyRoute for FairnessRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        fairness_pages::FairnessPage().into_any()
    }
}

/// One fairness report.
pub struct FairnessReportRoute;

#[lazy_route]
impl LazyRoute for FairnessReportRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        fairness_pages::FairnessReportPage().into_any()
    }
}

/// The registered models.
pub struct ModelsRoute;

#[lazy_route]
impl LazyRoute for ModelsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        models_pages::ModelsPage().into_any()
    }
}

/// One registered model.
pub struct ModelRoute;

#[lazy_route]
impl LazyRoute for ModelRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        models_pages::ModelPage().into_any()
    }
}

/// One model version.
pub struct ModelVersionRoute;

#[lazy_route]
impl LazyRoute for ModelVersionRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        model_version_page::ModelVersionPage().into_any()
    }
}

/// The promotion queue.
pub struct PromotionsRoute;

#[lazy_route]
impl LazyRoute for PromotionsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        promotion_pages::PromotionsPage().into_any()
    }
}

/// The promotion policies.
pub struct PoliciesRoute;

#[lazy_route]
impl LazyRoute for PoliciesRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        policies_page::PoliciesPage().into_any()
    }
}

/// One promotion request.
pub struct PromotionRoute;

#[lazy_route]
impl LazyRoute for PromotionRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        promotion_pages::PromotionPage().into_any()
    }
}

/// The audit trail.
pub struct AuditRoute;

#[lazy_route]
impl LazyRoute for AuditRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        audit_page::AuditPage().into_any()
    }
}

/// Users, roles and tokens.
pub struct AdminRoute;

#[lazy_route]
impl LazyRoute for AdminRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        admin_page::AdminPage().into_any()
    }
}

/// The signed-in user's own account.
pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        account_page::AccountPage().into_any()
    }
}
