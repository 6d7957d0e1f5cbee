//! Many rows bound as one table, so that one statement reads or writes for all of them where
//! one statement per row was a round trip each on PostgreSQL.

use super::{Arg, Direct};

/// Rows of text (or NULL) bound as a table `name(n, cols…)` that a statement's `WITH` clause
/// defines: `n` numbers the rows from 1 in order. SQLite reads the rows from one JSON array;
/// PostgreSQL from one text array per column, whose length its planner estimates as a handful
/// of rows (from a JSON function it assumes a hundred, enough to prefer scanning a table to
/// probing its index once per row). Numbers travel as text: a statement casts them
/// (`CAST(t.id AS BIGINT)` reads the same on both).
pub struct Table {
    /// The `WITH name(n, cols…) AS (…)` clause, ending in a space.
    pub with: String,
    args: Vec<String>,
}

impl Table {
    /// `rows` (each as wide as `cols`) as the table `name` of a statement on a PostgreSQL
    /// database or not, bound from parameter `$first` on (PostgreSQL takes one parameter per
    /// column, SQLite one in all); the statement's other parameters come before `$first`.
    pub fn new<S: AsRef<str>>(
        postgres: bool,
        name: &str,
        cols: &[&str],
        first: usize,
        rows: &[Vec<Option<S>>],
    ) -> Self {
        let names = cols.join(", ");
        if postgres {
            let arrays = (0..cols.len())
                .map(|i| format!("CAST(${} AS text[])", first + i))
                .collect::<Vec<_>>()
                .join(", ");
            let args = (0..cols.len())
                .map(|i| array_literal(rows.iter().map(|r| r.get(i).and_then(Option::as_ref))))
                .collect();
            Table {
                with: format!(
                    "WITH {name}(n, {names}) AS (SELECT n, {names} FROM unnest({arrays}) \
                     WITH ORDINALITY AS u({names}, n)) "
                ),
                args,
            }
        } else {
            let values = (0..cols.len())
                .map(|i| format!("value ->> {i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let json: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| match v {
                            Some(t) => serde_json::Value::from(t.as_ref()),
                            None => serde_json::Value::Null,
                        })
                        .collect()
                })
                .collect();
            Table {
                with: format!(
                    "WITH {name}(n, {names}) AS (SELECT key + 1, {values} FROM json_each(${first})) "
                ),
                args: vec![serde_json::Value::Array(json).to_string()],
            }
        }
    }

    /// The table's arguments, to follow the statement's own.
    pub fn args(&self) -> Vec<Arg<'_>> {
        self.args.iter().map(Arg::from).collect()
    }
}

/// PostgreSQL's array literal: each text quoted with `\` and `"` escaped, NULL bare.
fn array_literal<'a, S: AsRef<str> + 'a>(items: impl Iterator<Item = Option<&'a S>>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            Some(t) => {
                out.push('"');
                for ch in t.as_ref().chars() {
                    if ch == '\\' || ch == '"' {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out.push('"');
            }
            None => out.push_str("NULL"),
        }
    }
    out.push('}');
    out
}

/// Many keys as the table `k(n, c, a, b)` (a [`Table`] from `$1`), for a statement that
/// answers for all of them and takes no other arguments: `c` says which part of the
/// statement a key is for, `a` and `b` are its one or two texts.
pub struct Keys(Table);

/// One key of [`Keys`]: `(c, a, b)`.
pub type Key<'a> = (&'a str, &'a str, Option<&'a str>);

impl Keys {
    /// The keys for a statement on `db`.
    pub fn new(db: &dyn Direct, keys: &[Key<'_>]) -> Self {
        let rows: Vec<Vec<Option<&str>>> = keys
            .iter()
            .map(|(c, a, b)| vec![Some(*c), Some(*a), *b])
            .collect();
        Keys(Table::new(db.postgres(), "k", &["c", "a", "b"], 1, &rows))
    }

    /// The `WITH k(n, c, a, b) AS (…)` clause.
    pub fn with(&self) -> &str {
        &self.0.with
    }

    /// The statement's arguments.
    pub fn args(&self) -> Vec<Arg<'_>> {
        self.0.args()
    }
}

/// Pairs of integers bound as a table `name(a, b)` for a statement's `FROM`: two integer
/// arrays on PostgreSQL (compared to integer columns with no cast per row; the same keys as
/// texts cast in the join measured twice the time), one JSON array of pairs on SQLite.
pub struct Pairs {
    /// The table, to follow `FROM` or `JOIN`.
    pub from: String,
    args: Vec<String>,
}

impl Pairs {
    /// `pairs` as the table `name`, bound from parameter `$first` on (PostgreSQL takes two
    /// parameters, SQLite one).
    pub fn new(postgres: bool, name: &str, first: usize, pairs: &[(i64, i64)]) -> Self {
        let list = |part: fn(&(i64, i64)) -> i64| {
            let items: Vec<String> = pairs.iter().map(|p| part(p).to_string()).collect();
            items.join(",")
        };
        if postgres {
            Pairs {
                from: format!(
                    "unnest(CAST(${first} AS int8[]), CAST(${} AS int8[])) AS {name}(a, b)",
                    first + 1
                ),
                args: vec![
                    format!("{{{}}}", list(|p| p.0)),
                    format!("{{{}}}", list(|p| p.1)),
                ],
            }
        } else {
            let json: Vec<String> = pairs.iter().map(|(a, b)| format!("[{a},{b}]")).collect();
            Pairs {
                from: format!(
                    "(SELECT value ->> 0 AS a, value ->> 1 AS b FROM json_each(${first})) AS {name}"
                ),
                args: vec![format!("[{}]", json.join(","))],
            }
        }
    }

    /// How many parameters the table takes.
    pub fn width(&self) -> usize {
        self.args.len()
    }

    /// The table's arguments, owned (for [`super::query`]).
    pub fn into_args(self) -> Vec<String> {
        self.args
    }
}
