//! Reusable views.

pub mod artifact_browser;
pub mod audit_table;
pub mod chart_figure;
pub mod empty_state;
pub mod error_view;
pub mod nav;
pub mod run_format;
pub mod theme_toggle;
pub mod token_table;
pub mod url_state;
pub mod when;
