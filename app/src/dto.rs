//! Data carried between the server and the browser (server-function results).

mod ab_tests;
mod accounts;
mod audit;
mod fairness;
mod lineage;
mod tracking;
mod webhooks;

pub use ab_tests::*;
pub use accounts::*;
pub use audit::*;
pub use fairness::*;
pub use lineage::*;
pub use tracking::*;
pub use webhooks::*;

pub mod artifacts;
pub mod home;
pub mod registry;
