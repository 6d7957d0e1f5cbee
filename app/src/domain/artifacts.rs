//! Where artifacts live and what a model's bytes are.
//!
//! **Paths.** The MLflow client addresses artifacts by their path under the artifact store,
//! as the `mlflow-artifacts` proxy does: a run's files are under
//! `<experiment_id>/<run_id>/artifacts/…`, a logged model's under
//! `<experiment_id>/models/<model_id>/artifacts/…`. Nothing else is a valid place: every
//! path is parsed into its root (the run or the model) and a relative path whose segments are
//! checked one by one (no empty, `.` or `..` segment, no backslash, no control character), so
//! no request can reach outside the root it names.
//!
//! **Model digest.** When a logged model is finalized its files are frozen and summarised by
//! a manifest, one line per file sorted by path (bytewise, UTF-8):
//!
//! ```text
//! <path relative to the model's artifact root>\t<size in bytes>\t<SHA-256 of the file, lower-case hex>\n
//! ```
//!
//! The model digest is `sha256:` followed by the lower-case hex SHA-256 of that text. Anyone
//! can recompute it from a downloaded folder (`server model-digest DIR`, or in a shell:
//! `find . -type f ! -path ./registered_model_meta | sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r p; do printf '%s\t%s\t%s\n' "$p" "$(stat -c %s "$p")" "$(sha256sum "$p" | cut -d' ' -f1)"; done | sha256sum`).

use crate::domain::Invalid;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The root a stored file belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Root {
    /// A run's artifacts.
    Run {
        /// Its experiment.
        experiment_id: i64,
        /// The run.
        run_id: String,
    },
    /// A logged model's artifacts.
    Model {
        /// Its experiment.
        experiment_id: i64,
        /// The model (`m-` and 32 hex digits).
        model_id: String,
    },
}

impl Root {
    /// The store key of the root folder, without a trailing slash.
    pub fn prefix(&self) -> String {
        match self {
            Root::Run {
                experiment_id,
                run_id,
            } => format!("{experiment_id}/{run_id}/artifacts"),
            Root::Model {
                experiment_id,
                model_id,
            } => format!("{experiment_id}/models/{model_id}/artifacts"),
        }
    }

    /// The `mlflow-artifacts:` URI of the root, as runs and logged models report it.
    pub fn uri(&self) -> String {
        format!("mlflow-artifacts:/{}", self.prefix())
    }
}

/// A path under the artifact store, split into its root and the part below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactPath {
    /// The run or model it belongs to.
    pub root: Root,
    /// The path below the root (`""` for the root itself), `/`-separated.
    pub rel: String,
}

impl ArtifactPath {
    /// The store key.
    pub fn key(&self) -> String {
        if self.rel.is_empty() {
            self.root.prefix()
        } else {
            format!("{}/{}", self.root.prefix(), self.rel)
        }
    }
}

/// Whether `id` is a run id as Gatehouse issues them (32 lower-case hex digits).
pub fn is_run_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `id` is a logged model id (`m-` and 32 lower-case hex digits).
pub fn is_model_id(id: &str) -> bool {
    id.strip_prefix("m-").is_some_and(is_run_id)
}

/// Checks a relative path below a root: `/`-separated segments, none empty, `.` or `..`, no
/// backslash or control character. An empty path is the root itself. A trailing `/` is
/// allowed (folders are listed that way) and dropped.
pub fn check_relative(rel: &str) -> Result<String, Invalid> {
    let trimmed = rel.strip_suffix('/').unwrap_or(rel);
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed.starts_with('/') {
        return Err(format!(
            "`{rel}` is absolute: artifact paths are relative to their run or model"
        )
        .into());
    }
    for seg in trimmed.split('/') {
        match seg {
            "" => return Err(format!("`{rel}` has an empty segment").into()),
            "." | ".." => {
                return Err(format!(
                    "`{rel}` contains `{seg}`: artifact paths may not leave their run or model"
                )
                .into())
            }
            s if s.contains('\\') => return Err(format!("`{rel}` contains a backslash").into()),
            s if s.chars().any(char::is_control) => {
                return Err(format!("`{rel}` contains a control character").into())
            }
            _ => {}
        }
    }
    Ok(trimmed.to_string())
}

