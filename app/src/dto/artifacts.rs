//! What the artifact browser and the model version page show.

use serde::{Deserialize, Serialize};

/// One stored file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ArtifactFile {
    /// Path below the root it is listed under.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// A logged model a run produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ModelSummary {
    /// `m-…`.
    pub model_id: String,
    /// Its name (`model`).
    pub name: String,
    /// `LOGGED_MODEL_READY`, …
    pub status: String,
    /// Its digest once finalized.
    pub digest: Option<String>,
    /// The registered versions it is, as (name, version).
    pub versions: Vec<(String, i64)>,
}

/// A run's files and the models it logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunArtifacts {
    /// The store key of the run's artifact folder.
    pub root: String,
    /// Every file below it.
    pub files: Vec<ArtifactFile>,
    /// The logged models the run produced.
    pub models: Vec<ModelSummary>,
    /// The preview of the file asked for, if any.
    pub preview: Option<ArtifactPreview>,
}

/// How a file is previewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum PreviewKind {
    /// Shown as text.
    Text,
    /// Shown as a table.
    Csv,
    /// Shown as an image (PNG, JPEG, GIF, WebP only).
    Image,
    /// Not previewed (binaries, HTML, SVG): download only.
    None,
}

/// A preview of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ArtifactPreview {
    /// Path below its root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// How it is shown.
    pub kind: PreviewKind,
    /// The text (for Text), at most the first 64 KiB.
    pub text: String,
    /// The rows (for Csv), at most 50 after the header.
    pub rows: Vec<Vec<String>>,
    /// Cut short.
    pub truncated: bool,
    /// Where to download it.
    pub href: String,
}

/// One input or output column of a model's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SignatureColumn {
    /// Column name (empty for an unnamed tensor).
    pub name: String,
    /// Type (`double`, `long`, `tensor float64 [-1, 4]`, …).
    pub kind: String,
}

/// A model version as its page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ModelVersionPage {
    /// The registry's record of the version.
    pub version: crate::dto::registry::ModelVersion,
    /// Where the version's files are, in words (`logged model m-…`), when Gatehouse stores them.
    pub stored: Option<String>,
    /// The store key of the folder holding them.
    pub prefix: Option<String>,
    /// Its digest once finalized (SHA-256 of the frozen manifest).
    pub digest: Option<String>,
    /// Sealed: frozen files (a finalized model, or a registered run folder).
    pub sealed: bool,
    /// The files with their sizes and hashes.
    pub manifest: Vec<ArtifactFile>,
    /// The latest re-hash: (Unix ms, ok, what differed).
    pub verified: Option<(i64, bool, String)>,
    /// Flavours from `MLmodel`, as (name, loader or detail).
    pub flavors: Vec<(String, String)>,
    /// Python version the model was saved with.
    pub python_version: Option<String>,
    /// Signature inputs.
    pub inputs: Vec<SignatureColumn>,
    /// Signature outputs.
    pub outputs: Vec<SignatureColumn>,
    /// The input example as stored (JSON text), cut at 8 KiB.
    pub input_example: Option<String>,
    /// `requirements.txt`, one per line.
    pub requirements: Vec<String>,
    /// Aliases serving it, with since when (Unix ms).
    pub aliases: Vec<(String, i64)>,
}
