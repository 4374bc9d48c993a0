//! The store on PostgreSQL, for several relays sharing one database (cluster mode),
//! beside the SQLite store, which stays the default. It implements the whole `Store`,
//! one file per table group as on SQLite; what several nodes need beyond SQLite's
//! single writer is said in each file (row locks taken in a fixed order, claims with
//! `SKIP LOCKED`, unique indexes, advisory locks). Its nodes keep time by the
//! database's clock ([`super::clock`]).

mod agents;
mod ai_usage;
mod api_keys;
mod conversations;
mod copy;
pub use copy::FilesKept;
mod emails;
mod erasure;
mod joins;
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
mod ticket_inbox;
mod tickets;
mod turns;
mod visitors;
mod waiting;
mod webhook_events;
mod webhook_outbox;
mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::Notify;
use tokio_postgres::NoTls;

use super::clock;
use super::vectors::VectorCache;
use super::{Durability, Store, StoreError};

/// Connections each node keeps open at most.
const POOL_SIZE: usize = 16;
/// How long a statement waits for a row another node holds, and how long a
/// transaction may sit idle: a frozen node cannot hold the others up for longer.
const LOCK_TIMEOUT: Duration = Duration::from_secs(5);
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(30);
/// How often the node measures again how far the database's clock is from its own.
const CLOCK_CHECK_MS: i64 = 60_000;

pub struct PgStore {
    pool: Pool,
    /// Notified after a commit that queued webhook events, to wake this node's sender.
    webhook_events_queued: Arc<Notify>,
    /// The knowledge's vectors in memory, for the vector search.
    vectors: VectorCache,
    /// When (this machine's ms) the database's clock was last read.
    clock_read_at: AtomicI64,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/database`; its `options` may set a
    /// `search_path`) and brings the schema up to date; durability full.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, Durability::Full).await
    }

    /// As [`PgStore::connect`]; with `Durability::Normal` a commit returns before the
    /// server has flushed it (`synchronous_commit = off`): a server crash may lose the
    /// last moments' writes, never leave them half done.
    pub async fn connect_with(url: &str, durability: Durability) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|err| StoreError::Backend(format!("the PostgreSQL URL: {err}")))?;
        let synchronous_commit = match durability {
            Durability::Full => "on",
            Durability::Normal => "off",
        };
        let options = format!(
            "{} -c lock_timeout={} -c idle_in_transaction_session_timeout={} \
             -c synchronous_commit={synchronous_commit}",
            config.get_options().unwrap_or_default(),
            LOCK_TIMEOUT.as_millis(),
            IDLE_IN_TRANSACTION.as_millis()
        );
        config.options(options.trim_start());
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|err| StoreError::Backend(err.to_string()))?;
        let store = Self {
            pool,
            webhook_events_queued: Arc::default(),
            vectors: VectorCache::default(),
            clock_read_at: AtomicI64::new(i64::MIN),
        };
        schema::migrate(&mut store.client().await?).await?;
        Ok(store)
    }

    /// The version of the schema the database holds.
    pub async fn schema_version(&self) -> Result<usize, StoreError> {
        schema::version(&self.client().await?).await
    }

    /// A connection from the pool; once a minute it first reads the database's clock.
    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|err| StoreError::Backend(format!("no PostgreSQL connection: {err}")))?;
        let read_at = self.clock_read_at.load(Ordering::Relaxed);
        let now = clock::machine_ms();
        if now.saturating_sub(read_at) >= CLOCK_CHECK_MS
            && self
                .clock_read_at
                .compare_exchange(read_at, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            follow_clock(&client).await?;
        }
        Ok(client)
    }
}

/// Reads the database's clock, and has this process keep time by it.
async fn follow_clock(client: &impl deadpool_postgres::GenericClient) -> Result<(), StoreError> {
    let asked = clock::machine_ms();
    let store_ms: i64 = client
        .query_one(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
            &[],
        )
        .await?
        .get(0);
    clock::follow(store_ms, asked, clock::machine_ms());
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    /// Every write here returns after its COMMIT, so there is nothing still to write.
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A unique index's refusal as `Duplicate` (a name or title taken, perhaps by another
/// node a moment before); any other failure as the backend's.
fn unique_as_duplicate(err: tokio_postgres::Error) -> StoreError {
    if err.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        StoreError::Duplicate
    } else {
        err.into()
    }
}

impl From<tokio_postgres::Error> for StoreError {
    /// The server's own words when it refused (its code, message and detail), for
    /// the log: the client's own text is only "db error".
    fn from(err: tokio_postgres::Error) -> Self {
        if err.code() == Some(&tokio_postgres::error::SqlState::CHARACTER_NOT_IN_REPERTOIRE) {
            return StoreError::NulInText;
        }
        match err.as_db_error() {
            Some(db) => StoreError::Backend(format!(
                "{} {}{}",
                db.code().code(),
                db.message(),
                db.detail()
                    .map(|detail| format!(" ({detail})"))
                    .unwrap_or_default()
            )),
            None => StoreError::Backend(err.to_string()),
        }
    }
}
