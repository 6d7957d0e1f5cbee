//! One routed page per file.

pub mod admin_page;
pub mod audit_page;
pub mod capability_pages;
pub mod not_found_page;
pub mod overview_page;
pub mod sign_in_page;
