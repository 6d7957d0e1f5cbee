//! PostgreSQL's own driver beside the `Any` pool, for the reads that return many rows.
//!
//! The store speaks through sqlx's `Any` driver so that one query runs on either database. On
//! PostgreSQL that driver converts every row it receives into its own row type, value by value
//! and column description by column description, before a single value is decoded: measured
//! with `perf` on a `runs/search` page of 100 runs (2,700 rows of params, tags and metrics),
//! the conversion was a third of the server's CPU and PostgreSQL was 2.8× SQLite. The hot reads
//! on PostgreSQL therefore take a connection of a native [`PgPool`] to the same database.
//!
//! Reads about many keys at once (a level of a lineage walk, the nodes' data: the statements
//! of [`super::direct::read`]) take a connection of a second native pool whose connections plan
//! statements generically (`plan_cache_mode`): PostgreSQL re-planned them for the keys at hand
//! on every run, 0.4 ms of planning against 0.04 of execution, and the generic plans are the
//! same index probes per key. A page of runs (`run_rows`) keeps custom plans: generically
//! planned it took the runs search from 3.6 to 5.5 ms.
//!
//! The native pools are kept per database URL for the life of the process, open no
//! connection until a read needs one, and close connections left idle (tests open one store
//! per test, and a server's hot reads keep theirs warm).

use super::Pool;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long a native connection may sit unused before the pool closes it.
const IDLE: Duration = Duration::from_secs(30);

/// The native pool of the PostgreSQL database `pool` opens, as large as `pool` (call it only
/// on a PostgreSQL store: an SQLite URL does not parse as PostgreSQL's).
pub fn postgres(pool: &Pool) -> Result<PgPool, sqlx::Error> {
    lazy(pool, false)
}

/// The native pool whose connections plan every statement generically, half as large as
/// `pool` (at least two connections), for the reads of many keys.
pub fn generic(pool: &Pool) -> Result<PgPool, sqlx::Error> {
    lazy(pool, true)
}

fn lazy(pool: &Pool, generic: bool) -> Result<PgPool, sqlx::Error> {
    static POOLS: OnceLock<Mutex<HashMap<(String, bool), PgPool>>> = OnceLock::new();
    let url = pool.connect_options().database_url.to_string();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(native) = pools.get(&(url.clone(), generic)) {
        return Ok(native.clone());
    }
    let mut options = url.parse::<PgConnectOptions>()?;
    let mut size = pool.options().get_max_connections();
    if generic {
        // Without JIT compilation: a generic plan over keys bound as an array is estimated
        // dear enough (ten keys guessed, a third of a table per range) for PostgreSQL to
        // compile it, and a Merkle proof of 0.2 ms took 6.8, 5.4 of them compiling. The
        // native pool of runs pages keeps the server's setting: without JIT its pages
        // measured 60-100% slower.
        options = options.options([("plan_cache_mode", "force_generic_plan"), ("jit", "off")]);
        size = (size / 2).max(2);
    }
    let native = PgPoolOptions::new()
        .max_connections(size)
        .min_connections(0)
        .idle_timeout(IDLE)
        .test_before_acquire(false)
        .before_acquire(super::ping_if_idle)
        .connect_lazy_with(options);
    pools.insert((url, generic), native.clone());
    Ok(native)
}
