//! Gatehouse: components, pages, server functions and domain logic.
//!
//! Built twice: with `ssr` for the server binary, which renders every page, and with `hydrate`
//! for the browser, which receives only the interactive parts marked `#[island]` (the theme
//! switch, the fairness upload form, the lineage graph's controls): pages are HTML, their links
//! and forms work without script, and the wasm stays small.

#![recursion_limit = "256"]

pub mod app;
pub mod components;
pub mod domain;
pub mod dto;
pub mod error;
#[cfg(feature = "ssr")]
pub mod fuzzing;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

pub use app::{shell, App};
