//! OpenLineage events and lineage node ids.
//!
//! [`parse_event`] validates a RunEvent, DatasetEvent or JobEvent (OpenLineage 2-0-x) into the
//! normalised form the store keeps, naming the offending field by JSON pointer when it is not
//! valid. [`fold_run`] derives a run's state from the set of its events, so events that arrive
//! twice or out of order give the same result. [`NodeRef`] parses and prints the node ids of
//! the lineage API (`dataset:<namespace>:<name>`, `job:…`, `run:<id>`, …).

use super::FieldError;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Longest namespace or name accepted.
pub const MAX_NAME_LEN: usize = 1024;
/// Most inputs or outputs in one event.
pub const MAX_DATASETS: usize = 1000;

/// A run event's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunEventType {
    /// The run started.
    Start,
    /// Progress while running.
    Running,
    /// Finished successfully.
    Complete,
    /// Stopped before finishing.
    Abort,
    /// Failed.
    Fail,
    /// Anything else (also an absent `eventType`).
    Other,
}

impl RunEventType {
    /// All types, as spelled on the wire.
    pub const ALL: [RunEventType; 6] = [
        RunEventType::Start,
        RunEventType::Running,
        RunEventType::Complete,
        RunEventType::Abort,
        RunEventType::Fail,
        RunEventType::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunEventType::Start => "START",
            RunEventType::Running => "RUNNING",
            RunEventType::Complete => "COMPLETE",
            RunEventType::Abort => "ABORT",
            RunEventType::Fail => "FAIL",
            RunEventType::Other => "OTHER",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<RunEventType> {
        RunEventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the run has ended with this event.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunEventType::Complete | RunEventType::Abort | RunEventType::Fail
        )
    }
}

/// What an event describes.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// A RunEvent of this type.
    Run(RunEventType),
    /// A DatasetEvent (static dataset metadata).
    Dataset,
    /// A JobEvent (static job metadata, with its declared inputs and outputs).
    Job,
}

impl EventKind {
    /// `run`, `dataset` or `job`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Run(_) => "run",
            EventKind::Dataset => "dataset",
            EventKind::Job => "job",
        }
    }
}

/// A schema field (nested fields flattened with dotted names).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SchemaField {
    /// Name, `parent.child` for nested fields.
    pub name: String,
    /// Type as the producer spelled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One input field of a column-lineage mapping.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ColumnSource {
    /// Output field.
    pub field: String,
    /// Input dataset namespace.
    pub namespace: String,
    /// Input dataset name.
    pub name: String,
    /// Input field.
    pub input_field: String,
}

/// A dataset as an event mentions it.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetPart {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// All facets (dataset facets plus input or output facets), verbatim.
    pub facets: Map<String, Value>,
    /// Fields of the `schema` facet, if it is there.
    pub fields: Option<Vec<SchemaField>>,
    /// The `version` facet's `datasetVersion`.
    pub version: Option<String>,
    /// The `columnLineage` facet's mappings.
    pub column_lineage: Vec<ColumnSource>,
}

/// The run part of a RunEvent.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPart {
    /// Lower-case UUID.
    pub run_id: String,
    /// Run facets, verbatim.
    pub facets: Map<String, Value>,
    /// `parent` facet: parent run id, job namespace and name.
    pub parent: Option<(String, String, String)>,
    /// `errorMessage` facet's message.
    pub error_message: Option<String>,
    /// `nominalTime` facet: start and end.
    pub nominal: Option<(String, Option<String>)>,
    /// The MLflow run this run trained: the `mlflow` run facet's `runId` (Gatehouse convention).
    pub mlflow_run_id: Option<String>,
}

