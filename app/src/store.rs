//! All SQL lives under this module: plain async functions over a pool or a connection.

pub mod ab_tests;
pub mod artifacts;
pub mod audit;
pub mod audit_tree;
pub mod fairness;
pub mod home;
pub mod leases;
pub mod lineage;
pub mod logged_models;
pub mod login_limits;
pub mod promotions;
pub mod registry;
pub mod sessions;
pub mod tokens;
pub mod tracking;
pub mod users;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Default database location, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/gatehouse.db";

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL names a kind of database this build does not open (or none).
    #[error("{0}")]
    Unsupported(#[source] crate::domain::Invalid),
    /// The database URL does not parse.
    #[error("the database URL is not a SQLite URL: {0}")]
    Url(#[source] sqlx::Error),
    /// The directory for the database file could not be created.
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite would not open the file.
    #[error("cannot open the database: {0}")]
    Open(#[source] sqlx::Error),
}

/// Opens (creating if needed) the database with WAL, foreign keys and a busy timeout.
pub async fn connect(url: &str) -> Result<SqlitePool, ConnectError> {
    use crate::domain::database_url::{parse, DatabaseUrl};
    let DatabaseUrl::Sqlite(url) = parse(url).map_err(ConnectError::Unsupported)?;
    let opts = SqliteConnectOptions::from_str(&url)
        .map_err(ConnectError::Url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    if let Some(parent) = opts.get_filename().parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|source| ConnectError::Directory {
                path: parent.to_owned(),
                source,
            })?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(opts)
        .await
        .map_err(ConnectError::Open)?;
    Ok(pool)
}

/// Applies pending migrations.
pub async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// A write transaction holding the process's writer turn (see [`begin_write`]).
pub struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    /// Commits, then lets the next writer in.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
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
pub async fn begin_write(pool: &SqlitePool) -> Result<WriteTx, sqlx::Error> {
    let turn = writer_turn().lock_owned().await;
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
pub fn open_own_connection(pool: &SqlitePool) -> Result<rusqlite::Connection, rusqlite::Error> {
    use rusqlite::OpenFlags;
    let path = pool.connect_options().get_filename().to_path_buf();
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
    pool: &SqlitePool,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, rusqlite::Error>,
) -> Result<T, rusqlite::Error> {
    use std::cell::RefCell;
    use std::path::PathBuf;
    thread_local! {
        static READERS: RefCell<Vec<(PathBuf, rusqlite::Connection)>> = const { RefCell::new(Vec::new()) };
    }
    let opts = pool.connect_options();
    let path = opts.get_filename();
    READERS.with(|readers| {
        let mut readers = readers.borrow_mut();
        let at = match readers.iter().position(|(p, _)| p == path) {
            Some(at) => at,
            None => {
                if readers.len() >= INLINE_READERS {
                    readers.remove(0);
                }
                readers.push((path.to_path_buf(), open_reader(path)?));
                readers.len() - 1
            }
        };
        f(&readers[at].1)
    })
}

/// Runs a longer read (many statements, such as a lineage walk) on a blocking thread through
/// that thread's reader (see [`read_inline`]): one trip off the runtime for the whole read.
pub async fn read_blocking<T: Send + 'static>(
    pool: &SqlitePool,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, rusqlite::Error> + Send + 'static,
) -> Result<T, rusqlite::Error> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || read_inline(&pool, f))
        .await
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
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
pub async fn ping(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(pool)
        .await
        .map(|_| ())
}
