//! MLflow's run search grammar: `filter` strings and `order_by` clauses, parsed into a typed
//! form the store turns into SQL.
//!
//! Matches MLflow's `SearchUtils` (mlflow/utils/search_utils.py): clauses joined by `AND`
//! (case-insensitive); identifiers `metrics.`, `params.`, `tags.`, `attributes.` (with the
//! aliases `metric`, `param`, `parameter(s)`, `tag`, `attribute`, `attr`, `run`), keys bare,
//! in backticks or in double quotes; comparators `= != < <= > >= LIKE ILIKE IN NOT IN`;
//! string values in single or double quotes, numbers for metrics and time attributes.

use crate::domain::Invalid;
use serde::{Deserialize, Serialize};

mod lexer;
mod parser;

use lexer::*;
use parser::*;

/// The attributes a search may name besides metrics, params and tags: runs have theirs,
/// logged models theirs; the grammar is the same.
pub trait Attributes: Copy + std::fmt::Debug + PartialEq {
    /// The attribute a name (or one of its aliases) stands for.
    fn parse(name: &str) -> Option<Self>;
    /// Whether it holds a number (milliseconds since the epoch).
    fn is_numeric(self) -> bool;
    /// Whether it is an identifier compared only with `=` and `!=`.
    fn is_id(self) -> bool;
    /// Its canonical name, for messages.
    fn name(self) -> &'static str;
    /// Every canonical name, for messages.
    const ALL_NAMES: &'static str;
}

/// What a clause compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field<A = Attribute> {
    /// The latest value of a metric.
    Metric(String),
    /// A parameter.
    Param(String),
    /// A tag's value (`tags.<key>`).
    Tag(String),
    /// An attribute (of a run, by default).
    Attribute(A),
}

/// Run attributes that can be searched and ordered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Attribute {
    /// `run_id` (alias `run_uuid`).
    RunId,
    /// `run_name`: the run's display name.
    RunName,
    /// `status`: RUNNING, FINISHED, FAILED, KILLED or SCHEDULED.
    Status,
    /// `user_id`: who started the run.
    UserId,
    /// `artifact_uri`: where the run's files are stored.
    ArtifactUri,
    /// `start_time` (alias `created`).
    StartTime,
    /// `end_time`: ms since the epoch, null while running.
    EndTime,
}

impl Attributes for Attribute {
    fn parse(s: &str) -> Option<Attribute> {
        Some(match s {
            "run_id" | "run_uuid" => Attribute::RunId,
            "run_name" => Attribute::RunName,
            "status" => Attribute::Status,
            "user_id" => Attribute::UserId,
            "artifact_uri" => Attribute::ArtifactUri,
            "start_time" | "created" | "Created" => Attribute::StartTime,
            "end_time" => Attribute::EndTime,
            _ => return None,
        })
    }

    fn is_numeric(self) -> bool {
        matches!(self, Attribute::StartTime | Attribute::EndTime)
    }

    fn is_id(self) -> bool {
        self == Attribute::RunId
    }

    fn name(self) -> &'static str {
        match self {
            Attribute::RunId => "run_id",
            other => other.column(),
        }
    }

    const ALL_NAMES: &'static str =
        "run_id, run_name, status, user_id, artifact_uri, start_time, end_time";
}

impl Attribute {
    /// Whether the attribute holds a number (milliseconds since the epoch).
    pub fn is_numeric(self) -> bool {
        <Self as Attributes>::is_numeric(self)
    }

    /// The column in the `runs` table.
    pub fn column(self) -> &'static str {
        match self {
            Attribute::RunId => "run_uuid",
            Attribute::RunName => "run_name",
            Attribute::Status => "status",
            Attribute::UserId => "user_id",
            Attribute::ArtifactUri => "artifact_uri",
            Attribute::StartTime => "start_time",
            Attribute::EndTime => "end_time",
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `LIKE` (case-sensitive, `%` and `_` wildcards)
    Like,
    /// `ILIKE` (case-insensitive)
    ILike,
    /// `IN (…)`: equal to one of a list of strings.
    In,
    /// `NOT IN (…)`: equal to none of a list of strings.
    NotIn,
}

impl Op {
    /// The SQL operator for the simple comparisons.
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::ILike => "ILIKE",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
        }
    }
}