/// A validated event.
#[derive(Clone, Debug, PartialEq)]
pub struct LineageEvent {
    /// What it describes.
    pub kind: EventKind,
    /// Event time, normalised to UTC (`YYYY-MM-DDTHH:MM:SS.ffffffZ`).
    pub event_time: String,
    /// Producer URI.
    pub producer: String,
    /// Run (RunEvents only).
    pub run: Option<RunPart>,
    /// Job namespace, name and facets (RunEvents and JobEvents).
    pub job: Option<(String, String, Map<String, Value>)>,
    /// Inputs (RunEvents and JobEvents).
    pub inputs: Vec<DatasetPart>,
    /// Outputs (RunEvents and JobEvents).
    pub outputs: Vec<DatasetPart>,
    /// The dataset of a DatasetEvent.
    pub dataset: Option<DatasetPart>,
}

/// `pointer` (a JSON pointer such as `/run/runId`) breaks the rule `message`.
fn err(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError::new(pointer, message)
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, FieldError> {
    v.as_object()
        .ok_or_else(|| err(at, "must be a JSON object"))
}

fn opt_object<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'a Map<String, Value>>, FieldError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => object(v, &format!("{at}/{key}")).map(Some),
    }
}

fn name_field(parent: &Map<String, Value>, key: &str, at: &str) -> Result<String, FieldError> {
    let at = format!("{at}/{key}");
    match parent.get(key) {
        None | Some(Value::Null) => Err(err(at, "is required")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(err(at, "must not be empty")),
        Some(Value::String(s)) if s.chars().count() > MAX_NAME_LEN => {
            Err(err(at, format!("is longer than {MAX_NAME_LEN} characters")))
        }
        Some(Value::String(s)) => match super::names::check_name(s, MAX_NAME_LEN) {
            Ok(_) => Ok(s.clone()),
            Err(m) => Err(err(at, m)),
        },
        Some(_) => Err(err(at, "must be a string")),
    }
}

fn opt_string(
    parent: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<String>, FieldError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(format!("{at}/{key}"), "must be a string")),
    }
}

/// Parses an RFC 3339 time with an offset into the normalised UTC form.
pub fn normalise_time(s: &str) -> Option<String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(crate::domain::audit_chain::format_ts(t))
}

fn time_field(parent: &Map<String, Value>, key: &str, at: &str) -> Result<String, FieldError> {
    let at = format!("{at}/{key}");
    match parent.get(key) {
        None | Some(Value::Null) => Err(err(at, "is required")),
        Some(Value::String(s)) => normalise_time(s).ok_or_else(|| {
            err(
                at,
                format!("'{s}' is not an ISO 8601 date-time with a time zone offset"),
            )
        }),
        Some(_) => Err(err(at, "must be a string")),
    }
}

/// Whether `s` is a UUID in its canonical 8-4-4-4-12 hex form.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn uuid_field(parent: &Map<String, Value>, key: &str, at: &str) -> Result<String, FieldError> {
    let s = name_field(parent, key, at)?;
    if is_uuid(&s) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(err(format!("{at}/{key}"), format!("'{s}' is not a UUID")))
    }
}

