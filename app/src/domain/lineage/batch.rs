//! A batch of new events as the rows they write, each row once: ingestion stores a batch
//! with one statement per table instead of some twenty per event. Where several events of the
//! batch touch one row, the row takes the part that sorts latest by (event time, dedup key),
//! which is what storing them one at a time leaves, since each replaces only what sorts
//! earlier than itself (the store compares with what it holds the same way).

use super::{job_version, DatasetPart, EventKind, LineageEvent};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A dataset or job: (namespace, name).
pub type Name = (String, String);

/// A value and where it came from: (event time, dedup key) as one text that sorts like them.
#[derive(Clone, Debug, PartialEq)]
pub struct Sourced {
    /// The event's sort key ([`source_key`]).
    pub from: String,
    /// The value (JSON).
    pub value: String,
}

/// A dataset as the batch names it: its latest facets and latest schema fields, when some
/// part carried them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatasetRow {
    /// All facets (JSON object) of the latest part with any.
    pub facets: Option<Sourced>,
    /// Schema fields (JSON array) of the latest part with a schema.
    pub fields: Option<Sourced>,
}

/// A dataset version (an output of a run, or a DatasetEvent's version), from its latest part.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionRow {
    /// The run that wrote it.
    pub run_id: Option<String>,
    /// Schema fields (JSON array).
    pub fields: String,
    /// All facets (JSON object).
    pub facets: String,
    /// `[[field, namespace, name, input field], …]` (JSON).
    pub column_lineage: String,
    /// The part's sort key.
    pub from: String,
}

impl VersionRow {
    /// The version row `d` makes, written by `run_id` (if a run wrote it), from the event
    /// that sorts as `from`.
    pub fn of(d: &DatasetPart, run_id: Option<&str>, from: &str) -> VersionRow {
        let lineage: Vec<[&str; 4]> = d
            .column_lineage
            .iter()
            .map(|c| {
                [
                    c.field.as_str(),
                    c.namespace.as_str(),
                    c.name.as_str(),
                    c.input_field.as_str(),
                ]
            })
            .collect();
        VersionRow {
            run_id: run_id.map(str::to_owned),
            fields: serde_json::to_string(d.fields.as_deref().unwrap_or_default())
                .unwrap_or_else(|_| "[]".into()),
            facets: facets_json(&d.facets),
            column_lineage: serde_json::to_string(&lineage).unwrap_or_else(|_| "[]".into()),
            from: from.to_owned(),
        }
    }
}

/// A job version a JobEvent declares.
#[derive(Clone, Debug, PartialEq)]
pub struct Declared {
    /// The latest declaring event's time.
    pub static_time: String,
    /// Its input datasets.
    pub inputs: BTreeSet<Name>,
    /// Its output datasets.
    pub outputs: BTreeSet<Name>,
}

/// What a batch of new events writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// Every namespace named.
    pub namespaces: BTreeSet<String>,
    /// Every dataset named.
    pub datasets: BTreeMap<Name, DatasetRow>,
    /// Dataset versions by (dataset, version).
    pub versions: BTreeMap<(Name, String), VersionRow>,
    /// Every job named, with its latest facets (JSON object) if some event carried any.
    pub jobs: BTreeMap<Name, Option<Sourced>>,
    /// Job versions declared by JobEvents, by (job, version).
    pub declared: BTreeMap<(Name, String), Declared>,
    /// Runs to re-fold from all their events, each with the job its last event in the batch
    /// names (a run that moves to another job goes with it).
    pub runs: BTreeMap<String, Name>,
}

/// What makes one event's value replace another's: later event time, then later dedup key;
/// the separator sorts below every printable character.
pub fn source_key(e: &LineageEvent, dedup_key: &str) -> String {
    format!("{}\u{1}{dedup_key}", e.event_time)
}

/// Keeps in `slot` whichever of it and `new` sorts later.
fn keep_latest(slot: &mut Option<Sourced>, new: Sourced) {
    if slot.as_ref().is_none_or(|s| new.from > s.from) {
        *slot = Some(new);
    }
}

fn facets_json(m: &Map<String, Value>) -> String {
    Value::Object(m.clone()).to_string()
}

fn names(parts: &[DatasetPart]) -> BTreeSet<Name> {
    parts
        .iter()
        .map(|d| (d.namespace.clone(), d.name.clone()))
        .collect()
}

impl Batch {
    /// Whether the batch writes nothing (no new event touched the graph).
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
    }

    /// Adds a new event (stored under `dedup_key`) to what the batch writes.
    pub fn add(&mut self, e: &LineageEvent, dedup_key: &str) {
        let from = source_key(e, dedup_key);
        match (&e.kind, &e.dataset, &e.job, &e.run) {
            (EventKind::Dataset, Some(d), _, _) => {
                self.dataset(d, &from);
                if let Some(v) = &d.version {
                    self.version(d, v, None, &from);
                }
            }
            (EventKind::Job, _, Some((ns, name, facets)), _) => {
                self.job(ns, name, facets, &from);
                for d in e.inputs.iter().chain(&e.outputs) {
                    self.dataset(d, &from);
                }
                let (inputs, outputs) = (names(&e.inputs), names(&e.outputs));
                let version = job_version(&inputs, &outputs, None);
                let declared = self
                    .declared
                    .entry(((ns.clone(), name.clone()), version))
                    .or_insert_with(|| Declared {
                        static_time: e.event_time.clone(),
                        inputs,
                        outputs,
                    });
                if e.event_time > declared.static_time {
                    declared.static_time = e.event_time.clone();
                }
            }
            (EventKind::Run(_), _, Some((ns, name, facets)), Some(run)) => {
                self.job(ns, name, facets, &from);
                for d in &e.inputs {
                    self.dataset(d, &from);
                }
                for d in &e.outputs {
                    self.dataset(d, &from);
                    let version = d
                        .version
                        .clone()
                        .unwrap_or_else(|| format!("run:{}", run.run_id));
                    self.version(d, &version, Some(&run.run_id), &from);
                }
                self.runs
                    .insert(run.run_id.clone(), (ns.clone(), name.clone()));
            }
            _ => {}
        }
    }

    fn job(&mut self, ns: &str, name: &str, facets: &Map<String, Value>, from: &str) {
        self.namespaces.insert(ns.to_owned());
        let row = self
            .jobs
            .entry((ns.to_owned(), name.to_owned()))
            .or_default();
        if !facets.is_empty() {
            keep_latest(
                row,
                Sourced {
                    from: from.to_owned(),
                    value: facets_json(facets),
                },
            );
        }
    }

    fn dataset(&mut self, d: &DatasetPart, from: &str) {
        self.namespaces.insert(d.namespace.clone());
        let row = self
            .datasets
            .entry((d.namespace.clone(), d.name.clone()))
            .or_default();
        if !d.facets.is_empty() {
            keep_latest(
                &mut row.facets,
                Sourced {
                    from: from.to_owned(),
                    value: facets_json(&d.facets),
                },
            );
        }
        if let Some(fields) = &d.fields {
            keep_latest(
                &mut row.fields,
                Sourced {
                    from: from.to_owned(),
                    value: serde_json::to_string(fields).unwrap_or_else(|_| "[]".into()),
                },
            );
        }
    }

    fn version(&mut self, d: &DatasetPart, version: &str, run_id: Option<&str>, from: &str) {
        let key = ((d.namespace.clone(), d.name.clone()), version.to_owned());
        if self
            .versions
            .get(&key)
            .is_some_and(|v| v.from.as_str() >= from)
        {
            return;
        }
        let row = VersionRow::of(d, run_id, from);
        self.versions.insert(key, row);
    }
}
