//! Lineage ingestion: OpenLineage events, checked by the handler, are stored with one audit
//! entry per request by a single writer thread that groups whatever is waiting into one
//! transaction (group commit), so concurrent pipelines share its fixed costs. The explorer's
//! view of what is stored is in [`explorer`].

pub mod explorer;
pub mod graph;

pub use explorer::explore;

use crate::domain::lineage::{EventKind, LineageEvent};
use crate::error::AppError;
use crate::service::auth::Principal;
use crate::store::audit::{self, NewEntry};
use crate::store::lineage;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

/// Most events one write transaction takes.
const MAX_BATCH: usize = 256;

/// An accepted event waiting for the writer.
struct Job {
    event: LineageEvent,
    body: String,
    actor: String,
    done: oneshot::Sender<Result<(), AppError>>,
}

/// The queue to the lineage writer thread.
#[derive(Clone, Debug)]
pub struct LineageWriter {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl LineageWriter {
    /// Starts the writer on a thread of its own (it blocks on SQLite, so not on a runtime
    /// worker), with its own connection to `pool`'s database. If the thread cannot start,
    /// every ingest answers 500 and the log says why.
    pub fn start(pool: &crate::store::Pool) -> LineageWriter {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        let pool = pool.clone();
        let runtime = tokio::runtime::Handle::try_current().ok();
        if let Err(e) = std::thread::Builder::new()
            .name("lineage-writer".into())
            .spawn(move || write_events(&pool, runtime, jobs))
        {
            tracing::error!(error = %e, "could not start the lineage writer; ingest will answer 500");
        }
        LineageWriter { queue }
    }

    /// Stores `event` (its original JSON in `body`) for `p` with its audit entry; answers once
    /// it is committed (an event already stored is a duplicate, audited as one).
    pub async fn ingest(
        &self,
        p: &Principal,
        event: LineageEvent,
        body: String,
    ) -> Result<(), AppError> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            event,
            body,
            actor: p.actor(),
            done,
        };
        self.queue
            .send(job)
            .await
            .map_err(|_| AppError::internal())?;
        answer.await.map_err(|_| AppError::internal())?
    }
}

/// The single writer: takes whatever events are waiting (up to [`MAX_BATCH`]) and stores them
/// with one audit entry per request in one transaction, so concurrent pipelines share the
/// transaction's fixed costs (group commit). If a batch fails, its events are retried one by
/// one so each request gets its own answer. On SQLite it keeps one rusqlite connection, and so
/// its prepared statements, for its whole life; on PostgreSQL it takes a pool connection per
/// batch and drives it from this thread.
fn write_events(
    pool: &crate::store::Pool,
    runtime: Option<tokio::runtime::Handle>,
    mut queue: mpsc::Receiver<Job>,
) {
    let mut store_batch: Box<StoreBatch> = match (crate::store::backend(pool), runtime) {
        (crate::store::Backend::Sqlite, _) => match crate::store::open_own_connection(pool) {
            Ok(mut db) => Box::new(move |batch| store(&mut db, batch).map_err(AppError::from)),
            Err(e) => {
                tracing::error!(error = %e, "the lineage writer cannot open the database");
                return refuse_all(queue);
            }
        },
        (crate::store::Backend::Postgres, Some(runtime)) => {
            let pool = pool.clone();
            Box::new(move |batch| store_on_pool(&pool, &runtime, batch))
        }
        (crate::store::Backend::Postgres, None) => {
            tracing::error!("the lineage writer was started outside the runtime");
            return refuse_all(queue);
        }
    };
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if batch.len() > 1 {
            match store_batch(&batch) {
                Ok(()) => {
                    for job in batch {
                        let _ = job.done.send(Ok(()));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, events = batch.len(), "lineage batch failed; retrying one by one")
                }
            }
        }
        for job in batch {
            let result = store_batch(std::slice::from_ref(&job));
            let _ = job.done.send(result);
        }
    }
}

/// How the writer stores one batch (and its audit entries) in one transaction.
type StoreBatch = dyn FnMut(&[Job]) -> Result<(), AppError>;

