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
    /// A tag.
    Tag(String),
    /// An attribute (of a run, by default).
    Attribute(A),
}

/// Run attributes that can be searched and ordered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Attribute {
    /// `run_id` (alias `run_uuid`).
    RunId,
    /// `run_name`.
    RunName,
    /// `status`.
    Status,
    /// `user_id`.
    UserId,
    /// `artifact_uri`.
    ArtifactUri,
    /// `start_time` (alias `created`).
    StartTime,
    /// `end_time`.
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
    /// `IN (…)`
    In,
    /// `NOT IN (…)`
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
    /// A number.
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

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Backticked(String),
    Number(f64),
    Op(String),
    LParen,
    RParen,
    Comma,
    Dot,
}

#[allow(clippy::too_many_lines, reason = "to be split (issue 16)")]
fn tokenize(s: &str) -> Result<Vec<Tok>, Invalid> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '.' if !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                out.push(Tok::Dot);
                i += 1;
            }
            '\'' | '"' | '`' => {
                let quote = c;
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated {quote}-quoted string").into()),
                        Some('\\') if chars.get(i + 1) == Some(&quote) => {
                            v.push(quote);
                            i += 2;
                        }
                        Some(&ch) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            v.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(if quote == '`' {
                    Tok::Backticked(v)
                } else {
                    Tok::Quoted(v)
                });
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                if matches!(two.as_str(), "!=" | "<=" | ">=" | "==") {
                    out.push(Tok::Op(if two == "==" { "=".into() } else { two }));
                    i += 2;
                } else if c == '!' {
                    return Err("`!` must be followed by `=`".into());
                } else {
                    out.push(Tok::Op(c.to_string()));
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | '-' | '+'))
                {
                    // Stop a trailing sign that starts the next token (none in valid input).
                    if matches!(chars[i], '-' | '+') && !matches!(chars[i - 1], 'e' | 'E') {
                        break;
                    }
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| format!("`{text}` is not a number"))?;
                out.push(Tok::Number(n));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | ':' | '/'))
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character `{other}`").into()),
        }
    }
    Ok(out)
}

struct Parser<A> {
    toks: Vec<Tok>,
    pos: usize,
    attributes: std::marker::PhantomData<A>,
}