fn facets(
    parent: &Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Map<String, Value>, FieldError> {
    Ok(opt_object(parent, key, at)?.cloned().unwrap_or_default())
}

fn schema_fields(
    list: &[Value],
    prefix: &str,
    at: &str,
    out: &mut Vec<SchemaField>,
) -> Result<(), FieldError> {
    for (i, f) in list.iter().enumerate() {
        let at = format!("{at}/{i}");
        let f = object(f, &at)?;
        let name = name_field(f, "name", &at)?;
        let full = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        out.push(SchemaField {
            name: full.clone(),
            r#type: opt_string(f, "type", &at)?,
            description: opt_string(f, "description", &at)?,
        });
        match f.get("fields") {
            None | Some(Value::Null) => {}
            Some(Value::Array(nested)) => {
                schema_fields(nested, &full, &format!("{at}/fields"), out)?
            }
            Some(_) => return Err(err(format!("{at}/fields"), "must be an array")),
        }
    }
    Ok(())
}

fn dataset(v: &Value, at: &str) -> Result<DatasetPart, FieldError> {
    let d = object(v, at)?;
    let namespace = name_field(d, "namespace", at)?;
    let name = name_field(d, "name", at)?;
    let mut all = facets(d, "facets", at)?;
    for extra in ["inputFacets", "outputFacets"] {
        for (k, v) in facets(d, extra, at)? {
            all.entry(k).or_insert(v);
        }
    }
    let fat = format!("{at}/facets");
    let fields = match all.get("schema") {
        None | Some(Value::Null) => None,
        Some(s) => {
            let s = object(s, &format!("{fat}/schema"))?;
            match s.get("fields") {
                None | Some(Value::Null) => Some(Vec::new()),
                Some(Value::Array(list)) => {
                    let mut out = Vec::new();
                    schema_fields(list, "", &format!("{fat}/schema/fields"), &mut out)?;
                    Some(out)
                }
                Some(_) => return Err(err(format!("{fat}/schema/fields"), "must be an array")),
            }
        }
    };
    let version = match all.get("version") {
        None | Some(Value::Null) => None,
        Some(v) => opt_string(
            object(v, &format!("{fat}/version"))?,
            "datasetVersion",
            &format!("{fat}/version"),
        )?,
    };
    let mut column_lineage = Vec::new();
    if let Some(cl) = all.get("columnLineage").filter(|v| !v.is_null()) {
        let cat = format!("{fat}/columnLineage");
        let cl = object(cl, &cat)?;
        if let Some(fields) = opt_object(cl, "fields", &cat)? {
            for (field, mapping) in fields {
                let mat = format!("{cat}/fields/{}", pointer_escape(field));
                let mapping = object(mapping, &mat)?;
                match mapping.get("inputFields") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(inputs)) => {
                        for (i, input) in inputs.iter().enumerate() {
                            let iat = format!("{mat}/inputFields/{i}");
                            let input = object(input, &iat)?;
                            column_lineage.push(ColumnSource {
                                field: field.clone(),
                                namespace: name_field(input, "namespace", &iat)?,
                                name: name_field(input, "name", &iat)?,
                                input_field: name_field(input, "field", &iat)?,
                            });
                        }
                    }
                    Some(_) => return Err(err(format!("{mat}/inputFields"), "must be an array")),
                }
            }
        }
    }
    column_lineage.sort();
    column_lineage.dedup();
    Ok(DatasetPart {
        namespace,
        name,
        facets: all,
        fields,
        version,
        column_lineage,
    })
}

fn datasets(root: &Map<String, Value>, key: &str) -> Result<Vec<DatasetPart>, FieldError> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() > MAX_DATASETS => Err(err(
            format!("/{key}"),
            format!("has more than {MAX_DATASETS} datasets"),
        )),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, d)| dataset(d, &format!("/{key}/{i}")))
            .collect(),
        Some(_) => Err(err(format!("/{key}"), "must be an array")),
    }
}

