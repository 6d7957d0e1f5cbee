//! `runs/search`: the filter and order of `domain::run_search` as SQL, one page of runs in
//! MLflow's JSON from one statement.

mod filters;

use super::run_json::RUN_JSON;
use crate::domain::run_search::{Attribute, Clause, Field, OrderBy};
use crate::store::{Db, Pool};
use filters::{
    cross_join, driving_filter, keyed, push_candidates, push_filter_joins, push_in_candidates,
    push_run_conditions, push_text_cond,
};
use sqlx::QueryBuilder;

/// What a runs search asks for: experiments, lifecycle stages, filter, order and one page.
pub struct RunSearch<'a> {
    /// Experiments to search.
    pub experiment_ids: &'a [i64],
    /// `active`, `deleted` or both.
    pub stages: &'a [&'a str],
    /// Filter clauses, joined by AND.
    pub clauses: &'a [Clause],
    /// Sort keys, before the default (newest first, then run id).
    pub order_by: &'a [OrderBy],
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Where a search reads its sort columns: the page's own columns `o0…`, `start_time` and
/// `run_uuid` (with a prefix: empty over a part's rows, `page.` outside them), or, inside a
/// part, the expressions they are selected from (PostgreSQL's ORDER BY names an output column
/// only on its own, never inside an expression such as `o0 IS NULL`).
#[derive(Clone, Copy)]
enum Columns<'p> {
    Named(&'p str),
    Source,
}

impl Columns<'_> {
    fn key(self, order_by: &[OrderBy], i: usize) -> String {
        match (self, &order_by[i].field) {
            (Columns::Named(prefix), _) => format!("{prefix}o{i}"),
            (Columns::Source, Field::Attribute(a)) => format!("r.{}", a.column()),
            (Columns::Source, _) => format!("j{i}.value"),
        }
    }

    fn run(self, column: &str) -> String {
        match self {
            Columns::Named(prefix) => format!("{prefix}{column}"),
            Columns::Source => format!("r.{column}"),
        }
    }
}

/// Order of a search page (see [`Columns`]).
fn search_order(order_by: &[OrderBy], columns: Columns<'_>) -> String {
    order_terms(order_by, columns, 0)
}

/// [`search_order`] from sort key `from` on (the keys before it already ordered by).
fn order_terms(order_by: &[OrderBy], columns: Columns<'_>, from: usize) -> String {
    let mut out = String::new();
    for (i, o) in order_by.iter().enumerate().skip(from) {
        // Runs without the value sort last in either direction, as in MLflow.
        let dir = if o.ascending { "ASC" } else { "DESC" };
        let key = columns.key(order_by, i);
        out.push_str(&format!("{key} IS NULL, {key} {dir}, "));
    }
    out.push_str(&format!(
        "{} DESC NULLS LAST, {} ASC",
        columns.run("start_time"),
        columns.run("run_uuid")
    ));
    out
}

/// Which runs one part of a search reads when its first sort key is a metric, param or tag.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// Every run (the first sort key is an attribute, or there is none).
    All,
    /// The runs with a value of the first sort key, walked in that key's index order.
    Valued,
    /// The runs without one (missing, or a NaN metric), which sort after the others.
    Unvalued,
}

