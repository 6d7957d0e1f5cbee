//! Data carried between the server and the browser (server-function results).

use crate::domain::audit_chain::ChainBreak;
use crate::domain::roles::Role;
use serde::{Deserialize, Serialize};

pub mod artifacts;
pub mod home;
pub mod registry;

/// A stored audit entry as shown to readers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditRow {
    /// Sequence number.
    pub seq: i64,
    /// UTC timestamp.
    pub ts: String,
    /// Who acted.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// Kind of object.
    pub object_type: String,
    /// Object identifier.
    pub object_id: String,
    /// Canonical JSON details.
    pub details: String,
    /// Previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Result of recomputing the audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct VerifyReport {
    /// True when every entry matched.
    pub ok: bool,
    /// Entries verified before the first break (all of them when `ok`).
    pub verified: i64,
    /// Hash of the last verified entry.
    pub head_hash: String,
    /// Sequence number of the first entry that does not match.
    pub first_bad_seq: Option<i64>,
    /// Why it does not match.
    pub reason: Option<ChainBreak>,
    /// The outcome in words.
    pub message: String,
    /// RFC 6962 Merkle root of the entries verified (hex).
    #[serde(default)]
    pub merkle_root: String,
    /// Signed checkpoints whose root and signature were checked against the entries.
    #[serde(default)]
    pub checkpoints_verified: i64,
    /// The newest signed checkpoint.
    #[serde(default)]
    pub checkpoint: Option<CheckpointView>,
}

/// A signed checkpoint (tree head) of the audit trail, with the key that signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CheckpointView {
    /// Entries covered.
    pub tree_size: i64,
    /// RFC 6962 root (hex).
    pub root_hash: String,
    /// When it was signed.
    pub issued_at: String,
    /// Key id (first 16 hex digits of the SHA-256 of the public key).
    pub key_id: String,
    /// Ed25519 signature (hex) over `gatehouse.audit.checkpoint.v1\n<size>\n<root>\n<issued_at>\n`.
    pub signature: String,
    /// The Ed25519 public key (hex).
    pub public_key: String,
}

/// A user as listed for administrators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// Primary key.
    pub id: i64,
    /// Unique name.
    pub username: String,
    /// Roles held, sorted.
    pub roles: Vec<Role>,
    /// Creation time.
    pub created_at: String,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// An API token as listed for its user and for administrators (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TokenSummary {
    /// Primary key.
    pub id: i64,
    /// Owner's name.
    pub username: String,
    /// Label.
    pub name: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    /// Creation time.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// Last time it authenticated a request.
    pub last_used_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// When it stops working, if it expires.
    pub expires_at: Option<String>,
    /// Whether its user created it (only such tokens may approve, reject or waive).
    pub self_issued: bool,
}

/// A freshly created token: the secret is shown exactly once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// Token id.
    pub id: i64,
    /// The secret.
    pub token: String,
}

/// The signed-in user as the UI needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// Roles held.
    pub roles: Vec<Role>,
}

/// What every page needs to know about the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The signed-in user, if any.
    pub user: Option<UserInfo>,
    /// Whether the server runs with demo data.
    pub demo: bool,
}

/// The demo accounts, published on the sign-in page in demo mode only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccounts {
    /// Shared password of every demo account.
    pub password: String,
    /// User name and role of each account.
    pub accounts: Vec<(String, Role)>,
}

/// A metric value as shown: a number, or one of the non-finite values MLflow allows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum MetricCell {
    /// A finite number.
    Num(f64),
    /// Not a number.
    NaN,
    /// +∞.
    PosInf,
    /// −∞.
    NegInf,
}

impl MetricCell {
    /// Wraps any f64.
    pub fn of(v: f64) -> MetricCell {
        if v.is_nan() {
            MetricCell::NaN
        } else if v == f64::INFINITY {
            MetricCell::PosInf
        } else if v == f64::NEG_INFINITY {
            MetricCell::NegInf
        } else {
            MetricCell::Num(v)
        }
    }

    /// The finite value, if any.
    pub fn finite(self) -> Option<f64> {
        match self {
            MetricCell::Num(v) => Some(v),
            _ => None,
        }
    }

