//! Opening the store: an SQLite file or a PostgreSQL database, by URL, and how its pools hand
//! out connections.

use super::Pool;
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;
use std::str::FromStr;
use std::time::Duration;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL names a kind of database this build does not open (or none).
    #[error("{0}")]
    Unsupported(#[source] crate::domain::Invalid),
    /// The database URL does not parse.
    #[error("the database URL does not parse: {0}")]
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

/// Opens the database `url` names: an SQLite file (created if needed, with WAL, foreign keys
/// and a busy timeout) or a PostgreSQL database.
pub async fn connect(url: &str) -> Result<Pool, ConnectError> {
    connect_sized(url, 8).await
}

/// [`connect`] with a pool of at most `max_connections` connections.
pub async fn connect_sized(url: &str, max_connections: u32) -> Result<Pool, ConnectError> {
    use crate::domain::database_url::{parse, DatabaseUrl};
    match parse(url).map_err(ConnectError::Unsupported)? {
        DatabaseUrl::Sqlite(url) => connect_sqlite(&url, max_connections).await,
        DatabaseUrl::Postgres(url) => {
            sqlx::any::install_default_drivers();
            AnyPoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(false)
                .before_acquire(ping_if_idle)
                .connect(&url)
                .await
                .map_err(ConnectError::Open)
        }
    }
}

async fn connect_sqlite(url: &str, max_connections: u32) -> Result<Pool, ConnectError> {
    let opts = SqliteConnectOptions::from_str(url).map_err(ConnectError::Url)?;
    let path =
        std::path::absolute(opts.get_filename()).map_err(|source| ConnectError::Directory {
            path: opts.get_filename().to_owned(),
            source,
        })?;
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|source| ConnectError::Directory {
                path: parent.to_owned(),
                source,
            })?;
        }
    }
    // The pool is opened through sqlx's `Any` driver, which reads the file from a URL: that of
    // the absolute path (a relative one's first folder would be read as the URL's host).
    let url = opts.filename(&path).create_if_missing(true).to_url_lossy();
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        // A connection to a file does not drop: no ping (a trip to its worker thread and back).
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(
                    &mut *conn,
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .await
                .map(|_| ())
            })
        })
        .connect(url.as_str())
        .await
        .map_err(ConnectError::Open)?;
    Ok(pool)
}

/// How long a pooled PostgreSQL connection may sit unused and still be handed out unchecked.
const TRUST_IDLE: Duration = Duration::from_secs(1);

/// Checks a pooled PostgreSQL connection before it is handed out only when it sat idle longer
/// than [`TRUST_IDLE`]: sqlx otherwise pings every connection it hands out, one more round
/// trip before each statement (an inclusion proof's one statement waited for two). A
/// connection used a moment ago is alive; one idle for longer may have been dropped by the
/// server or the network, and is replaced when its ping fails.
pub(crate) fn ping_if_idle<C: sqlx::Connection>(
    conn: &mut C,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if meta.idle_for >= TRUST_IDLE {
            conn.ping().await?;
        }
        Ok(true)
    })
}

/// The SQLite file a pool opened by [`connect`] reads.
pub fn sqlite_file(pool: &Pool) -> Result<std::path::PathBuf, sqlx::Error> {
    let opts = SqliteConnectOptions::from_url(&pool.connect_options().database_url)?;
    Ok(opts.get_filename().to_owned())
}