/// Pushes `SELECT run_uuid, start_time, o0… FROM … ORDER BY … LIMIT … OFFSET …` for a search.
///
/// Sorted by a metric, param or tag, the page is the first rows of two parts: the runs with a
/// value (`valued`), then, only when those do not fill the page, the runs without one, which
/// MLflow sorts last in either direction. Without an equality filter on a metric, param or tag,
/// the valued part walks the key's `(key, value)` index in order, so the top 100 of 100,000
/// runs costs about 100 index steps instead of a sort of all of them; with one, SQLite reads the
/// runs that filter matches from its index and sorts them (see [`push_part`]), and PostgreSQL
/// walks the same order as without one, keeping the runs of the filters' set (see
/// [`push_candidates`]).
fn push_search<'a>(q: &mut QueryBuilder<'a, Db>, pg: bool, search: &RunSearch<'a>) {
    let first_keyed = search
        .order_by
        .first()
        .is_some_and(|o| keyed(&o.field).is_some());
    let candidates = pg && push_candidates(q, search);
    if !first_keyed {
        push_part(q, pg, search, Part::All);
        q.push(" LIMIT ")
            .push_bind(search.limit)
            .push(" OFFSET ")
            .push_bind(search.offset);
        return;
    }
    let rows = search.limit.saturating_add(search.offset);
    q.push(if candidates {
        ", valued AS ("
    } else {
        "WITH valued AS ("
    });
    push_part(q, pg, search, Part::Valued);
    q.push(" LIMIT ").push_bind(rows);
    q.push(") SELECT * FROM (SELECT * FROM valued UNION ALL SELECT * FROM (");
    push_part(q, pg, search, Part::Unvalued);
    q.push(" LIMIT CASE WHEN (SELECT count(*) FROM valued) < ")
        .push_bind(rows)
        .push(" THEN ")
        .push_bind(rows)
        .push(" - (SELECT count(*) FROM valued) ELSE 0 END) AS unvalued) AS parts ORDER BY ")
        .push(search_order(search.order_by, Columns::Named("")))
        .push(" LIMIT ")
        .push_bind(search.limit)
        .push(" OFFSET ")
        .push_bind(search.offset);
}

/// Pushes a part's `FROM`: the driving filter's index, else for the valued part the first sort
/// key's index in order, else the runs.
fn push_from(
    q: &mut QueryBuilder<'_, Db>,
    pg: bool,
    driving: Option<(usize, &str)>,
    part: Part,
    first: Option<(&str, &str)>,
) {
    // PostgreSQL plans from its own statistics, which it keeps current (autovacuum's analyze);
    // its CROSS JOIN takes no ON.
    let cross = cross_join(pg);
    let indexed = |table: &str| {
        if pg {
            String::new()
        } else {
            format!(" INDEXED BY {table}_by_key")
        }
    };
    match (driving, part, first) {
        (Some((n, table)), _, _) => {
            q.push(format!(
                " FROM {table} f{n}{} {cross} runs r ON r.run_uuid = f{n}.run_uuid",
                indexed(table)
            ));
        }
        (None, Part::Valued, Some((table, _))) => {
            q.push(format!(
                " FROM {table} j0{} {cross} runs r ON r.run_uuid = j0.run_uuid",
                indexed(table)
            ));
        }
        _ => {
            q.push(" FROM runs r");
        }
    }
}

/// Pushes one part's `SELECT … ORDER BY …` (without its limit).
///
/// The plan is named (`INDEXED BY` and `CROSS JOIN`, which SQLite never reorders) rather than
/// left to sampled statistics, which misjudged it: the driving filter's index when there is
/// one, else for the valued part the first sort key's index in order. Every other sort key and
/// filter is a join on its `(run, key)` primary key: one seek per run, at most one row.
fn push_part<'a>(q: &mut QueryBuilder<'a, Db>, pg: bool, search: &RunSearch<'a>, part: Part) {
    let order_by = search.order_by;
    // PostgreSQL reads the filters on metrics, params and tags from `candidates`.
    let equality = driving_filter(search.clauses);
    let candidates = pg && equality.is_some();
    let driver = equality.filter(|_| !pg);
    q.push("SELECT r.run_uuid AS run_uuid, r.start_time AS start_time");
    for (i, o) in order_by.iter().enumerate() {
        match &o.field {
            Field::Attribute(a) => q.push(format!(", r.{} AS o{i}", a.column())),
            _ => q.push(format!(", j{i}.value AS o{i}")),
        };
    }
    let first = order_by.first().and_then(|o| keyed(&o.field));
    let driving = driver.and_then(|n| keyed(&search.clauses[n].field).map(|(t, _)| (n, t)));
    push_from(q, pg, driving, part, first);
    push_joins(q, pg, search, part, driver);
    if !candidates {
        push_filter_joins(q, pg, search, driver, "r.run_uuid");
    }
    push_run_conditions(q, pg, search);
    if candidates {
        // Walking a key's index, the filter is on the index's run id, so a run outside the
        // set costs no visit to `runs`.
        let walks_key = part == Part::Valued && first.is_some();
        let run = if walks_key { "j0" } else { "r" };
        push_in_candidates(q, &format!("{run}.run_uuid"));
    }
    if let Some(n) = driver {
        let c = &search.clauses[n];
        if let Some((_, key)) = keyed(&c.field) {
            q.push(format!(" AND f{n}.key = "))
                .push_bind(key)
                .push(" AND");
            push_text_cond(q, pg, &format!("f{n}.value"), c.op, &c.value);
        }
    }
    match (part, first) {
        (Part::Valued, Some((_, key))) => {
            if driver.is_none() {
                q.push(" AND j0.key = ").push_bind(key);
            }
            q.push(" AND j0.value IS NOT NULL");
        }
        (Part::Unvalued, _) => {
            q.push(" AND j0.value IS NULL");
        }
        _ => {}
    }
    q.push(" ORDER BY ");
    match (part, order_by.first()) {
        (Part::Valued, Some(o)) => {
            let dir = if o.ascending { "ASC" } else { "DESC" };
            q.push(format!("j0.value {dir}, "));
            q.push(order_terms(order_by, Columns::Source, 1));
        }
        _ => {
            q.push(search_order(order_by, Columns::Source));
        }
    };
}

