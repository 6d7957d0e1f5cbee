//! The node ids of the lineage API.

/// A lineage node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeRef {
    /// `dataset:<namespace>:<name>`.
    Dataset {
        /// Namespace (often a URI with colons of its own).
        namespace: String,
        /// The dataset's name within its namespace.
        name: String,
    },
    /// `job:<namespace>:<name>`.
    Job {
        /// The job's namespace, usually the scheduler or team.
        namespace: String,
        /// The job's name within its namespace.
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
