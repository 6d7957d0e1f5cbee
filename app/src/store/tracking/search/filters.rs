//! The filters of a runs search as SQL: a condition on a column, the driving filter, the joins
//! of the other filters, and on PostgreSQL the set of runs they all match.

use super::RunSearch;
use crate::domain::run_search::{like_to_glob, Clause, Field, Op, Value};
use crate::store::Db;
use sqlx::QueryBuilder;

pub(super) fn push_text_cond<'a>(
    q: &mut QueryBuilder<'a, Db>,
    pg: bool,
    col: &str,
    op: Op,
    value: &'a Value,
) {
    match (op, value) {
        // MLflow's LIKE is case-sensitive: PostgreSQL's is, SQLite's GLOB is.
        (Op::Like, Value::Text(t)) if pg => {
            q.push(format!(" {col} LIKE ")).push_bind(t.as_str());
        }
        (Op::Like, Value::Text(t)) => {
            q.push(format!(" {col} GLOB ")).push_bind(like_to_glob(t));
        }
        (Op::ILike, Value::Text(t)) => {
            q.push(format!(" lower({col}) LIKE lower("))
                .push_bind(t.as_str())
                .push(")");
        }
        (Op::In | Op::NotIn, Value::List(items)) => {
            q.push(format!(" {col} {} (", op.sql()));
            let mut sep = q.separated(", ");
            for i in items {
                sep.push_bind(i.as_str());
            }
            q.push(")");
        }
        (op, Value::Text(t)) => {
            q.push(format!(" {col} {} ", op.sql()))
                .push_bind(t.as_str());
        }
        (op, Value::Number(n)) => {
            q.push(format!(" {col} {} ", op.sql())).push_bind(*n);
        }
        (_, Value::List(_)) => {
            q.push(" FALSE");
        }
    }
}

/// The table and key a metric, param or tag field reads; `None` for attributes.
pub(super) fn keyed(field: &Field) -> Option<(&'static str, &str)> {
    match field {
        Field::Metric(k) => Some(("latest_metrics", k)),
        Field::Param(k) => Some(("params", k)),
        Field::Tag(k) => Some(("run_tags", k)),
        Field::Attribute(_) => None,
    }
}

/// The filter a search reads first: the first equality (`=` or `IN`) on a metric, param or tag,
/// through its `(key, value)` index. Such a filter usually matches few runs; without one, a
/// search sorted by a metric, param or tag walks that key's index in order instead, and stops
/// once the page is full.
pub(super) fn driving_filter(clauses: &[Clause]) -> Option<usize> {
    clauses
        .iter()
        .position(|c| matches!(c.op, Op::Eq | Op::In) && keyed(&c.field).is_some())
}

/// On PostgreSQL, pushes `WITH candidates AS MATERIALIZED (…)`: the runs every filter on a
/// metric, param or tag matches, read from the driving filter's index (which holds the run id,
/// so no table is visited) and joined by key to the others; `false` (nothing pushed) without a
/// driving filter.
///
/// The parts then walk their usual order (the first sort key's index, or the experiment's
/// runs newest first) and keep the runs in this set, a hash probe per run, until the page is
/// full. Left to itself PostgreSQL either sorts every matching run after one index visit per
/// run and per filter (about 30 ms for the 7,700 runs `params.p3 = '7'` matches of 100,000),
/// or walks the sort key's index and visits each filter per run, slow when the filter and the
/// sort key are correlated.
pub(super) fn push_candidates<'a>(q: &mut QueryBuilder<'a, Db>, search: &RunSearch<'a>) -> bool {
    let Some((n, (table, key))) = driving_filter(search.clauses)
        .and_then(|n| keyed(&search.clauses[n].field).map(|k| (n, k)))
    else {
        return false;
    };
    q.push(format!(
        "WITH candidates AS MATERIALIZED (SELECT f{n}.run_uuid FROM {table} f{n}"
    ));
    push_filter_joins(q, true, search, Some(n), &format!("f{n}.run_uuid"));
    q.push(format!(" WHERE f{n}.key = "))
        .push_bind(key)
        .push(" AND");
    let c = &search.clauses[n];
    push_text_cond(q, true, &format!("f{n}.value"), c.op, &c.value);
    q.push(")");
    true
}

/// Pushes a join for each filter on a metric, param or tag but the driving one, on the run
/// column `run` (`CROSS JOIN`: the plan stays as written).
pub(super) fn push_filter_joins<'a>(
    q: &mut QueryBuilder<'a, Db>,
    pg: bool,
    search: &RunSearch<'a>,
    driver: Option<usize>,
    run: &str,
) {
    for (n, c) in search.clauses.iter().enumerate() {
        let Some((table, key)) = keyed(&c.field) else {
            continue;
        };
        if Some(n) == driver {
            continue;
        }
        q.push(format!(
            " {} {table} f{n} ON f{n}.run_uuid = {run} AND f{n}.key = ",
            cross_join(pg)
        ))
        .push_bind(key)
        .push(" AND");
        push_text_cond(q, pg, &format!("f{n}.value"), c.op, &c.value);
    }
}

/// An inner join that keeps the order written: SQLite's `CROSS JOIN` (which SQLite never
/// reorders); PostgreSQL's plain `JOIN` (its `CROSS JOIN` takes no `ON`).
pub(super) fn cross_join(pg: bool) -> &'static str {
    if pg {
        "JOIN"
    } else {
        "CROSS JOIN"
    }
}

/// Pushes the `WHERE` of a part: the experiments, the lifecycle stages and the filters on
/// attributes (those on metrics, params and tags are joins).
pub(super) fn push_run_conditions<'a>(
    q: &mut QueryBuilder<'a, Db>,
    pg: bool,
    search: &RunSearch<'a>,
) {
    q.push(" WHERE r.experiment_id IN (");
    {
        let mut sep = q.separated(", ");
        for id in search.experiment_ids {
            sep.push_bind(*id);
        }
    }
    q.push(") AND r.lifecycle_stage IN (");
    {
        let mut sep = q.separated(", ");
        for s in search.stages {
            sep.push_bind(s.to_string());
        }
    }
    q.push(")");
    for c in search.clauses {
        if let Field::Attribute(a) = &c.field {
            q.push(" AND");
            push_text_cond(q, pg, &format!("r.{}", a.column()), c.op, &c.value);
        }
    }
}

/// Pushes `AND` the run id `run` is in `candidates` (see [`push_candidates`]). `IS TRUE` keeps
/// the set a hashed filter: as a plain `IN`, PostgreSQL would make it a join and give up
/// walking the sort order.
pub(super) fn push_in_candidates(q: &mut QueryBuilder<'_, Db>, run: &str) {
    q.push(format!(
        " AND ({run} IN (SELECT run_uuid FROM candidates)) IS TRUE"
    ));
}
