//! OpenLineage events and lineage node ids.
//!
//! [`parse_event`] validates a RunEvent, DatasetEvent or JobEvent (OpenLineage 2-0-x) into the
//! normalised form the store keeps, naming the offending field by JSON pointer when it is not
//! valid. [`fold_run`] derives a run's state from the set of its events, so events that arrive
//! twice or out of order give the same result. [`NodeRef`] parses and prints the node ids of
//! the lineage API (`dataset:<namespace>:<name>`, `job:…`, `run:<id>`, …).

/// Longest namespace or name accepted.
pub const MAX_NAME_LEN: usize = 1024;
/// Most inputs or outputs in one event.
pub const MAX_DATASETS: usize = 1000;

mod batch;
mod event;
mod explore;
mod fold;
mod node_ref;
mod parse;

pub use batch::*;
pub use event::*;
pub use explore::*;
pub use fold::*;
pub use node_ref::*;
pub use parse::*;

#[cfg(test)]
mod tests;
