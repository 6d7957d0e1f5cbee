//! Gatehouse: components, pages, server functions and domain logic.
//!
//! Built twice: with `ssr` for the server binary and with `hydrate` for the browser.

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod domain;
pub mod error;
pub mod model;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;

pub use app::{shell, App};
