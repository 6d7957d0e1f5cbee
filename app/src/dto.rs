//! Data carried between the server and the browser (server-function results).

mod ab_tests;
mod accounts;
mod audit;
mod fairness;
mod lineage;
mod tracking;

pub use ab_tests::*;
pub use accounts::*;
pub use audit::*;
pub use fairness::*;
pub use lineage::*;
pub use tracking::*;

pub mod artifacts;
pub mod home;
pub mod registry;