/// Parses a path under the artifact store: `<experiment>/<run>/artifacts[/…]` or
/// `<experiment>/models/<model>/artifacts[/…]`.
pub fn parse_store_path(path: &str) -> Result<ArtifactPath, Invalid> {
    let path = path.trim_start_matches('/');
    let mut parts = path.splitn(2, '/');
    let first = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    let experiment_id: i64 = first
        .parse()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            format!("`{path}` does not start with an experiment id: expected <experiment>/<run>/artifacts/… or <experiment>/models/<model>/artifacts/…")
        })?;
    let (root, below) = if let Some(after) = rest.strip_prefix("models/") {
        let (model_id, below) = after.split_once('/').unwrap_or((after, ""));
        if !is_model_id(model_id) {
            return Err(
                format!("`{model_id}` is not a logged model id (m- and 32 hex digits)").into(),
            );
        }
        (
            Root::Model {
                experiment_id,
                model_id: model_id.to_string(),
            },
            below,
        )
    } else {
        let (run_id, below) = rest.split_once('/').unwrap_or((rest, ""));
        if !is_run_id(run_id) {
            return Err(format!(
                "`{run_id}` is not a run id (32 hex digits) or `models/<model id>`"
            )
            .into());
        }
        (
            Root::Run {
                experiment_id,
                run_id: run_id.to_string(),
            },
            below,
        )
    };
    let rel = match below {
        "artifacts" | "artifacts/" => "",
        b => b
            .strip_prefix("artifacts/")
            .ok_or_else(|| format!("`{path}`: files live under {}/…", root.prefix()))?,
    };
    Ok(ArtifactPath {
        rel: check_relative(rel)?,
        root,
    })
}

/// One file of a model, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the model's artifact root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
}

/// The manifest text: one `path\tsize\tsha256\n` line per file, sorted by path (bytewise).
pub fn manifest_text(files: &[FileEntry]) -> String {
    let mut sorted: Vec<&FileEntry> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut out = String::new();
    for f in sorted {
        out.push_str(&f.path);
        out.push('\t');
        out.push_str(&f.size.to_string());
        out.push('\t');
        out.push_str(&f.sha256);
        out.push('\n');
    }
    out
}

/// The model digest: `sha256:` and the hex SHA-256 of the manifest text.
pub fn model_digest(files: &[FileEntry]) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(manifest_text(files).as_bytes()))
    )
}

/// How the files found in the store differ from a manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// Listed but not found.
    pub missing: Vec<String>,
    /// Found but not listed.
    pub extra: Vec<String>,
    /// Found with another size or hash.
    pub changed: Vec<String>,
}

impl Drift {
    /// Whether the store matches the manifest.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.changed.is_empty()
    }

    /// One line naming what differs.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (what, list) in [
            ("changed", &self.changed),
            ("missing", &self.missing),
            ("added", &self.extra),
        ] {
            if !list.is_empty() {
                parts.push(format!("{what}: {}", list.join(", ")));
            }
        }
        parts.join("; ")
    }
}

/// Compares a recorded manifest with the files found now.
pub fn drift(recorded: &[FileEntry], found: &[FileEntry]) -> Drift {
    use std::collections::BTreeMap;
    let rec: BTreeMap<&str, &FileEntry> = recorded.iter().map(|f| (f.path.as_str(), f)).collect();
    let now: BTreeMap<&str, &FileEntry> = found.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut d = Drift::default();
    for (p, f) in &rec {
        match now.get(p) {
            None => d.missing.push(p.to_string()),
            Some(g) if g.size != f.size || g.sha256 != f.sha256 => d.changed.push(p.to_string()),
            Some(_) => {}
        }
    }
    for p in now.keys() {
        if !rec.contains_key(p) {
            d.extra.push(p.to_string());
        }
    }
    d
}

/// The media type an artifact is served with, from its name. Anything that a browser would
/// render as a document (HTML, SVG, XML) is served as plain bytes to download, never inline.
pub fn media_type(path: &str) -> &'static str {
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" | "md" | "py" | "yaml" | "yml" | "toml" | "cfg" | "ini" => {
            "text/plain; charset=utf-8"
        }
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ if path.rsplit('/').next() == Some("MLmodel") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests;
