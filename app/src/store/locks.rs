//! Locks that writers on every server of one database take to do some work one at a time.

use super::Conn;

/// A transaction-scoped lock of PostgreSQL's, held until the transaction ends: for work that
/// writers on every server of one database must do one at a time. SQLite's write transaction
/// holds the database's one write lock already, so there it does nothing.
#[derive(Clone, Copy, Debug)]
pub enum XactLock {
    /// Appending to the audit chain (`store::audit`).
    AuditChain,
    /// Storing a batch of lineage events (`service::lineage`).
    LineageWriter,
}

impl XactLock {
    /// The advisory lock key: any fixed number; these spell "GATEAUDT" and "GATELINE".
    fn key(self) -> i64 {
        match self {
            XactLock::AuditChain => 0x4741_5445_4155_4454,
            XactLock::LineageWriter => 0x4741_5445_4c49_4e45,
        }
    }
}

/// Takes `lock` for the rest of `conn`'s transaction (PostgreSQL; nothing on SQLite).
pub async fn xact_lock(conn: &mut Conn, lock: XactLock) -> Result<(), sqlx::Error> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock.key())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
