//! MLflow 3 logged models: their statuses and the search grammar over them.
//!
//! `logged-models/search` takes the same filter grammar as run search (see `run_search`) over
//! the attributes below, plus `metrics.`, `params.` and `tags.`. A logged model has few enough
//! rows per experiment that the filter is evaluated here, in memory, on each candidate.

use crate::domain::run_search::{Attributes, Clause, Field, Op, Value};
use std::collections::HashMap;

/// `LOGGED_MODEL_PENDING`: created, files still being uploaded.
pub const PENDING: &str = "LOGGED_MODEL_PENDING";
/// `LOGGED_MODEL_READY`: finalized; its files are frozen and its digest recorded.
pub const READY: &str = "LOGGED_MODEL_READY";
/// `LOGGED_MODEL_UPLOAD_FAILED`: the client gave up on the upload.
pub const UPLOAD_FAILED: &str = "LOGGED_MODEL_UPLOAD_FAILED";

/// The status named in a request (MLflow's enum name, with or without the prefix).
pub fn parse_status(s: &str) -> Option<&'static str> {
    match s.trim_start_matches("LOGGED_MODEL_") {
        "PENDING" => Some(PENDING),
        "READY" => Some(READY),
        "UPLOAD_FAILED" => Some(UPLOAD_FAILED),
        _ => None,
    }
}

/// The attributes of a logged model a search may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelAttribute {
    /// `model_id`: the `m-<hex>` id.
    ModelId,
    /// `name`: the name the client gave the model.
    Name,
    /// `model_type`: free text such as `agent`.
    ModelType,
    /// `status`: pending, ready or failed upload.
    Status,
    /// `source_run_id`: the run that logged the model.
    SourceRunId,
    /// `creation_timestamp` (alias `creation_time`).
    CreationTimestamp,
    /// `last_updated_timestamp`: ms of the last change.
    LastUpdatedTimestamp,
}

impl Attributes for ModelAttribute {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "model_id" => ModelAttribute::ModelId,
            "name" => ModelAttribute::Name,
            "model_type" => ModelAttribute::ModelType,
            "status" => ModelAttribute::Status,
            "source_run_id" => ModelAttribute::SourceRunId,
            "creation_timestamp" | "creation_time" => ModelAttribute::CreationTimestamp,
            "last_updated_timestamp" => ModelAttribute::LastUpdatedTimestamp,
            _ => return None,
        })
    }

    fn is_numeric(self) -> bool {
        matches!(
            self,
            ModelAttribute::CreationTimestamp | ModelAttribute::LastUpdatedTimestamp
        )
    }

    fn is_id(self) -> bool {
        matches!(self, ModelAttribute::ModelId | ModelAttribute::SourceRunId)
    }

    fn name(self) -> &'static str {
        match self {
            ModelAttribute::ModelId => "model_id",
            ModelAttribute::Name => "name",
            ModelAttribute::ModelType => "model_type",
            ModelAttribute::Status => "status",
            ModelAttribute::SourceRunId => "source_run_id",
            ModelAttribute::CreationTimestamp => "creation_timestamp",
            ModelAttribute::LastUpdatedTimestamp => "last_updated_timestamp",
        }
    }

    const ALL_NAMES: &'static str = "model_id, name, model_type, status, source_run_id, creation_timestamp, last_updated_timestamp";
}

/// What a filter is evaluated against.
#[derive(Clone, Debug, Default)]
pub struct Candidate<'a> {
    /// The `m-<hex>` id.
    pub model_id: &'a str,
    /// The name the client gave the model.
    pub name: &'a str,
    /// The client's free-text type, such as `agent`.
    pub model_type: &'a str,
    /// `status`, as stored (`LOGGED_MODEL_…`).
    pub status: &'a str,
    /// `source_run_id` (empty when none).
    pub source_run_id: &'a str,
    /// Creation time, ms.
    pub creation_timestamp: i64,
    /// Last change, ms.
    pub last_updated_timestamp: i64,
    /// Its tags, key to value.
    pub tags: HashMap<&'a str, &'a str>,
    /// Parameters.
    pub params: HashMap<&'a str, &'a str>,
    /// The latest value of each metric.
    pub metrics: HashMap<&'a str, f64>,
}

/// Whether every clause holds for the candidate.
pub fn matches(clauses: &[Clause<ModelAttribute>], c: &Candidate<'_>) -> bool {
    clauses.iter().all(|cl| holds(cl, c))
}

