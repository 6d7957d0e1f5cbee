//! One routed page per file.

pub mod ab_pages;
pub mod account_page;
pub mod admin_page;
pub mod audit_page;
pub mod experiment_runs_page;
pub mod fairness_pages;
pub mod lineage_page;
pub mod model_version_page;
pub mod models_pages;
pub mod not_found_page;
pub mod overview_page;
pub mod policies_page;
pub mod promotion_pages;
pub mod run_compare_page;
pub mod run_detail_page;
pub mod runs_page;
pub mod sign_in_page;
