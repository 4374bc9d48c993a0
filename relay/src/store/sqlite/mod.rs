//! The embedded backend. One thread owns the write connection and commits jobs in
//! batches (group commit): every job in a batch runs in its own savepoint inside one
//! `BEGIN IMMEDIATE` transaction, and no job is answered before the COMMIT. Reads go
//! to a small pool of read-only connections on tokio's blocking threads.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use rusqlite::{Connection, OpenFlags, Params, Row};
use tokio::sync::{mpsc, oneshot};

use super::{Durability, Store, StoreError};

mod agents;
mod ai_usage;
mod api_keys;
pub(super) mod backup;
mod canned;
mod conversations;
mod emails;
mod erasure;
mod knowledge;
mod listing;
mod messages;
mod notes;
mod profiles;
mod ratings;
mod reports;
mod schema;
mod search;
mod sessions;
mod settings;
mod sites;
mod teams;
mod tickets;
mod turns;
mod visitors;
mod waiting;
mod webhook_events;
mod webhook_outbox;
mod webhooks;

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Backend(err.to_string())
    }
}

/// Answers a job once its batch is committed (or failed).
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs on the writer thread inside a savepoint; says whether to keep its changes.
/// Given no connection (its batch could not begin), it only hands back its reply.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Reply) + Send>;

/// Statements kept compiled per connection: every distinct one the store runs.
const STATEMENT_CACHE: usize = 256;

/// Runs SQL through the connection's statement cache: each statement is compiled once
/// per connection, not on every call (parsing was a good share of the relay's CPU on
/// the message path).
pub(super) trait Cached {
    fn cached_row<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        read: F,
    ) -> rusqlite::Result<T>;

    fn cached_execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn cached_row<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        read: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, read)
    }

    fn cached_execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// How many queued jobs one transaction takes at most.
const MAX_BATCH: usize = 512;
const READ_POOL_SIZE: usize = 4;
/// The database file in the data folder.
pub const DB_FILE: &str = "porchlight.sqlite3";

/// What the writer thread observes of its batches, for the relay's metrics.
#[derive(Clone)]
pub struct CommitStats {
    /// Jobs per transaction.
    pub jobs: Histogram,
    /// Each transaction, from BEGIN to the committed fsync.
    pub seconds: Histogram,
}

impl Default for CommitStats {
    fn default() -> Self {
        Self {
            // 1 to 512 (MAX_BATCH).
            jobs: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            // 100 µs to about 3 s.
            seconds: Histogram::new(exponential_buckets(0.000_1, 2.0, 16)),
        }
    }
}

pub struct SqliteStore {
    writer: mpsc::Sender<Job>,
    commit_stats: CommitStats,
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: AtomicUsize,
    path: PathBuf,
    /// Notified by the writer after a commit that queued webhook events.
    webhook_events_queued: Arc<tokio::sync::Notify>,
    /// The knowledge's vectors in memory, for the vector search.
    vectors: Arc<crate::store::vectors::VectorCache>,
}