    /// Display text: up to 6 significant decimals, or NaN / ∞.
    pub fn text(self) -> String {
        match self {
            MetricCell::Num(v) => {
                let s = format!("{v:.6}");
                let s = s.trim_end_matches('0').trim_end_matches('.');
                if s.is_empty() || s == "-" {
                    "0".into()
                } else {
                    s.to_string()
                }
            }
            MetricCell::NaN => "NaN".into(),
            MetricCell::PosInf => "∞".into(),
            MetricCell::NegInf => "−∞".into(),
        }
    }
}

/// An experiment as listed on the Runs page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExperimentSummary {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The `mlflow.note.content` tag, if set.
    pub description: Option<String>,
    /// Active runs.
    pub runs: i64,
}

/// One run as a table row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// Run id.
    pub run_id: String,
    /// Display name.
    pub name: String,
    /// Status.
    pub status: String,
    /// Who started it.
    pub user_id: String,
    /// Start (ms since the epoch).
    pub start_time: Option<i64>,
    /// End (ms since the epoch).
    pub end_time: Option<i64>,
    /// Params by key.
    pub params: std::collections::BTreeMap<String, String>,
    /// Latest metric values by key.
    pub metrics: std::collections::BTreeMap<String, MetricCell>,
}

/// A page of an experiment's runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunsPage {
    /// The experiment.
    pub experiment: ExperimentSummary,
    /// Runs on this page.
    pub runs: Vec<RunRow>,
    /// Param keys that appear on the page, sorted.
    pub param_keys: Vec<String>,
    /// Metric keys that appear on the page, sorted.
    pub metric_keys: Vec<String>,
    /// Offset of the next page.
    pub next_offset: Option<i64>,
    /// The experiment's baseline run (id), if one is set.
    pub baseline: Option<String>,
}

/// A dataset input as shown on a run page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetView {
    /// Name.
    pub name: String,
    /// Digest.
    pub digest: String,
    /// Source.
    pub source: String,
    /// Context tag (training, evaluation, …).
    pub context: Option<String>,
}

/// Everything on a run's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    /// Experiment id and name.
    pub experiment: (i64, String),
    /// The run.
    pub run: RunRow,
    /// Tags (system tags included).
    pub tags: Vec<(String, String)>,
    /// Dataset inputs.
    pub inputs: Vec<DatasetView>,
    /// One chart per metric with more than one point.
    pub charts: Vec<Chart>,
    /// The experiment's baseline run (id, name), if one is set.
    pub baseline: Option<(String, String)>,
    /// Whether the viewer may change the baseline.
    pub can_set_baseline: bool,
}

/// One metric across compared runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// Metric key.
    pub key: String,
    /// Whether a larger value is better (false for losses and errors).
    pub higher_is_better: bool,
    /// Per run: latest, minimum and maximum of its history.
    pub cells: Vec<Option<(MetricCell, MetricCell, MetricCell)>>,
    /// Index of the run with the best latest value.
    pub best: Option<usize>,
}

/// The compare page, diff-first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareView {
    /// The runs, in the order asked for.
    pub runs: Vec<RunRow>,
    /// Params whose values differ (or are missing somewhere): key and value per run.
    pub differing: Vec<(String, Vec<Option<String>>)>,
    /// Params equal in every run.
    pub identical: Vec<(String, String)>,
    /// Metrics, with the best run marked.
    pub metrics: Vec<MetricComparison>,
    /// Overlaid histories, one chart per metric.
    pub charts: Vec<Chart>,
    /// Every param key, differing ones first: the choices for the scatter's x axis.
    pub param_keys: Vec<String>,
    /// The metric on the parallel-coordinates chart's last axis.
    pub parallel_metric: Option<String>,
    /// Parallel coordinates over the differing params plus `parallel_metric`.
    pub parallel: Option<Figure>,
    /// The param on the scatter's x axis.
    pub scatter_param: Option<String>,
    /// The metric on the scatter's y axis.
    pub scatter_metric: Option<String>,
    /// One param against one metric.
    pub scatter: Option<Figure>,
    /// Shown runs that are their experiment's baseline.
    pub baselines: Vec<String>,
    /// The first run's experiment baseline (id, name) when it is not shown and there is room.
    pub missing_baseline: Option<(String, String)>,
}

