//! All SQL lives under this module: plain async functions over a pool or a connection.

pub mod ab_tests;
pub mod artifacts;
pub mod audit;
pub mod audit_tree;
pub mod direct;
pub mod fairness;
pub mod home;
pub mod leases;
pub mod lineage;
mod locks;
pub mod logged_models;
pub mod login_limits;
pub mod native;
pub mod promotions;
pub mod registry;
pub mod sessions;
pub mod sql;
pub mod sso;
pub mod tokens;
pub mod tracking;
pub mod users;
pub mod webhooks;

mod connect;
pub(crate) use connect::ping_if_idle;
pub use connect::{connect, connect_sized, sqlite_file, ConnectError};
pub use locks::{xact_lock, XactLock};
use sqlx::Transaction;
use std::time::Duration;

/// The database the store speaks to, chosen by `DATABASE_URL` when the store is opened.
pub type Db = sqlx::Any;
/// A pool of connections to the store.
pub type Pool = sqlx::AnyPool;
/// One connection to the store (or a transaction on it).
pub type Conn = sqlx::AnyConnection;

/// The embedded migrations of an SQLite store.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The embedded migrations of a PostgreSQL store: the same tables, versions and names in
/// PostgreSQL's dialect (`BIGINT` keys, `BOOLEAN` flags, PL/pgSQL triggers).
pub static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The kind of database a pool speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, one writer at a time.
    Sqlite,
    /// A PostgreSQL server, shared by any number of Gatehouse servers.
    Postgres,
}

