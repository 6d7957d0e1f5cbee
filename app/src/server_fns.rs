//! Server functions, grouped by domain. Each one authorises, calls the store, maps errors.

pub mod ab_tests;
pub mod admin;
pub mod artifacts;
pub mod audit;
pub mod fairness;
pub mod lineage;
pub mod overview;
pub mod promotions;
pub mod runs;
pub mod session;
pub mod sign_in_settings;
pub mod tokens;
pub mod webhooks;