/// A server-rendered chart across runs, with the exact values it draws as a table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Caption.
    pub title: String,
    /// What the chart shows, for screen readers.
    pub description: String,
    /// Server-rendered SVG.
    pub svg: String,
    /// Table header: "Run", then one column per axis.
    pub columns: Vec<String>,
    /// One row per run: its name, then the exact value on each axis ("not set" when absent).
    pub rows: Vec<Vec<String>>,
    /// A remark under the chart, e.g. axes left out.
    pub note: Option<String>,
}

/// A metric-history chart with the exact values behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// Metric key.
    pub key: String,
    /// Server-rendered SVG (downsampled to the chart width).
    pub svg: String,
    /// Series names, in colour order.
    pub series: Vec<String>,
    /// Every step with each series' value there (the last one logged at that step).
    pub rows: Vec<(i64, Vec<Option<MetricCell>>)>,
    /// Whether `rows` stops before the last step.
    pub truncated: bool,
}

/// A node of the drawn lineage graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    /// Node id (`dataset:<ns>:<name>`, `job:…`, `run:…`).
    pub id: String,
    /// `dataset`, `job`, `run`, `model` or `deployment`.
    pub kind: String,
    /// Main label (the name).
    pub label: String,
    /// Second line: namespace, or a run's status.
    pub sublabel: String,
    /// Latest run state of a job, or a training run's status (styles the node).
    pub state: Option<String>,
    /// Neighbours upstream that are not drawn.
    pub hidden_up: usize,
    /// Neighbours downstream that are not drawn.
    pub hidden_down: usize,
    /// Box: left, top, width, height.
    pub rect: (f64, f64, f64, f64),
    /// In the blast radius or on a focused path.
    pub highlighted: bool,
}

/// A drawn edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// SVG path data.
    pub d: String,
    /// Drawn as part of a highlight.
    pub highlighted: bool,
}

/// A node's details for the side panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeDetail {
    /// Node id.
    pub id: String,
    /// Kind, as in [`GraphNode`].
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (empty for runs).
    pub namespace: String,
    /// Schema fields: name, type, description.
    pub fields: Vec<(String, String, String)>,
    /// Versions, newest first: version, created, producing run.
    pub versions: Vec<(String, String, String)>,
    /// Latest runs, newest first: run id, state, started, duration, error.
    pub runs: Vec<(String, String, String, String, String)>,
    /// Facets as pretty JSON.
    pub facets: String,
    /// Training runs linked here (id, name), for the compare page.
    pub training_runs: Vec<(String, String)>,
    /// The selected field and where its values come from (dataset, field), transitively.
    pub column_lineage: Option<(String, Vec<(String, String)>)>,
}

/// The Lineage page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineageView {
    /// Search hits: type, namespace, name, node id.
    pub hits: Vec<(String, String, String, String)>,
    /// The node the graph is centred on.
    pub node: Option<String>,
    /// Drawn nodes.
    pub nodes: Vec<GraphNode>,
    /// Drawn edges.
    pub edges: Vec<GraphEdge>,
    /// Drawing size.
    pub size: (f64, f64),
    /// Depths shown: upstream, downstream.
    pub depth: (usize, usize),
    /// Whether only paths through the selected node are drawn.
    pub focus: bool,
    /// The selected node's details.
    pub detail: Option<NodeDetail>,
    /// The blast radius of the selected node, when asked: (kind, id, label), by kind.
    pub blast: Option<Vec<(String, String, String)>>,
    /// Whether the walk stopped at its node limit.
    pub truncated: bool,
    /// How many datasets and jobs the store holds (for the empty state).
    pub totals: (i64, i64),
}

