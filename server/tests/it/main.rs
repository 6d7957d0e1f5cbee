//! The integration tests, as one binary: each test binary links the whole server, and eight of
//! them cost minutes of linking and gigabytes of disk.
#![allow(
    clippy::too_many_lines,
    reason = "an integration test reads as one scenario, top to bottom"
)]
mod common;

mod ab_tests;
mod artifacts;
mod audit;
mod audit_tree;
mod auth;
mod authz_matrix;
mod cli;
mod fairness;
mod home;
mod http;
mod jobs;
mod lineage;
mod mlflow;
mod openapi;
mod postgres;
mod promotions;
mod registry;
mod s3;
mod scim;
mod sso;
mod storage;
mod webhooks;