fn holds(cl: &Clause<ModelAttribute>, c: &Candidate<'_>) -> bool {
    let text = |v: Option<&str>| -> bool {
        let Some(v) = v else { return false };
        match (&cl.value, cl.op) {
            (Value::Text(t), Op::Eq) => v == t,
            (Value::Text(t), Op::Ne) => v != t,
            (Value::Text(t), Op::Like) => like(t, v, false),
            (Value::Text(t), Op::ILike) => like(t, v, true),
            (Value::List(l), Op::In) => l.iter().any(|x| x == v),
            (Value::List(l), Op::NotIn) => !l.iter().any(|x| x == v),
            _ => false,
        }
    };
    let number = |v: Option<f64>| -> bool {
        let (Some(v), Value::Number(n)) = (v, &cl.value) else {
            return false;
        };
        match cl.op {
            Op::Eq => v == *n,
            Op::Ne => v != *n,
            Op::Lt => v < *n,
            Op::Le => v <= *n,
            Op::Gt => v > *n,
            Op::Ge => v >= *n,
            _ => false,
        }
    };
    match &cl.field {
        Field::Metric(k) => number(c.metrics.get(k.as_str()).copied()),
        Field::Param(k) => text(c.params.get(k.as_str()).copied()),
        Field::Tag(k) => text(c.tags.get(k.as_str()).copied()),
        Field::Attribute(a) => match a {
            ModelAttribute::ModelId => text(Some(c.model_id)),
            ModelAttribute::Name => text(Some(c.name)),
            ModelAttribute::ModelType => text(Some(c.model_type)),
            ModelAttribute::Status => {
                // `status = 'READY'` and `status = 'LOGGED_MODEL_READY'` both match.
                let short = c.status.trim_start_matches("LOGGED_MODEL_");
                text(Some(c.status)) || text(Some(short))
            }
            ModelAttribute::SourceRunId => text(Some(c.source_run_id)),
            ModelAttribute::CreationTimestamp => number(Some(c.creation_timestamp as f64)),
            ModelAttribute::LastUpdatedTimestamp => number(Some(c.last_updated_timestamp as f64)),
        },
    }
}

/// SQL `LIKE`: `%` any run of characters, `_` one character.
fn like(pattern: &str, text: &str, fold: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if fold {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (norm(pattern), norm(text));
    // Iterative wildcard match with backtracking to the last `%`.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '_' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '%' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '%' {
        i += 1;
    }
    i == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::run_search::parse_filter_for;

    fn model() -> Candidate<'static> {
        Candidate {
            model_id: "m-0123",
            name: "model",
            model_type: "sklearn",
            status: READY,
            source_run_id: "abc",
            creation_timestamp: 1000,
            last_updated_timestamp: 2000,
            tags: HashMap::from([("team", "risk")]),
            params: HashMap::from([("C", "1.0")]),
            metrics: HashMap::from([("auc", 0.91)]),
        }
    }

    fn check(filter: &str) -> bool {
        let clauses = parse_filter_for::<ModelAttribute>(filter).unwrap();
        matches(&clauses, &model())
    }

    #[test]
    fn the_clients_own_filters_match() {
        assert!(check("name = 'model'"));
        assert!(!check("name = 'other'"));
        assert!(check("source_run_id = 'abc' AND name = 'model'"));
        assert!(check("status = 'READY'"));
        assert!(check("attributes.status = 'LOGGED_MODEL_READY'"));
        assert!(check(
            "metrics.auc > 0.9 and params.C = '1.0' and tags.team LIKE 'ri%'"
        ));
        assert!(!check("metrics.auc > 0.95"));
        assert!(!check("metrics.missing > 0"));
        assert!(check(
            "creation_timestamp >= 1000 AND last_updated_timestamp < 3000"
        ));
        assert!(check("name ILIKE 'MOD_L'"));
        assert!(!check("name LIKE 'MOD%'"));
        assert!(check("model_type IN ('sklearn', 'xgboost')"));
        assert!(check(""));
    }

    #[test]
    fn unknown_attributes_are_named() {
        let err = parse_filter_for::<ModelAttribute>("run_name = 'x'").unwrap_err();
        assert!(err.contains("run_name"), "{err}");
        let err = parse_filter_for::<ModelAttribute>("attributes.bogus = 'x'").unwrap_err();
        assert!(err.contains("model_id, name"), "{err}");
        assert!(parse_filter_for::<ModelAttribute>("model_id LIKE 'm-%'").is_err());
    }

    #[test]
    fn like_handles_wildcards() {
        assert!(like("a%c", "abbbc", false));
        assert!(like("%", "", false));
        assert!(like("a_c", "abc", false));
        assert!(!like("a_c", "abbc", false));
        assert!(like("%b%", "abc", false));
        assert!(!like("A%", "abc", false));
        assert!(like("A%", "abc", true));
    }

    #[test]
    fn statuses_parse_with_or_without_prefix() {
        assert_eq!(parse_status("READY"), Some(READY));
        assert_eq!(
            parse_status("LOGGED_MODEL_UPLOAD_FAILED"),
            Some(UPLOAD_FAILED)
        );
        assert_eq!(parse_status("DONE"), None);
    }
}