/// Answers every request with 500: the writer cannot store anything.
fn refuse_all(mut queue: mpsc::Receiver<Job>) {
    while let Some(job) = queue.blocking_recv() {
        let _ = job.done.send(Err(AppError::internal()));
    }
}

/// Stores a batch and its audit entries in one transaction, holding the process's writer turn.
fn store(db: &mut rusqlite::Connection, batch: &[Job]) -> Result<(), crate::store::DriverError> {
    let turn = crate::store::writer_turn();
    let _turn = turn.blocking_lock();
    let now = crate::service::now_ts();
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let events: Vec<(&LineageEvent, &str)> =
        batch.iter().map(|j| (&j.event, j.body.as_str())).collect();
    let done = lineage::ingest(&mut &*tx, &events, &now)?;
    let entries = audit_entries(batch, &done);
    audit::append_all_sync(&tx, &now, &entries)?;
    tx.commit()?;
    Ok(())
}

/// [`store`] on a pool connection (PostgreSQL), driven from the writer thread; the audit chain
/// takes its lock when it appends.
///
/// Each server has one lineage writer, but several servers share the database: two batches
/// naming the same datasets and jobs in different orders would lock their rows in different
/// orders and deadlock. Lineage ingestion therefore takes its own transaction-scoped advisory
/// lock first, so batches from every server are stored one after another, as SQLite's one
/// writer does; other writes wait for it only at the audit chain's lock, as before.
fn store_on_pool(
    pool: &crate::store::Pool,
    runtime: &tokio::runtime::Handle,
    batch: &[Job],
) -> Result<(), AppError> {
    // A transaction dropped after an error returns its connection through the runtime.
    let _context = runtime.enter();
    let now = crate::service::now_ts();
    let mut tx = runtime.block_on(crate::store::begin_write(pool))?;
    runtime.block_on(crate::store::xact_lock(
        &mut tx,
        crate::store::XactLock::LineageWriter,
    ))?;
    let events: Vec<(&LineageEvent, &str)> =
        batch.iter().map(|j| (&j.event, j.body.as_str())).collect();
    let done = {
        let mut conn = crate::store::direct::OnPool {
            conn: &mut tx,
            runtime,
        };
        lineage::ingest(&mut conn, &events, &now)?
    };
    let entries = audit_entries(batch, &done);
    runtime.block_on(audit::append_all(&mut tx, &now, &entries))?;
    runtime.block_on(tx.commit())?;
    Ok(())
}

fn audit_entries(batch: &[Job], done: &[lineage::Ingested]) -> Vec<NewEntry> {
    batch
        .iter()
        .zip(done)
        .map(|(job, done)| audit_entry(job, done))
        .collect()
}

/// One audit entry per ingest request.
fn audit_entry(job: &Job, done: &lineage::Ingested) -> NewEntry {
    let event = &job.event;
    let (object_type, object_id) = match (&event.kind, &event.run, &event.dataset, &event.job) {
        (EventKind::Run(_), Some(r), _, _) => ("lineage_run", r.run_id.clone()),
        (EventKind::Dataset, _, Some(d), _) => {
            ("lineage_dataset", format!("{}:{}", d.namespace, d.name))
        }
        (_, _, _, Some((ns, name, _))) => ("lineage_job", format!("{ns}:{name}")),
        _ => ("lineage_event", done.dedup_key.clone()),
    };
    let event_type = match &event.kind {
        EventKind::Run(t) => t.as_str(),
        EventKind::Dataset => "DATASET",
        EventKind::Job => "JOB",
    };
    NewEntry {
        actor: job.actor.clone(),
        action: "lineage.ingest".into(),
        object_type: object_type.into(),
        object_id,
        details: json!({
            "event_type": event_type,
            "event_time": event.event_time,
            "job": event.job.as_ref().map(|(ns, name, _)| format!("{ns}:{name}")),
            "inputs": event.inputs.len(),
            "outputs": event.outputs.len(),
            "duplicate": !done.stored,
        }),
    }
}