fn job(root: &Map<String, Value>) -> Result<(String, String, Map<String, Value>), FieldError> {
    let j = root
        .get("job")
        .filter(|v| !v.is_null())
        .ok_or_else(|| err("/job", "is required"))?;
    let j = object(j, "/job")?;
    Ok((
        name_field(j, "namespace", "/job")?,
        name_field(j, "name", "/job")?,
        facets(j, "facets", "/job")?,
    ))
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn run_part(root: &Map<String, Value>) -> Result<RunPart, FieldError> {
    let r = object(root.get("run").unwrap_or(&Value::Null), "/run")?;
    let run_id = uuid_field(r, "runId", "/run")?;
    let facets = facets(r, "facets", "/run")?;
    let fat = "/run/facets";
    let parent = match opt_object(&facets, "parent", fat)? {
        None => None,
        Some(p) => {
            let at = format!("{fat}/parent");
            let pr = object(p.get("run").unwrap_or(&Value::Null), &format!("{at}/run"))?;
            let pj = object(p.get("job").unwrap_or(&Value::Null), &format!("{at}/job"))?;
            Some((
                uuid_field(pr, "runId", &format!("{at}/run"))?,
                name_field(pj, "namespace", &format!("{at}/job"))?,
                name_field(pj, "name", &format!("{at}/job"))?,
            ))
        }
    };
    let error_message = match opt_object(&facets, "errorMessage", fat)? {
        None => None,
        Some(e) => Some(name_field(e, "message", &format!("{fat}/errorMessage"))?),
    };
    let nominal = match opt_object(&facets, "nominalTime", fat)? {
        None => None,
        Some(n) => {
            let at = format!("{fat}/nominalTime");
            let start = time_field(n, "nominalStartTime", &at)?;
            let end = match n.get("nominalEndTime") {
                None | Some(Value::Null) => None,
                Some(_) => Some(time_field(n, "nominalEndTime", &at)?),
            };
            Some((start, end))
        }
    };
    let mlflow_run_id = match opt_object(&facets, "mlflow", fat)? {
        None => None,
        Some(m) => {
            let id = name_field(m, "runId", &format!("{fat}/mlflow"))?;
            if id.len() != 32 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(err(
                    format!("{fat}/mlflow/runId"),
                    format!("'{id}' is not an MLflow run id (32 hex digits)"),
                ));
            }
            Some(id.to_ascii_lowercase())
        }
    };
    Ok(RunPart {
        run_id,
        facets,
        parent,
        error_message,
        nominal,
        mlflow_run_id,
    })
}

/// Validates an OpenLineage event. RunEvents have `run`; DatasetEvents have `dataset`;
/// JobEvents have `job` and neither of the others.
pub fn parse_event(v: &Value) -> Result<LineageEvent, FieldError> {
    let root = object(v, "")?;
    let event_time = time_field(root, "eventTime", "")?;
    let producer = name_field(root, "producer", "")?;
    if root.get("run").is_some_and(|r| !r.is_null()) {
        let event_type = match root.get("eventType") {
            None | Some(Value::Null) => RunEventType::Other,
            Some(Value::String(s)) => RunEventType::parse(s).ok_or_else(|| {
                err(
                    "/eventType",
                    format!("'{s}' is not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"),
                )
            })?,
            Some(_) => return Err(err("/eventType", "must be a string")),
        };
        let run = run_part(root)?;
        return Ok(LineageEvent {
            kind: EventKind::Run(event_type),
            event_time,
            producer,
            job: Some(job(root)?),
            inputs: datasets(root, "inputs")?,
            outputs: datasets(root, "outputs")?,
            run: Some(run),
            dataset: None,
        });
    }
    if root.get("dataset").is_some_and(|d| !d.is_null()) {
        return Ok(LineageEvent {
            kind: EventKind::Dataset,
            event_time,
            producer,
            run: None,
            job: None,
            inputs: Vec::new(),
            outputs: Vec::new(),
            dataset: Some(dataset(&root["dataset"], "/dataset")?),
        });
    }
    if root.get("job").is_some_and(|j| !j.is_null()) {
        return Ok(LineageEvent {
            kind: EventKind::Job,
            event_time,
            producer,
            run: None,
            job: Some(job(root)?),
            inputs: datasets(root, "inputs")?,
            outputs: datasets(root, "outputs")?,
            dataset: None,
        });
    }
    Err(err(
        "/run",
        "is required (a RunEvent needs run and job, a DatasetEvent dataset, a JobEvent job)",
    ))
}

impl LineageEvent {
    /// What makes two deliveries the same event: run id, event type and event time for
    /// RunEvents; namespace, name and event time for the static events.
    pub fn dedup_key(&self) -> String {
        match (&self.kind, &self.run, &self.dataset, &self.job) {
            (EventKind::Run(t), Some(r), _, _) => {
                format!("run:{}:{}:{}", r.run_id, t.as_str(), self.event_time)
            }
            (EventKind::Dataset, _, Some(d), _) => {
                format!("dataset:{}:{}:{}", d.namespace, d.name, self.event_time)
            }
            (_, _, _, Some((ns, name, _))) => format!("job:{ns}:{name}:{}", self.event_time),
            _ => format!("other:{}", self.event_time),
        }
    }
}

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
    /// MLflow run id.
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