impl<A: Attributes> Parser<A> {
    fn new(s: &str) -> Result<Parser<A>, Invalid> {
        Ok(Parser {
            toks: tokenize(s)?,
            pos: 0,
            attributes: std::marker::PhantomData,
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn field(&mut self) -> Result<Field<A>, Invalid> {
        let entity = match self.next() {
            Some(Tok::Ident(w)) => w,
            Some(Tok::Backticked(w)) | Some(Tok::Quoted(w)) => w,
            other => {
                return Err(format!(
                    "expected an identifier such as metrics.rmse, found {}",
                    describe(other.as_ref())
                )
                .into())
            }
        };
        // `metrics.rmse`; a bare word is an attribute (MLflow accepts e.g. `status = 'FINISHED'`
        // only with a prefix, but `order_by` accepts bare attribute names).
        let key = if self.peek() == Some(&Tok::Dot) {
            self.next();
            match self.next() {
                Some(Tok::Ident(k)) | Some(Tok::Backticked(k)) | Some(Tok::Quoted(k)) => Some(k),
                Some(Tok::Number(n)) => Some(n.to_string()),
                other => {
                    return Err(format!(
                        "expected a key after `{entity}.`, found {}",
                        describe(other.as_ref())
                    )
                    .into())
                }
            }
        } else {
            None
        };
        let Some(mut key) = key else {
            return A::parse(&entity)
                .map(Field::Attribute)
                .ok_or_else(|| format!("invalid identifier `{entity}`: use metrics.<key>, params.<key>, tags.<key> or attributes.<name>")).map_err(Invalid::from);
        };
        // Keys may contain dots (`metrics.val.loss`): keep consuming `.part`.
        while self.peek() == Some(&Tok::Dot) {
            self.next();
            match self.next() {
                Some(Tok::Ident(k)) => {
                    key.push('.');
                    key.push_str(&k);
                }
                other => {
                    return Err(
                        format!("unexpected {} in key `{key}`", describe(other.as_ref())).into(),
                    )
                }
            }
        }
        match entity.to_ascii_lowercase().as_str() {
            "metric" | "metrics" => Ok(Field::Metric(key)),
            "param" | "params" | "parameter" | "parameters" => Ok(Field::Param(key)),
            "tag" | "tags" => Ok(Field::Tag(key)),
            "attribute" | "attributes" | "attr" | "run" => A::parse(&key)
                .map(Field::Attribute)
                .ok_or_else(|| {
                    format!(
                        "invalid attribute `{key}`: expected one of {}",
                        A::ALL_NAMES
                    )
                })
                .map_err(Invalid::from),
            other => Err(format!(
                "invalid entity type `{other}`: expected metrics, params, tags or attributes"
            )
            .into()),
        }
    }

    fn op(&mut self) -> Result<Op, Invalid> {
        let t = self.next();
        Ok(match &t {
            Some(Tok::Op(o)) => match o.as_str() {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                _ => return Err(format!("invalid comparator `{o}`").into()),
            },
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("like") => Op::Like,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("ilike") => Op::ILike,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("in") => Op::In,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("not") => {
                if self.keyword("in") {
                    self.next();
                    Op::NotIn
                } else {
                    return Err("expected `IN` after `NOT`".into());
                }
            }
            other => {
                return Err(format!(
                "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN), found {}",
                describe(other.as_ref())
            )
                .into())
            }
        })
    }

    fn value(&mut self, op: Op) -> Result<Value, Invalid> {
        if matches!(op, Op::In | Op::NotIn) {
            if self.next() != Some(Tok::LParen) {
                return Err(format!(
                    "`{}` needs a parenthesised list such as ('a', 'b')",
                    op.sql()
                )
                .into());
            }
            let mut items = Vec::new();
            loop {
                match self.next() {
                    Some(Tok::Quoted(s)) => items.push(s),
                    Some(Tok::Number(n)) => items.push(n.to_string()),
                    other => {
                        return Err(format!(
                            "expected a quoted string in the list, found {}",
                            describe(other.as_ref())
                        )
                        .into())
                    }
                }
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    other => {
                        return Err(format!(
                            "expected `,` or `)` in the list, found {}",
                            describe(other.as_ref())
                        )
                        .into())
                    }
                }
            }
            return Ok(Value::List(items));
        }
        match self.next() {
            Some(Tok::Number(n)) => Ok(Value::Number(n)),
            Some(Tok::Quoted(s)) => Ok(Value::Text(s)),
            other => Err(format!(
                "expected a number or a quoted string, found {}",
                describe(other.as_ref())
            )
            .into()),
        }
    }
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the filter".into(),
        Some(Tok::Ident(w)) => format!("`{w}`"),
        Some(Tok::Quoted(w)) => format!("'{w}'"),
        Some(Tok::Backticked(w)) => format!("`{w}`"),
        Some(Tok::Number(n)) => format!("{n}"),
        Some(Tok::Op(o)) => format!("`{o}`"),
        Some(Tok::LParen) => "`(`".into(),
        Some(Tok::RParen) => "`)`".into(),
        Some(Tok::Comma) => "`,`".into(),
        Some(Tok::Dot) => "`.`".into(),
    }
}

fn check<A: Attributes>(c: &Clause<A>) -> Result<(), Invalid> {
    let numeric = match &c.field {
        Field::Metric(_) => true,
        Field::Attribute(a) => a.is_numeric(),
        Field::Param(_) | Field::Tag(_) => false,
    };
    let ok = match (&c.value, numeric) {
        (Value::Number(_), true) => {
            matches!(c.op, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
        }
        (Value::Text(_), false) => match (&c.field, c.op) {
            (Field::Attribute(a), op) if a.is_id() => matches!(op, Op::Eq | Op::Ne),
            (_, op) => matches!(op, Op::Eq | Op::Ne | Op::Like | Op::ILike),
        },
        (Value::List(_), false) => true,
        (Value::Text(_), true) => {
            return Err(format!("{} needs a number, not a string", field_name(&c.field)).into())
        }
        (Value::Number(_), false) => {
            return Err(format!("{} needs a quoted string value", field_name(&c.field)).into())
        }
        (Value::List(_), true) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "comparator `{}` is not supported for {}",
            c.op.sql(),
            field_name(&c.field)
        )
        .into())
    }
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
mod tests {
    use super::*;

