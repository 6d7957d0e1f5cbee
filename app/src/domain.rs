//! Pure domain logic shared by the server and the browser: no I/O, no framework types.

pub mod ab;
pub mod accounts;
pub mod artifacts;
pub mod audit_chain;
pub mod audit_query;
pub mod authz;
pub mod axis;
pub mod csv;
pub mod downsample;
pub mod experiment;
pub mod fairness;
pub mod graph_layout;
pub mod lineage;
pub mod logged_models;
pub mod merkle;
pub mod names;
pub mod palette;
pub mod promotion;
pub mod roles;
pub mod run_search;
pub mod throttle;
pub mod url;
pub mod when;