/// A lineage node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeRef {
    /// `dataset:<namespace>:<name>`.
    Dataset {
        /// Namespace (often a URI with colons of its own).
        namespace: String,
        /// Name.
        name: String,
    },
    /// `job:<namespace>:<name>`.
    Job {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// `run:<id>`: an MLflow training run (32 hex digits) or an OpenLineage run (UUID).
    Run(String),
    /// `model:<name>:<version>` (model registry, step 6).
    ModelVersion {
        /// Registered model name.
        name: String,
        /// Version number.
        version: String,
    },
    /// `deployment:<name>` (step 6).
    Deployment(String),
}

impl NodeRef {
    /// Every reading of a node id. Dataset and job ids are ambiguous when the namespace or
    /// name contains colons (`dataset:postgres://db:5432:analytics.scores`): the readings split
    /// at each colon, the last one first, and the caller keeps the one that exists.
    pub fn parse_candidates(id: &str) -> Result<Vec<NodeRef>, crate::domain::Invalid> {
        let (kind, rest) = id
            .split_once(':')
            .ok_or_else(|| format!("'{id}' is not a node id (expected type:…)"))?;
        if rest.is_empty() {
            return Err(format!("'{id}' names no node").into());
        }
        let splits = || {
            rest.match_indices(':')
                .rev()
                .map(|(i, _)| (&rest[..i], &rest[i + 1..]))
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        };
        let out: Vec<NodeRef> = match kind {
            "dataset" => splits()
                .map(|(ns, name)| NodeRef::Dataset {
                    namespace: ns.into(),
                    name: name.into(),
                })
                .collect(),
            "job" => splits()
                .map(|(ns, name)| NodeRef::Job {
                    namespace: ns.into(),
                    name: name.into(),
                })
                .collect(),
            "run" => vec![NodeRef::Run(rest.to_ascii_lowercase())],
            "model" => splits()
                .take(1)
                .map(|(name, version)| NodeRef::ModelVersion {
                    name: name.into(),
                    version: version.into(),
                })
                .collect(),
            "deployment" => vec![NodeRef::Deployment(rest.into())],
            other => {
                return Err(format!(
                    "unknown node type '{other}' (dataset, job, run, model or deployment)"
                )
                .into())
            }
        };
        if out.is_empty() {
            return Err(format!("'{id}' needs a namespace and a name").into());
        }
        Ok(out)
    }

    /// The Marquez node type: `DATASET`, `JOB`, `RUN`, `MODEL_VERSION` or `DEPLOYMENT`.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeRef::Dataset { .. } => "DATASET",
            NodeRef::Job { .. } => "JOB",
            NodeRef::Run(_) => "RUN",
            NodeRef::ModelVersion { .. } => "MODEL_VERSION",
            NodeRef::Deployment(_) => "DEPLOYMENT",
        }
    }
}