    fn one(s: &str) -> Clause {
        let mut v = parse_filter(s).unwrap();
        assert_eq!(v.len(), 1, "{s}");
        v.remove(0)
    }

    #[test]
    fn parses_each_entity_and_comparator() {
        assert_eq!(
            one("metrics.rmse < 0.5"),
            Clause {
                field: Field::Metric("rmse".into()),
                op: Op::Lt,
                value: Value::Number(0.5)
            }
        );
        assert_eq!(
            one("params.optimizer = 'adam'"),
            Clause {
                field: Field::Param("optimizer".into()),
                op: Op::Eq,
                value: Value::Text("adam".into())
            }
        );
        assert_eq!(
            one("tags.`mlflow.user` LIKE \"al%\""),
            Clause {
                field: Field::Tag("mlflow.user".into()),
                op: Op::Like,
                value: Value::Text("al%".into())
            }
        );
        assert_eq!(
            one("attributes.status IN ('FINISHED', 'FAILED')"),
            Clause {
                field: Field::Attribute(Attribute::Status),
                op: Op::In,
                value: Value::List(vec!["FINISHED".into(), "FAILED".into()])
            }
        );
        assert_eq!(one("attr.start_time >= 1700000000000").op, Op::Ge);
        assert_eq!(one("params.x NOT IN ('1')").op, Op::NotIn);
        assert_eq!(one("tags.t ILIKE '%X%'").op, Op::ILike);
        assert_eq!(
            one("metrics.val.loss <= -1e-3").field,
            Field::Metric("val.loss".into())
        );
    }

    #[test]
    fn clauses_join_with_and_in_any_case() {
        let v = parse_filter("metrics.a > 1 and params.b = '2' AND tags.c != 'x'").unwrap();
        assert_eq!(v.len(), 3);
        assert!(parse_filter("  ").unwrap().is_empty());
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let e = parse_filter("metrics.a > 1 OR metrics.b > 2").unwrap_err();
        assert!(e.contains("OR"), "{e}");
        let e = parse_filter("metrics.a > 'x'").unwrap_err();
        assert!(e.contains("needs a number"), "{e}");
        let e = parse_filter("params.a > '1'").unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        let e = parse_filter("foo.a = '1'").unwrap_err();
        assert!(e.contains("invalid entity"), "{e}");
        let e = parse_filter("params.a = 'unterminated").unwrap_err();
        assert!(e.contains("unterminated"), "{e}");
        let e = parse_filter("attributes.colour = 'x'").unwrap_err();
        assert!(e.contains("invalid attribute"), "{e}");
        let e = parse_filter("metrics.a >").unwrap_err();
        assert!(e.contains("end of the filter"), "{e}");
    }

    #[test]
    fn order_by_items() {
        assert_eq!(
            parse_order_by("metrics.rmse DESC").unwrap(),
            OrderBy {
                field: Field::Metric("rmse".into()),
                ascending: false
            }
        );
        assert_eq!(
            parse_order_by("start_time").unwrap(),
            OrderBy {
                field: Field::Attribute(Attribute::StartTime),
                ascending: true
            }
        );
        assert!(parse_order_by("metrics.rmse sideways").is_err());
    }

    #[test]
    fn like_patterns_become_case_sensitive_globs() {
        assert_eq!(like_to_glob("a%b_c"), "a*b?c");
        assert_eq!(like_to_glob("x*y?[z"), "x[*]y[?][[]z");
    }
}

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