/// What the lineage explorer is asked for (its URL query).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageQuery {
    /// Search text.
    #[serde(default)]
    pub q: String,
    /// Node the graph is centred on.
    #[serde(default)]
    pub node: String,
    /// Upstream depth (default 2).
    #[serde(default)]
    pub up: Option<usize>,
    /// Downstream depth (default 2).
    #[serde(default)]
    pub down: Option<usize>,
    /// Node whose panel is open (default: `node`).
    #[serde(default)]
    pub selected: String,
    /// Dataset field whose column lineage is shown.
    #[serde(default)]
    pub field: String,
    /// Only the paths through the selected node.
    #[serde(default)]
    pub focus: bool,
    /// List and highlight everything downstream of the selected node.
    #[serde(default)]
    pub blast: bool,
}

/// An A/B test as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbTestSummary {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Owner.
    pub owner: String,
    /// draft, running, stopped or decided.
    pub status: crate::domain::ab_tests::Status,
    /// Current verdict, when there is data to read.
    pub verdict: Option<crate::domain::ab_tests::Decision>,
    /// Its sentence.
    pub sentence: Option<String>,
    /// Days with results.
    pub days: usize,
    /// Units assigned.
    pub users: Option<f64>,
    /// First day.
    pub start_date: Option<String>,
}

/// A recorded decision on an A/B test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionRow {
    /// Id.
    pub id: i64,
    /// ship, roll_back or extend.
    pub decision: String,
    /// Comment.
    pub comment: String,
    /// The verdict at the time.
    pub verdict: String,
    /// Its sentence.
    pub sentence: String,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: String,
}

/// A read-only share link as listed to its test's managers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareLink {
    /// Id.
    pub id: i64,
    /// Creator.
    pub created_by: String,
    /// Created at.
    pub created_at: String,
    /// Expires at.
    pub expires_at: String,
    /// Revoked at.
    pub revoked_at: Option<String>,
}

/// Everything the A/B test page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbTestView {
    /// Id.
    pub id: i64,
    /// Definition.
    pub def: crate::domain::ab_tests::ExperimentDef,
    /// Status.
    pub status: crate::domain::ab_tests::Status,
    /// Creator.
    pub created_by: String,
    /// Created at.
    pub created_at: String,
    /// The analysis (with the correction asked for), if the data can be read.
    pub analysis: Option<crate::domain::ab_tests::Analysis>,
    /// Why there is no analysis.
    pub unavailable: Option<String>,
    /// Days with results.
    pub days: Vec<String>,
    /// Forest plot of every comparison's lift (SVG).
    pub forest_svg: Option<String>,
    /// Cumulative lift of the first goal metric by day (SVG).
    pub cumulative_svg: Option<String>,
    /// Which metric and variant the cumulative chart follows.
    pub cumulative_of: String,
    /// Its values: day, lift, low, high.
    pub cumulative: Vec<(String, f64, f64, f64)>,
    /// Units per day per variant (variants in definition order).
    pub daily_units: Vec<(String, Vec<f64>)>,
    /// Decisions, newest first.
    pub decisions: Vec<DecisionRow>,
    /// Share links (managers only).
    pub shares: Vec<ShareLink>,
    /// The viewer may send results, change status and share.
    pub can_manage: bool,
    /// The viewer may record the decision.
    pub can_decide: bool,
    /// A share link this viewer just created without JavaScript (shown once).
    pub new_share: Option<String>,
}

/// A fairness report as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairnessSummary {
    /// Id.
    pub id: i64,
    /// Model version (`name@version`).
    pub model_version: Option<String>,
    /// Or the run.
    pub run_id: Option<String>,
    /// Evaluation dataset.
    pub dataset: String,
    /// Data rows.
    pub rows: i64,
    /// pass or fail.
    pub verdict: String,
    /// One sentence.
    pub sentence: String,
    /// Uploader.
    pub created_by: String,
    /// When.
    pub created_at: String,
    /// SHA-256 of the file.
    pub file_sha256: String,
}

/// A fairness report's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FairnessView {
    /// Header.
    pub summary: FairnessSummary,
    /// Column mapping used.
    pub mapping: crate::domain::fairness::Mapping,
    /// The report.
    pub report: crate::domain::fairness::Report,
    /// Per attribute (and "intersectional"): a bar chart of the policy's first metric (SVG).
    pub charts: Vec<(String, String)>,
    /// The latest report of another version of the same model, for comparison.
    pub previous: Option<FairnessSummary>,
}