impl SqliteStore {
    /// Opens (creating if needed) `DIR/porchlight.sqlite3`, migrates it and starts the
    /// writer thread.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, Durability::Full)
    }

    /// Like [`SqliteStore::open`], choosing when an acknowledged write is safe.
    pub fn open_with(data_dir: &Path, durability: Durability) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let mut write_conn = Connection::open(&path)?;
        configure(&write_conn)?;
        if durability == Durability::Normal {
            write_conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        write_conn.pragma_update(None, "journal_mode", "WAL")?;
        schema::migrate(&mut write_conn)?;

        let readers = (0..READ_POOL_SIZE)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&conn)?;
                // Reads through the page cache's mapping, not a syscall per page: the
                // vector search reads every embedded passage of a site (2x faster).
                conn.pragma_update(None, "mmap_size", 256i64 * 1024 * 1024)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, rusqlite::Error>>()?;

        let (writer, jobs) = mpsc::channel::<Job>(4096);
        let commit_stats = CommitStats::default();
        let observed = commit_stats.clone();
        let webhook_events_queued = Arc::new(tokio::sync::Notify::new());
        let wake_sender = Arc::clone(&webhook_events_queued);
        std::thread::Builder::new()
            .name("porchlight-writer".into())
            .spawn(move || write_loop(write_conn, jobs, &observed, &wake_sender))
            .map_err(|source| StoreError::DataDir {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Self {
            writer,
            commit_stats,
            readers: Arc::new(readers),
            next_reader: AtomicUsize::new(0),
            path,
            webhook_events_queued,
            vectors: Arc::default(),
        })
    }

    /// The writer's batch sizes and times.
    pub fn commit_stats(&self) -> CommitStats {
        self.commit_stats.clone()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `job` on the writer thread; resolves after its batch commits.
    async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let Some(conn) = conn else {
                let reply: Reply = Box::new(move |committed: Result<(), StoreError>| {
                    let _ = tx.send(committed.and(Err(StoreError::Closed)));
                });
                return (false, reply);
            };
            let result = job(conn);
            let keep = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                let _ = tx.send(committed.and(result));
            });
            (keep, reply)
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `query` on a pooled read connection on a blocking thread.
    async fn read<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let index = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            // A free connection if any, so that no blocking thread waits for a busy
            // one while another is idle; else this read's turn.
            let free = (0..readers.len())
                .map(|step| &readers[(index + step) % readers.len()])
                .find_map(|reader| reader.try_lock().ok());
            let conn = match free {
                Some(conn) => conn,
                None => readers[index]
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            };
            query(&conn)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted rows (an erased visitor, expired chats) are overwritten where that costs
    // no extra I/O, rather than left readable in free space.
    conn.pragma_update(None, "secure_delete", "FAST")?;
    // FULL: an acknowledged message survives power loss, not only a crashed process.
    // Group commit keeps the fsync per batch, not per message.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

fn write_loop(
    conn: Connection,
    mut jobs: mpsc::Receiver<Job>,
    stats: &CommitStats,
    webhook_events_queued: &tokio::sync::Notify,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        stats.jobs.observe(batch.len() as f64);
        if run_batch(&conn, &mut batch) && webhook_events::take_queued() {
            webhook_events_queued.notify_one();
        }
        webhook_events::take_queued();
        stats.seconds.observe(started.elapsed().as_secs_f64());
    }
}

/// Runs the batch in one transaction; says whether it committed.
fn run_batch(conn: &Connection, batch: &mut Vec<Job>) -> bool {
    if let Err(err) = conn.cached_execute("BEGIN IMMEDIATE", []) {
        tracing::error!(error = %err, "cannot begin a write transaction");
        let reason = err.to_string();
        // Nothing runs outside a transaction: each job is answered without running.
        for job in batch.drain(..) {
            let (_, reply) = job(None);
            reply(Err(StoreError::Batch(reason.clone())));
        }
        return false;
    }
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        let savepoint = conn.cached_execute("SAVEPOINT job", []);
        let (keep, reply) = job(Some(conn));
        if savepoint.is_ok() {
            let rolled_back = if keep {
                Ok(0)
            } else {
                conn.cached_execute("ROLLBACK TO job", [])
            };
            if let Err(err) = rolled_back.and_then(|_| conn.cached_execute("RELEASE job", [])) {
                tracing::error!(error = %err, "cannot close a savepoint");
            }
        }
        replies.push(reply);
    }
    match conn.cached_execute("COMMIT", []) {
        Ok(_) => {
            replies.into_iter().for_each(|reply| reply(Ok(())));
            true
        }
        Err(err) => {
            tracing::error!(error = %err, "commit failed; the batch is rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            let reason = err.to_string();
            for reply in replies {
                reply(Err(StoreError::Batch(reason.clone())));
            }
            false
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn flush(&self) -> Result<(), StoreError> {
        self.write(|_| Ok(())).await
    }
}

#[cfg(test)]
mod report_sums_tests;
#[cfg(test)]
mod tests;
