//! A run's state from all its events, whatever their order or repeats.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

use super::*;

/// A run's state derived from all its events.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// State: the terminal event's type if there is one, else the latest event's.
    pub state: RunEventType,
    /// Time of the earliest START (or of the earliest event, if none started it).
    pub started_at: String,
    /// Time of the terminal event.
    pub ended_at: Option<String>,
    /// Latest event time.
    pub last_event_time: String,
    /// The latest error message.
    pub error_message: Option<String>,
    /// Parent run, job namespace and name.
    pub parent: Option<(String, String, String)>,
    /// Nominal start and end.
    pub nominal: Option<(String, Option<String>)>,
    /// The MLflow run this OpenLineage run trained, when a facet links them.
    pub mlflow_run_id: Option<String>,
    /// Facets merged in event order (later events win per facet).
    pub facets: Map<String, Value>,
    /// Every input dataset named by any event, as (namespace, name).
    pub inputs: BTreeSet<(String, String)>,
    /// Every output dataset named by any event.
    pub outputs: BTreeSet<(String, String)>,
}

/// Folds a run's events, in any order and with repeats, into its summary. `None` without
/// run events.
pub fn fold_run(events: &[LineageEvent]) -> Option<RunSummary> {
    let mut sorted: Vec<(&LineageEvent, RunEventType, &RunPart)> = events
        .iter()
        .filter_map(|e| match (&e.kind, &e.run) {
            (EventKind::Run(t), Some(r)) => Some((e, *t, r)),
            _ => None,
        })
        .collect();
    // Time, then type order, then a stable key: the same set always folds the same way.
    sorted.sort_by(|a, b| {
        (a.0.event_time.as_str(), a.1, a.0.dedup_key()).cmp(&(
            b.0.event_time.as_str(),
            b.1,
            b.0.dedup_key(),
        ))
    });
    let first = sorted.first()?;
    let mut s = RunSummary {
        state: first.1,
        started_at: sorted
            .iter()
            .find(|e| e.1 == RunEventType::Start)
            .map(|e| e.0.event_time.clone())
            .unwrap_or_else(|| first.0.event_time.clone()),
        ended_at: None,
        last_event_time: first.0.event_time.clone(),
        error_message: None,
        parent: None,
        nominal: None,
        mlflow_run_id: None,
        facets: Map::new(),
        inputs: BTreeSet::new(),
        outputs: BTreeSet::new(),
    };
    for (e, t, r) in &sorted {
        s.last_event_time = e.event_time.clone();
        if t.is_terminal() {
            s.state = *t;
            s.ended_at = Some(e.event_time.clone());
        } else if !s.state.is_terminal() {
            s.state = *t;
        }
        if r.error_message.is_some() {
            s.error_message = r.error_message.clone();
        }
        if r.parent.is_some() {
            s.parent = r.parent.clone();
        }
        if r.nominal.is_some() {
            s.nominal = r.nominal.clone();
        }
        if r.mlflow_run_id.is_some() {
            s.mlflow_run_id = r.mlflow_run_id.clone();
        }
        for (k, v) in &r.facets {
            s.facets.insert(k.clone(), v.clone());
        }
        s.inputs.extend(
            e.inputs
                .iter()
                .map(|d| (d.namespace.clone(), d.name.clone())),
        );
        s.outputs.extend(
            e.outputs
                .iter()
                .map(|d| (d.namespace.clone(), d.name.clone())),
        );
    }
    Some(s)
}

/// A job version: a digest of its inputs, outputs and source code location, as Marquez
/// derives one. The same sets give the same version whatever their order.
pub fn job_version(
    inputs: &BTreeSet<(String, String)>,
    outputs: &BTreeSet<(String, String)>,
    source_location: Option<&str>,
) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (tag, set) in [("in", inputs), ("out", outputs)] {
        for (ns, name) in set {
            h.update(format!("{tag}\u{1f}{ns}\u{1f}{name}\u{1e}").as_bytes());
        }
    }
    h.update(source_location.unwrap_or("").as_bytes());
    hex::encode(&h.finalize()[..16])
}
