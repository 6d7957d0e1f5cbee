//! The Gatehouse HTTP server: router assembly, REST routes, middleware and start-up.

pub mod abtests;
pub mod api;
pub mod demo;
pub mod fairness;
pub mod layout_cli;
pub mod lineage;
pub mod metrics;
pub mod middleware;
pub mod mlflow;
pub mod promotions;
pub mod registry;
pub mod routes;
pub mod startup;

pub use startup::{build_router, open_store, ServeSettings};
