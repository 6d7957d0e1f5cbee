//! Fairness reports as their list and page show them.

use serde::{Deserialize, Serialize};

/// A fairness report as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FairnessSummary {
    /// The report's id, as in `/fairness/<id>`.
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FairnessView {
    /// Header.
    pub summary: FairnessSummary,
    /// Column mapping used.
    pub mapping: crate::domain::fairness::Mapping,
    /// The computed per-group rates, disparities and checks.
    pub report: crate::domain::fairness::Report,
    /// Per attribute (and "intersectional"): a bar chart of the policy's first metric (SVG).
    pub charts: Vec<(String, String)>,
    /// The latest report of another version of the same model, for comparison.
    pub previous: Option<FairnessSummary>,
}
