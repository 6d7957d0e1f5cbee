//! Many small statements from one thread, on either database: a lineage ingest batch runs one
//! per row on SQLite and one per table on PostgreSQL, a lineage walk one per level. On SQLite
//! they go straight to a rusqlite connection (about 4 µs each, where sqlx's hop to its worker
//! thread costs more than the statement); on PostgreSQL to one connection of the pool, driven
//! from the thread. A read of one statement ([`query`]) is awaited on PostgreSQL directly.

use super::DriverError;

mod table;
pub use table::{Key, Keys, Pairs, Table};

/// A value bound to a statement.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// An integer.
    Int(i64),
    /// Text, or NULL.
    Text(Option<&'a str>),
}

impl<'a> From<i64> for Arg<'a> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

/// A value read back.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// SQL NULL: no value.
    Null,
    /// An integer.
    Int(i64),
    /// Text (a real number is read as its text; none of these statements reads one).
    Text(String),
}

impl Val {
    /// The integer, if it is one.
    pub fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text, if it is some.
    pub fn text(self) -> Option<String> {
        match self {
            Val::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// A connection that runs statements written for both databases (numbered placeholders).
pub trait Direct {
    /// Runs a statement; returns the rows it changed.
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, DriverError>;

    /// Runs a query; returns every row's values.
    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Vec<Val>>, DriverError>;

    /// Whether the statements run on PostgreSQL (the few that differ: [`Keys`]).
    fn postgres(&self) -> bool;

    /// The first row's values, if any.
    fn row(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<Vec<Val>>, DriverError> {
        Ok(self.rows(sql, args)?.into_iter().next())
    }

    /// The first column of every row, as text (NULLs skipped).
    fn texts(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<String>, DriverError> {
        Ok(self
            .rows(sql, args)?
            .into_iter()
            .filter_map(|r| r.into_iter().next().and_then(Val::text))
            .collect())
    }

    /// The first row's first column as an integer, if there is one.
    fn int(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<i64>, DriverError> {
        Ok(self
            .row(sql, args)?
            .and_then(|r| r.first().and_then(Val::int)))
    }
}

impl Direct for &rusqlite::Connection {
    fn postgres(&self) -> bool {
        false
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, DriverError> {
        let mut stmt = self.prepare_cached(sql)?;
        bind_numbered(&mut stmt, args)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Vec<Val>>, DriverError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.prepare_cached(sql)?;
        bind_numbered(&mut stmt, args)?;
        let width = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(width);
            for i in 0..width {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(v) => Val::Text(v.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Val::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(row);
        }
        Ok(out)
    }
}

/// Binds `$N` to `args[N - 1]`. SQLite numbers `$N` parameters by where they first appear, not
/// by N, so binding by position would give `$5` the fourth value in `… $3, $5, $4 …`.
fn bind_numbered(
    stmt: &mut rusqlite::CachedStatement<'_>,
    args: &[Arg<'_>],
) -> Result<(), DriverError> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(i);
        let arg = args
            .get(n - 1)
            .ok_or(rusqlite::Error::InvalidParameterCount(n, args.len()))?;
        stmt.raw_bind_parameter(i, arg)?;
    }
    Ok(())
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Int(i) => ValueRef::Integer(*i),
            Arg::Text(Some(t)) => ValueRef::Text(t.as_bytes()),
            Arg::Text(None) => ValueRef::Null,
        }))
    }
}

/// One pool connection (or transaction on it) driven from a thread outside the runtime.
pub struct OnPool<'c> {
    /// The connection.
    pub conn: &'c mut super::Conn,
    /// The runtime that drives it.
    pub runtime: &'c tokio::runtime::Handle,
}

/// `args` bound in order, on either driver.
fn bind<'q, DB: sqlx::Database>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    args: &'q [Arg<'q>],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for a in args {
        q = match a {
            Arg::Int(i) => q.bind(*i),
            Arg::Text(t) => q.bind(*t),
        };
    }
    q
}

impl Direct for OnPool<'_> {
    fn postgres(&self) -> bool {
        self.conn.backend_name() == "PostgreSQL"
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, DriverError> {
        let q = bind(sqlx::query(sql), args);
        let done = self.runtime.block_on(q.execute(&mut *self.conn))?;
        Ok(done.rows_affected())
    }

    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Vec<Val>>, DriverError> {
        let q = bind(sqlx::query(sql), args);
        let rows = self.runtime.block_on(q.fetch_all(&mut *self.conn))?;
        // By the column's type: trying one decoding and falling back to another built an
        // error (and its message) for every text value.
        values(&rows, |r, c| {
            use sqlx::{Column, Row};
            let i = c.ordinal();
            Ok(if c.type_info().kind().is_integer() {
                Val::Int(r.try_get::<i64, _>(i)?)
            } else {
                Val::Text(r.try_get::<String, _>(i)?)
            })
        })
    }
}

/// Every row's values, NULL as [`Val::Null`] and any other value as `value` reads it.
fn values<R: sqlx::Row>(
    rows: &[R],
    value: impl Fn(&R, &<R::Database as sqlx::Database>::Column) -> Result<Val, sqlx::Error>,
) -> Result<Vec<Vec<Val>>, DriverError>
where
    usize: sqlx::ColumnIndex<R>,
{
    use sqlx::Column;
    rows.iter()
        .map(|r| {
            r.columns()
                .iter()
                .map(|c| {
                    if r.try_get_raw(c.ordinal())
                        .is_ok_and(|v| sqlx::ValueRef::is_null(&v))
                    {
                        return Ok(Val::Null);
                    }
                    Ok(value(r, c)?)
                })
                .collect::<Result<Vec<Val>, DriverError>>()
        })
        .collect()
}

/// A connection of the native PostgreSQL pool ([`super::native`]) driven from a thread
/// outside the runtime: reads, whose rows it decodes without the `Any` driver's conversion.
pub struct OnPg<'c> {
    /// The connection.
    pub conn: &'c mut sqlx::PgConnection,
    /// The runtime that drives it.
    pub runtime: &'c tokio::runtime::Handle,
}