/// The kind of database `pool` was opened on.
pub fn backend(pool: &Pool) -> Backend {
    if pool.connect_options().database_url.scheme() == "sqlite" {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// Default database location, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/gatehouse.db";

/// Applies pending migrations (those of the pool's kind of database).
pub async fn migrate(pool: &Pool) -> Result<(), sqlx::migrate::MigrateError> {
    match backend(pool) {
        Backend::Sqlite => MIGRATOR.run(pool).await,
        Backend::Postgres => PG_MIGRATOR.run(pool).await,
    }
}

/// An error from work that SQLite does on its direct path (rusqlite) and PostgreSQL through
/// the pool.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// From the pool.
    #[error(transparent)]
    Pool(#[from] sqlx::Error),
    /// From SQLite's direct path.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// A write transaction holding the process's writer turn (see [`begin_write`]).
pub struct WriteTx {
    tx: Transaction<'static, Db>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits, then lets the next writer in.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}

/// Starts a write transaction that takes the write lock at once (`BEGIN IMMEDIATE`).
///
/// Writers first queue for their turn in the process. SQLite admits one writer at a time,
/// and a writer that finds the lock taken sleeps in the busy handler with growing back-off.
/// Under concurrent ingestion those sleeps, not the work, set the pace: four clients posting
/// lineage events managed fewer events a second than one. Queueing here hands the lock over
/// as soon as it is free; the busy timeout still covers other processes.
///
/// When the disk fills up (or I/O fails) mid-transaction, SQLite rolls the transaction back
/// itself; sqlx's rollback then finds none, still counts one open, and refuses to begin on that
/// connection again. Such connections are closed here, so writes recover when space returns.
///
/// On PostgreSQL writers run side by side: a plain transaction, with no turn to wait for (the
/// audit chain takes its own lock when it appends, see [`audit::append_all`]).
pub async fn begin_write(pool: &Pool) -> Result<WriteTx, sqlx::Error> {
    if backend(pool) == Backend::Postgres {
        return Ok(WriteTx {
            tx: pool.begin().await?,
            _turn: None,
        });
    }
    let turn = Some(writer_turn().lock_owned().await);
    let mut closed = 0;
    loop {
        match pool.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => return Ok(WriteTx { tx, _turn: turn }),
            Err(sqlx::Error::InvalidSavePointStatement)
                if closed <= pool.options().get_max_connections() =>
            {
                closed += 1;
                tracing::warn!("closing a connection left inside a transaction SQLite rolled back");
                if let Ok(conn) = pool.acquire().await {
                    let _ = conn.close().await;
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// The process's writer turn: whoever holds it may take SQLite's write lock (see
/// [`begin_write`]). A writer on its own connection holds it for each of its transactions.
pub fn writer_turn() -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static TURN: std::sync::OnceLock<std::sync::Arc<tokio::sync::Mutex<()>>> =
        std::sync::OnceLock::new();
    TURN.get_or_init(|| std::sync::Arc::new(tokio::sync::Mutex::new(())))
        .clone()
}

/// A rusqlite connection of its own to the pool's database file, set up as the pool's are
/// (WAL, foreign keys, busy timeout), for a writer that runs on its own thread.
pub fn open_own_connection(pool: &Pool) -> Result<rusqlite::Connection, rusqlite::Error> {
    use rusqlite::OpenFlags;
    let path = sqlite_file(pool).map_err(|e| rusqlite::Error::InvalidPath(e.to_string().into()))?;
    let db = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    db.busy_timeout(Duration::from_secs(5))?;
    db.pragma_update(None, "foreign_keys", "ON")?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    db.set_prepared_statement_cache_capacity(64);
    // A writer committing many small transactions checkpoints less often: pages it rewrites
    // again and again (index roots, the audit chain's tail) are copied back once per 40 MB
    // of log rather than once per 4 MB. Ingest went from 4,200 to 5,000 events/s.
    db.pragma_update(None, "wal_autocheckpoint", 10000)?;
    Ok(db)
}

/// Runs a short read on the calling thread, through a read-only rusqlite connection that the
/// thread keeps for the pool's database file.
///
/// For the point reads every request makes (its token or session, the overview's counts). A
/// query through sqlx travels to the connection's worker thread and back: two thread switches,
/// which cost more than the indexed lookup itself and, under load, were half the server's CPU.
/// WAL readers do not wait for the writer, and each statement reads the latest committed state,
/// so a revoked token or ended session is refused at once. Each thread keeps connections to at
/// most [`INLINE_READERS`] files (tests open many).
pub fn read_inline<T>(
    pool: &Pool,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, rusqlite::Error>,
) -> Result<T, rusqlite::Error> {
    use std::cell::RefCell;
    thread_local! {
        static READERS: RefCell<Vec<(String, rusqlite::Connection)>> = const { RefCell::new(Vec::new()) };
    }
    let opts = pool.connect_options();
    let url = opts.database_url.as_str();
    READERS.with(|readers| {
        let mut readers = readers.borrow_mut();
        let at = match readers.iter().position(|(u, _)| u == url) {
            Some(at) => at,
            None => {
                if readers.len() >= INLINE_READERS {
                    readers.remove(0);
                }
                let path = sqlite_file(pool)
                    .map_err(|e| rusqlite::Error::InvalidPath(e.to_string().into()))?;
                readers.push((url.to_owned(), open_reader(&path)?));
                readers.len() - 1
            }
        };
        f(&readers[at].1)
    })
}

/// How many database files one thread keeps an inline reader for.
pub const INLINE_READERS: usize = 4;

fn open_reader(path: &std::path::Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    use rusqlite::OpenFlags;
    let db = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Readers wait only while another process recovers the log; do not hold a runtime worker
    // for long.
    db.busy_timeout(Duration::from_millis(500))?;
    db.set_prepared_statement_cache_capacity(16);
    Ok(db)
}

/// Whether the database answers (the readiness probe).
pub async fn ping(pool: &Pool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(pool)
        .await
        .map(|_| ())
}

/// A yes/no column as either database keeps it: SQLite as the integer 0 or 1 (it has no
/// boolean type; expressions such as `EXISTS` answer integers too), PostgreSQL as `boolean`.
/// Bound, it is a boolean, which SQLite stores as 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0
    }
}

impl sqlx::Type<Db> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<Db>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <bool as sqlx::Type<Db>>::compatible(ty) || <i64 as sqlx::Type<Db>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Db> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<Db>>::decode(value.clone()) {
            Ok(b) => Ok(Flag(b)),
            Err(_) => <i64 as sqlx::Decode<Db>>::decode(value).map(|i| Flag(i != 0)),
        }
    }
}

/// A number column's value that may be NULL, to bind. sqlx 0.8.6's `Any` driver sends a NULL
/// `f64` to PostgreSQL typed as `real` (4 bytes) where the column is `double precision`, which
/// PostgreSQL refuses ("incorrect binary data format"); a NULL is therefore sent in the type
/// the driver maps to `double precision`. SQLite stores either as NULL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Real(pub Option<f64>);

impl sqlx::Type<Db> for Real {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <f64 as sqlx::Type<Db>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, Db> for Real {
    fn encode_by_ref(
        &self,
        buf: &mut <Db as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self.0 {
            Some(v) => <f64 as sqlx::Encode<Db>>::encode_by_ref(&v, buf),
            None => <Option<f32> as sqlx::Encode<Db>>::encode_by_ref(&None, buf),
        }
    }
}