/// Pushes the sort keys' joins of a part, each after the tables before it (left joins, so runs
/// without the key stay; the valued part's first key an inner join unless its index drives).
fn push_joins<'a>(
    q: &mut QueryBuilder<'a, Db>,
    pg: bool,
    search: &RunSearch<'a>,
    part: Part,
    driver: Option<usize>,
) {
    for (i, o) in search.order_by.iter().enumerate() {
        let Some((table, key)) = keyed(&o.field) else {
            continue;
        };
        let join = match (i, part, driver) {
            (0, Part::Valued, None) => continue,
            (0, Part::Valued, Some(_)) => cross_join(pg),
            _ => "LEFT JOIN",
        };
        q.push(format!(
            " {join} {table} j{i} ON j{i}.run_uuid = r.run_uuid AND j{i}.key = "
        ))
        .push_bind(key);
    }
}

/// Run ids matching a search, in order, for one page.
pub async fn search_run_ids(
    pool: &Pool,
    search: &RunSearch<'_>,
) -> Result<Vec<String>, sqlx::Error> {
    if search.experiment_ids.is_empty() || search.stages.is_empty() {
        return Ok(Vec::new());
    }
    let pg = crate::store::backend(pool) == crate::store::Backend::Postgres;
    let mut q = QueryBuilder::new("SELECT run_uuid FROM (");
    push_search(&mut q, pg, search);
    q.push(") AS page");
    crate::store::sql::fetch_all_scalar_planned(&mut q, pool).await
}

/// One page of a search as MLflow JSON runs, in order: on SQLite from a single statement
/// (see [`super::RUN_JSON`]), on PostgreSQL the page's ids and then their rows (see
/// [`super::run_rows`]). `runs/search` is the hottest read of the tracking API.
pub async fn search_runs_json(
    pool: &Pool,
    search: &RunSearch<'_>,
) -> Result<Vec<String>, sqlx::Error> {
    if search.experiment_ids.is_empty() || search.stages.is_empty() {
        return Ok(Vec::new());
    }
    if crate::store::backend(pool) == crate::store::Backend::Postgres {
        let ids = search_run_ids(pool, search).await?;
        return super::run_rows::runs_json_rows(pool, &ids).await;
    }
    let mut q = QueryBuilder::new("WITH page AS (");
    push_search(&mut q, false, search);
    q.push(format!(
        ") SELECT {RUN_JSON} FROM page JOIN runs r ON r.run_uuid = page.run_uuid ORDER BY {}",
        search_order(search.order_by, Columns::Named("page."))
    ));
    crate::store::sql::fetch_all_scalar_planned(&mut q, pool).await
}

/// Whether an attribute filter compares text; used to reject `LIKE` on numbers early.
pub fn attribute_is_text(a: Attribute) -> bool {
    !a.is_numeric()
}