impl Direct for OnPg<'_> {
    fn postgres(&self) -> bool {
        true
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, DriverError> {
        let q = bind(sqlx::query(sql), args);
        let done = self.runtime.block_on(q.execute(&mut *self.conn))?;
        Ok(done.rows_affected())
    }

    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Vec<Val>>, DriverError> {
        let q = bind(sqlx::query(sql), args);
        pg_values(&self.runtime.block_on(q.fetch_all(&mut *self.conn))?)
    }
}

/// PostgreSQL rows as values: integers as integers, anything else as text (as on `OnPool`);
/// PostgreSQL's driver decodes an integer only at its own width.
fn pg_values(rows: &[sqlx::postgres::PgRow]) -> Result<Vec<Vec<Val>>, DriverError> {
    values(rows, |r, c| {
        use sqlx::{Column, Row, TypeInfo};
        let i = c.ordinal();
        Ok(match c.type_info().name() {
            "INT8" => Val::Int(r.try_get::<i64, _>(i)?),
            "INT4" => Val::Int(r.try_get::<i32, _>(i)?.into()),
            "INT2" => Val::Int(r.try_get::<i16, _>(i)?.into()),
            _ => Val::Text(r.try_get::<String, _>(i)?),
        })
    })
}

/// One read statement, built for the database it runs on (`build` is told whether that is
/// PostgreSQL) with text arguments: for one trip whose rows a caller turns into its answer.
/// On PostgreSQL it is awaited on a connection of the generically planning native pool, with
/// no hop to a blocking thread (that hop and back was most of an inclusion proof's time
/// beside SQLite's); on SQLite it runs as [`read`] does.
pub async fn query(
    pool: &super::Pool,
    build: impl FnOnce(bool) -> (String, Vec<String>) + Send + 'static,
) -> Result<Vec<Vec<Val>>, DriverError> {
    match super::backend(pool) {
        super::Backend::Sqlite => {
            read(pool, move |db| {
                let (sql, args) = build(false);
                let args: Vec<Arg<'_>> = args.iter().map(Arg::from).collect();
                db.rows(&sql, &args)
            })
            .await
        }
        super::Backend::Postgres => {
            let native = super::native::generic(pool)?;
            let (sql, args) = build(true);
            let mut q = sqlx::query::<sqlx::Postgres>(&sql);
            for a in &args {
                q = q.bind(a.as_str());
            }
            pg_values(&q.fetch_all(&native).await?)
        }
    }
}

/// Runs a read of many small statements (a lineage walk) off the runtime, in one trip: on
/// SQLite through the blocking thread's reader ([`super::read_inline`]), on PostgreSQL on one
/// connection of the generically planning native pool ([`super::native::generic`]) driven
/// from the blocking thread.
pub async fn read<T: Send + 'static>(
    pool: &super::Pool,
    f: impl FnOnce(&mut dyn Direct) -> Result<T, DriverError> + Send + 'static,
) -> Result<T, DriverError> {
    let pool = pool.clone();
    let joined = match super::backend(&pool) {
        super::Backend::Sqlite => {
            tokio::task::spawn_blocking(move || {
                let mut out = None;
                super::read_inline(&pool, |db| {
                    out = Some(f(&mut &*db));
                    Ok(())
                })?;
                out.unwrap_or_else(|| Err(lost()))
            })
            .await
        }
        super::Backend::Postgres => {
            let native = super::native::generic(&pool)?;
            let runtime = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                let mut conn = runtime.block_on(native.acquire())?;
                f(&mut OnPg {
                    conn: &mut conn,
                    runtime: &runtime,
                })
            })
            .await
        }
    };
    joined
        .map_err(|e| DriverError::Pool(sqlx::Error::Protocol(format!("read task failed: {e}"))))?
}

fn lost() -> DriverError {
    DriverError::Pool(sqlx::Error::Protocol("the read did not run".into()))
}