/// The right-hand side of a clause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// A numeric literal, compared with metrics and times.
    Number(f64),
    /// A string.
    Text(String),
    /// A list, for `IN` and `NOT IN`.
    List(Vec<String>),
}

/// One `field op value` clause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clause<A = Attribute> {
    /// Left-hand side.
    pub field: Field<A>,
    /// Operator.
    pub op: Op,
    /// Right-hand side.
    pub value: Value,
}

/// One `order_by` item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBy {
    /// What to sort on.
    pub field: Field,
    /// Ascending (the default) or descending.
    pub ascending: bool,
}

/// How a field is written in a filter, for messages.
pub fn field_name<A: Attributes>(f: &Field<A>) -> String {
    match f {
        Field::Metric(k) => format!("metrics.{k}"),
        Field::Param(k) => format!("params.{k}"),
        Field::Tag(k) => format!("tags.{k}"),
        Field::Attribute(a) => format!("attributes.{}", a.name()),
    }
}

/// Parses a run search's filter string; empty means no filter.
pub fn parse_filter(s: &str) -> Result<Vec<Clause>, Invalid> {
    parse_filter_for::<Attribute>(s)
}

/// Parses a filter string over the attributes `A`; empty means no filter.
pub fn parse_filter_for<A: Attributes>(s: &str) -> Result<Vec<Clause<A>>, Invalid> {
    let mut p = Parser::<A>::new(s)?;
    let mut clauses = Vec::new();
    if p.peek().is_none() {
        return Ok(clauses);
    }
    loop {
        let field = p.field()?;
        let op = p.op()?;
        let value = p.value(op)?;
        let clause = Clause { field, op, value };
        check(&clause)?;
        clauses.push(clause);
        match p.next() {
            None => break,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("and") => continue,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("or") => {
                return Err("OR is not supported: clauses can only be joined with AND".into())
            }
            other => {
                return Err(format!(
                    "expected AND or the end of the filter, found {}",
                    describe(other.as_ref())
                )
                .into())
            }
        }
    }
    Ok(clauses)
}

/// Parses one `order_by` item such as `metrics.rmse DESC` or `attributes.start_time`.
pub fn parse_order_by(s: &str) -> Result<OrderBy, Invalid> {
    let mut p = Parser::<Attribute>::new(s)?;
    let field = p.field()?;
    let ascending = match p.next() {
        None => true,
        Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("asc") => true,
        Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("desc") => false,
        other => {
            return Err(format!(
                "expected ASC or DESC after the key, found {}",
                describe(other.as_ref())
            )
            .into())
        }
    };
    if let Some(t) = p.next() {
        return Err(format!("unexpected {} in order_by `{s}`", describe(Some(&t))).into());
    }
    Ok(OrderBy { field, ascending })
}

/// Turns a SQL `LIKE` pattern (`%`, `_`) into a case-sensitive SQLite `GLOB` pattern.
pub fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests;

/// Whether a larger value of a metric is better, judged by its name: losses, errors and
/// distances are minimised; everything else (accuracy, AUC, F1, …) is maximised.
pub fn higher_is_better(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    ![
        "loss",
        "error",
        "err",
        "rmse",
        "mse",
        "mae",
        "mape",
        "perplexity",
        "latency",
        "distance",
        "regret",
    ]
    .iter()
    .any(|w| {
        m.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|part| part == *w)
            || m.ends_with(w)
    })
}

#[cfg(test)]
mod direction_tests {
    use super::higher_is_better;

    #[test]
    fn losses_are_minimised_scores_maximised() {
        for m in ["val_loss", "log_loss", "rmse", "test/mae", "trainLoss"] {
            assert!(!higher_is_better(m), "{m}");
        }
        for m in ["auc", "accuracy", "f1", "precision", "recall"] {
            assert!(higher_is_better(m), "{m}");
        }
    }
}
