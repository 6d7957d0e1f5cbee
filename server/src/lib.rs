//! The Gatehouse HTTP server: router assembly, REST routes, middleware and start-up.

pub mod ab_tests;
pub mod api;
pub mod artifacts;
pub mod artifacts_cli;
pub mod audit;
pub mod demo;
pub mod describe;
pub mod extract;
pub mod fairness;
pub mod layout_cli;
pub mod lineage;
pub mod logged_models;
pub mod metrics;
pub mod middleware;
pub mod mlflow;
pub mod openapi;
pub mod promotions;
pub mod registry;
pub mod routes;
pub mod scim;
pub mod sso;
pub mod startup;
pub mod tokens;
pub mod webhooks;

pub use startup::{build_router, open_store, ServeSettings};

/// The process's allocator, for the server binary and everything that links this crate (the
/// benchmarks measure what production runs). Under the mixed load test glibc's malloc took a
/// fifth of the server's CPU in its arena locks and chunk consolidation. jemalloc removes that
/// as mimalloc did, without mimalloc's cost on bulk work (the 100,000-entry audit export went
/// from 1.9 to 2.9 s with it) or its memory (peak RSS under load 61 MB, mimalloc 106-139 MB).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
