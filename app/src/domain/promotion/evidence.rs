//! The evidence bundle of one model version, and its digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::audit_chain::canonical_json;

/// The linked training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunEvidence {
    /// MLflow run id.
    pub run_id: String,
    /// Who ran it (MLflow `user_id`).
    pub author: String,
    /// End (or start) of the run, Unix ms.
    pub at_ms: i64,
    /// Latest value of each metric.
    pub metrics: BTreeMap<String, f64>,
}

/// A training dataset of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DatasetEvidence {
    /// Dataset name.
    pub name: String,
    /// Content digest, if the client logged one.
    pub digest: Option<String>,
    /// Where it came from.
    pub source: String,
}

/// A version's files: what they are bound to and whether they still are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ArtifactEvidence {
    /// Where they are: `logged model m-…` or `run <id>, folder <path>`.
    pub source: String,
    /// The logged model, when the version is one.
    pub model_id: Option<String>,
    /// `sha256:…` over the manifest.
    pub digest: String,
    /// Number of files.
    pub files: usize,
    /// Their total size.
    pub bytes: u64,
    /// Frozen: a finalized model, or a registered run folder, that no upload can change.
    pub sealed: bool,
    /// The latest re-hash of the stored bytes against the manifest, if any.
    pub verified: Option<ArtifactVerification>,
}

/// The latest re-hash of a version's stored files. Its time is kept beside it, not in the
/// evidence: re-checking intact bytes must not make earlier approvals lapse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ArtifactVerification {
    /// Whether every file was there with its recorded size and hash, and nothing else.
    pub ok: bool,
    /// What differed, when not ok.
    pub detail: String,
}

/// The latest fairness report on the version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FairnessEvidence {
    /// The fairness report's id, for the link to it.
    pub report_id: i64,
    /// `pass` or `fail`.
    pub verdict: String,
    /// Its one-sentence summary.
    pub sentence: String,
    /// Sensitive attributes it covers.
    pub attributes: Vec<String>,
    /// When it was made, Unix ms.
    pub at_ms: i64,
}

/// The latest decision of an A/B test in which the version is a variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AbEvidence {
    /// The A/B test's id, for the link to it.
    pub test_id: i64,
    /// Test name.
    pub name: String,
    /// `ship`, `roll_back` or `extend`.
    pub decision: String,
    /// The verdict sentence at decision time.
    pub sentence: String,
    /// When it was decided, Unix ms.
    pub at_ms: i64,
}

/// Everything a promotion is judged on. Its canonical JSON is what approvals digest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Evidence {
    /// Registered model.
    pub model: String,
    /// Version asked for.
    pub version: i64,
    /// Target alias.
    pub alias: String,
    /// The model's risk tier.
    pub risk_tier: String,
    /// The version the alias serves now, if any.
    pub champion: Option<i64>,
    /// The linked run.
    pub run: Option<RunEvidence>,
    /// Its training datasets.
    pub datasets: Vec<DatasetEvidence>,
    /// The latest fairness report on the version.
    pub fairness: Option<FairnessEvidence>,
    /// The latest A/B decision on the version.
    pub ab_test: Option<AbEvidence>,
    /// The version's files as Gatehouse stores them (absent when they live elsewhere).
    #[serde(default)]
    pub artifact: Option<ArtifactEvidence>,
    /// Scope and version of the policy evaluated.
    pub policy: PolicyRef,
}

/// Which policy text a request was judged by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PolicyRef {
    /// `*`, `tier:…` or `model:…`.
    pub scope: String,
    /// Version within the scope (0: the built-in default).
    pub version: i64,
    /// SHA-256 of the text.
    pub sha256: String,
}

impl Evidence {
    /// The canonical JSON of the bundle.
    pub fn canonical(&self) -> String {
        canonical_json(&serde_json::to_value(self).unwrap_or(serde_json::Value::Null))
    }

    /// SHA-256 (hex) of the canonical JSON.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }
}