impl std::fmt::Display for NodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeRef::Dataset { namespace, name } => write!(f, "dataset:{namespace}:{name}"),
            NodeRef::Job { namespace, name } => write!(f, "job:{namespace}:{name}"),
            NodeRef::Run(id) => write!(f, "run:{id}"),
            NodeRef::ModelVersion { name, version } => write!(f, "model:{name}:{version}"),
            NodeRef::Deployment(name) => write!(f, "deployment:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RUN: &str = "d46e465b-d358-4d32-83d4-df660ff614dd";

    fn run_event(event_type: &str, time: &str) -> Value {
        json!({
            "eventType": event_type,
            "eventTime": time,
            "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
            "run": { "runId": RUN, "facets": {} },
            "job": { "namespace": "etl", "name": "clean_loans" },
            "inputs": [{ "namespace": "postgres://db:5432", "name": "raw.loans",
                "facets": { "schema": { "fields": [{ "name": "id", "type": "INT" },
                    { "name": "addr", "type": "STRUCT", "fields": [{ "name": "zip", "type": "STRING" }] }] } } }],
            "outputs": [],
        })
    }

    fn pointer_of(v: Value) -> String {
        parse_event(&v).unwrap_err().field
    }

    #[test]
    fn a_run_event_is_normalised() {
        let e = parse_event(&run_event("START", "2026-11-27T10:00:00.5+01:00")).unwrap();
        assert_eq!(e.kind, EventKind::Run(RunEventType::Start));
        assert_eq!(e.event_time, "2026-11-27T09:00:00.500000Z");
        assert_eq!(e.run.as_ref().unwrap().run_id, RUN);
        let fields = e.inputs[0].fields.clone().unwrap();
        assert_eq!(
            fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["id", "addr", "addr.zip"]
        );
        assert_eq!(
            e.dedup_key(),
            format!("run:{RUN}:START:2026-11-27T09:00:00.500000Z")
        );
    }

    #[test]
    fn invalid_events_name_the_field() {
        let mut v = run_event("START", "2026-11-27T10:00:00Z");
        v["run"]["runId"] = json!("not-a-uuid");
        assert_eq!(pointer_of(v), "/run/runId");
        let mut v = run_event("START", "2026-11-27T10:00:00Z");
        v["run"].as_object_mut().unwrap().remove("runId");
        assert_eq!(pointer_of(v), "/run/runId");
        assert_eq!(
            pointer_of(run_event("BEGIN", "2026-11-27T10:00:00Z")),
            "/eventType"
        );
        assert_eq!(pointer_of(run_event("START", "yesterday")), "/eventTime");
        assert_eq!(
            pointer_of(run_event("START", "2026-11-27T10:00:00")),
            "/eventTime"
        );
        let mut v = run_event("START", "2026-11-27T10:00:00Z");
        v["inputs"] = json!({ "namespace": "x" });
        assert_eq!(pointer_of(v), "/inputs");
        let mut v = run_event("START", "2026-11-27T10:00:00Z");
        v["inputs"][0]["name"] = json!(7);
        assert_eq!(pointer_of(v), "/inputs/0/name");
        let mut v = run_event("START", "2026-11-27T10:00:00Z");
        v["inputs"][0]["facets"]["schema"]["fields"][1]["fields"][0]["name"] = json!(null);
        assert_eq!(
            pointer_of(v),
            "/inputs/0/facets/schema/fields/1/fields/0/name"
        );
        let mut v = run_event("START", "2026-11-27T10:00:00Z");
        v["job"].as_object_mut().unwrap().remove("namespace");
        assert_eq!(pointer_of(v), "/job/namespace");
        let mut v = run_event("START", "2026-11-27T10:00:00Z");
        v["run"]["facets"]["mlflow"] = json!({ "runId": "abc" });
        assert_eq!(pointer_of(v), "/run/facets/mlflow/runId");
        assert_eq!(
            pointer_of(json!({ "eventTime": "2026-11-27T10:00:00Z", "producer": "p" })),
            "/run"
        );
        assert_eq!(pointer_of(json!([1])), "");
    }

    #[test]
    fn dataset_and_job_events_are_recognised() {
        let d = parse_event(
            &json!({ "eventTime": "2026-11-27T10:00:00Z", "producer": "p",
            "dataset": { "namespace": "s3://bucket", "name": "features/v1",
                "facets": { "version": { "datasetVersion": "v1" } } } }),
        )
        .unwrap();
        assert_eq!(d.kind, EventKind::Dataset);
        assert_eq!(d.dataset.unwrap().version.as_deref(), Some("v1"));
        let j = parse_event(&json!({ "eventTime": "2026-11-27T10:00:00Z", "producer": "p",
            "job": { "namespace": "etl", "name": "score" }, "inputs": [{ "namespace": "a", "name": "b" }] }))
        .unwrap();
        assert_eq!(j.kind, EventKind::Job);
        assert_eq!(j.inputs.len(), 1);
    }

    #[test]
    fn column_lineage_is_read() {
        let mut v = run_event("COMPLETE", "2026-11-27T10:00:00Z");
        v["outputs"] = json!([{ "namespace": "warehouse", "name": "features.loans", "facets": { "columnLineage": { "fields": {
            "zip": { "inputFields": [{ "namespace": "postgres://db:5432", "name": "raw.loans", "field": "addr.zip" }] } } } } }]);
        let e = parse_event(&v).unwrap();
        assert_eq!(
            e.outputs[0].column_lineage,
            vec![ColumnSource {
                field: "zip".into(),
                namespace: "postgres://db:5432".into(),
                name: "raw.loans".into(),
                input_field: "addr.zip".into()
            }]
        );
    }

    #[test]
    fn folding_ignores_order_and_repeats() {
        let start = parse_event(&run_event("START", "2026-11-27T10:00:00Z")).unwrap();
        let mut done = run_event("FAIL", "2026-11-27T10:05:00Z");
        done["run"]["facets"]["errorMessage"] =
            json!({ "message": "disk full", "programmingLanguage": "python" });
        done["outputs"] = json!([{ "namespace": "warehouse", "name": "features.loans" }]);
        let done = parse_event(&done).unwrap();
        let running = parse_event(&run_event("RUNNING", "2026-11-27T10:02:00Z")).unwrap();
        let a = fold_run(&[start.clone(), running.clone(), done.clone()]).unwrap();
        let b = fold_run(&[done.clone(), start.clone(), done.clone(), running]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.state, RunEventType::Fail);
        assert_eq!(a.started_at, "2026-11-27T10:00:00.000000Z");
        assert_eq!(a.ended_at.as_deref(), Some("2026-11-27T10:05:00.000000Z"));
        assert_eq!(a.error_message.as_deref(), Some("disk full"));
        assert_eq!(a.outputs.len(), 1);
        assert_eq!(a.inputs.len(), 1);
        // A late RUNNING after the end does not reopen the run.
        let late = parse_event(&run_event("RUNNING", "2026-11-27T10:09:00Z")).unwrap();
        assert_eq!(
            fold_run(&[start, done, late]).unwrap().state,
            RunEventType::Fail
        );
    }

    #[test]
    fn job_versions_depend_on_the_sets_only() {
        let a: BTreeSet<_> = [("n".to_string(), "a".to_string()), ("n".into(), "b".into())].into();
        let b: BTreeSet<_> = [("n".to_string(), "b".to_string()), ("n".into(), "a".into())].into();
        let none = BTreeSet::new();
        assert_eq!(job_version(&a, &none, None), job_version(&b, &none, None));
        assert_ne!(job_version(&a, &none, None), job_version(&none, &a, None));
        assert_ne!(
            job_version(&a, &none, None),
            job_version(&a, &none, Some("git@x"))
        );
    }

    #[test]
    fn node_ids_with_uri_namespaces_round_trip() {
        let id = "dataset:postgres://db.internal:5432:analytics.ml.scores";
        let c = NodeRef::parse_candidates(id).unwrap();
        assert_eq!(
            c[0],
            NodeRef::Dataset {
                namespace: "postgres://db.internal:5432".into(),
                name: "analytics.ml.scores".into()
            }
        );
        assert_eq!(c[0].to_string(), id);
        assert!(
            c.iter().all(|n| n.to_string() == id),
            "every reading prints back"
        );
        assert_eq!(
            NodeRef::parse_candidates("job:etl:clean").unwrap(),
            vec![NodeRef::Job {
                namespace: "etl".into(),
                name: "clean".into()
            }]
        );
        assert_eq!(
            NodeRef::parse_candidates("run:ABC").unwrap(),
            vec![NodeRef::Run("abc".into())]
        );
        assert!(NodeRef::parse_candidates("dataset:nons").is_err());
        assert!(NodeRef::parse_candidates("table:a:b").is_err());
        assert!(NodeRef::parse_candidates("nothing").is_err());
    }
}
