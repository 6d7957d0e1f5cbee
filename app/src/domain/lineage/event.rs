//! The normalised form of an OpenLineage event, as the store keeps it.

use serde_json::{Map, Value};

/// The state an OpenLineage run event reports (`eventType`).
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
    /// The producer's description of the field, if it gave one.
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
    /// The input dataset's field the output field is derived from.
    pub input_field: String,
}

/// A dataset as an event mentions it.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetPart {
    /// The dataset's namespace, often a URI such as `s3://bucket`.
    pub namespace: String,
    /// The dataset's name within its namespace, such as a path or table.
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
