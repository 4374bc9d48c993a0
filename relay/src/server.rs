//! The relay as a value a test can start: open the store, seed it, serve a listener
//! until a shutdown future resolves, then finish pending writes.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::ai::Ai;
use crate::attachments::{AttachmentsDir, SweepError, Swept};
use crate::auth::{hash_password, random_password};
use crate::chat::ai;
use crate::chat::queue;
use crate::chat::queue::estimate::{MAX_WINDOW_MINUTES, RecentWaits};
use crate::chat::timers::{RelayWaiter, due};
use crate::cluster::Cluster;
use crate::config::Config;
use crate::email;
use crate::flow::Format;
use crate::http;
use crate::http::ONE_TIME_PASSWORD_DAYS;
use crate::hub::Hub;
use crate::metrics::{self, Metrics};
use crate::outbound::{Outbound, OutboundPolicy, Redirects};
use crate::profiles::{Flows, ProfileError, compile_stored, default_profile};
use crate::retention;
use crate::state::{AppState, Shared};
use crate::store::{CommitStats, PgStore, Seed, SqliteStore, Store, now_ms};
use crate::throttle::Throttles;
use crate::translation::TranslationSettings;
use crate::webhooks;
use porchlight_protocol::api::ai::TranslationService;

/// The admin account made on first start; the password is shown once.
#[derive(Debug, Clone)]
pub struct SeededAdmin {
    pub email: String,
    pub password: String,
}

pub const DEMO_SITE_KEY: &str = "demo";
/// Password checks run at once; more are answered 429.
const LOGINS_AT_ONCE: usize = 4;
/// No webhook waits longer, whatever its step says (steps allow at most 30 s).
const WEBHOOK_TIMEOUT_CAP: std::time::Duration = std::time::Duration::from_secs(30);
pub const DEMO_ADMIN_EMAIL: &str = "admin@example.com";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot hash a password: {0}")]
    Hash(String),
    #[error("the stored chat profile \"{name}\" is not valid:\n{problems}")]
    Profile { name: String, problems: String },
    #[error("cannot set up outbound HTTP: {0}")]
    Http(String),
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Attachments(#[from] SweepError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("cannot listen for metrics on {addr}: {source}")]
    MetricsListener {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

pub struct Relay {
    state: AppState,
    /// `/metrics` on an address of its own, when the config asks for one.
    metrics_listener: Option<TcpListener>,
    /// The other relays, in cluster mode.
    cluster: Option<Cluster>,
}

/// Hashes made once at start: the first admin's password and the stand-in that
/// unknown emails are checked against.
struct StartHashes {
    admin: String,
    admin_password: String,
    dummy: String,
}

async fn start_hashes() -> Result<StartHashes, StartError> {
    let password = random_password();
    let (admin, dummy) = tokio::task::spawn_blocking(move || {
        let admin = hash_password(&password).map(|hash| (hash, password));
        (admin, hash_password("not a password"))
    })
    .await
    .map_err(|err| StartError::Hash(err.to_string()))?;
    let (admin, admin_password) = admin.map_err(|err| StartError::Hash(err.to_string()))?;
    let dummy = dummy.map_err(|err| StartError::Hash(err.to_string()))?;
    Ok(StartHashes {
        admin,
        admin_password,
        dummy,
    })
}

/// The relay refuses to start on a stored profile that would break chats.
async fn check_profiles(store: &dyn Store) -> Result<(), StartError> {
    for stored in store.all_profiles().await? {
        if let Err(err) = compile_stored(&stored) {
            let problems = match err {
                ProfileError::Parse(message) => message,
                ProfileError::Invalid(problems) => problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            return Err(StartError::Profile {
                name: stored.name,
                problems,
            });
        }
    }
    Ok(())
}

/// The first admin's password is shown once at start: like every one-time password,
/// it must be replaced at first login and expires unused.
async fn first_password_is_one_time(store: &dyn Store) -> Result<(), StartError> {
    let admin = store
        .agent_by_email(DEMO_ADMIN_EMAIL)
        .await?
        .ok_or(crate::store::StoreError::NotFound)?;
    let until = now_ms() + ONE_TIME_PASSWORD_DAYS * 24 * 3600 * 1000;
    store
        .set_password(admin.id, admin.password_hash, Some(until))
        .await?;
    Ok(())
}

/// The recent queue times `$WAITTIME` averages, as the store remembers them.
async fn recent_waits(store: &dyn Store) -> Result<RecentWaits, StartError> {
    let mut recent = RecentWaits::default();
    let day_ago = now_ms() - i64::from(MAX_WINDOW_MINUTES) * 60_000;
    for (joined_at, queue_ms) in store.queue_times_since(day_ago).await? {
        recent.record(joined_at, queue_ms);
    }
    Ok(recent)
}

/// The store the config names (PostgreSQL's, or SQLite's in the data folder), with the
/// relay's metrics (SQLite's writer reports its batches to them).
async fn open_store(config: &Config) -> Result<(Arc<dyn Store>, Arc<Metrics>), StartError> {
    Ok(match &config.postgres {
        Some(url) => (
            Arc::new(PgStore::connect_with(url, config.durability).await?),
            Arc::new(Metrics::new(CommitStats::default())),
        ),
        None => {
            let sqlite = SqliteStore::open_with(&config.data_dir, config.durability)?;
            let metrics = Arc::new(Metrics::new(sqlite.commit_stats()));
            (Arc::new(sqlite), metrics)
        }
    })
}

impl Relay {
    /// Opens the store (PostgreSQL's, or SQLite's under `config.data_dir`) and seeds
    /// it on first start.
    pub async fn open(config: Config) -> Result<(Self, Option<SeededAdmin>), StartError> {
        let (store, metrics) = open_store(&config).await?;
        let hashes = start_hashes().await?;
        let seeded = store
            .seed_if_empty(Seed {
                site_key: DEMO_SITE_KEY.into(),
                site_name: "Demo site".into(),
                profile_name: "Default".into(),
                profile_definition: default_profile().render(Format::Json),
                team_name: "Support".into(),
                admin_email: DEMO_ADMIN_EMAIL.into(),
                admin_name: "Admin".into(),
                admin_password_hash: hashes.admin,
            })
            .await?;
        if seeded {
            first_password_is_one_time(store.as_ref()).await?;
        }
        check_profiles(store.as_ref()).await?;
        let swept = AttachmentsDir::new(&config.data_dir)
            .sweep(store.as_ref())
            .await?;
        if swept != Swept::default() {
            tracing::info!(
                finished = swept.finished,
                removed = swept.removed,
                "tidied the attachments folder"
            );
        }
        let state = shared_state(config, store, metrics, hashes.dummy).await?;
        let admin = seeded.then(|| SeededAdmin {
            email: DEMO_ADMIN_EMAIL.into(),
            password: hashes.admin_password,
        });
        let cluster = match &state.config.nats {
            Some(url) => Some(Cluster::connect(url, &state.config.cluster).await?),
            None => None,
        };
        let metrics_listener = match state.config.metrics.addr {
            Some(addr) if state.config.metrics.enabled => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::MetricsListener { addr, source })?,
            ),
            _ => None,
        };
        Ok((
            Self {
                state,
                metrics_listener,
                cluster,
            },
            admin,
        ))
    }
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Where `/metrics` is served when it has an address of its own.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, closes every socket, and waits for pending
    /// writes to commit.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let state = self.state;
        let stop = state.shutdown.clone();
        if let Some(cluster) = self.cluster {
            cluster.run(&state)?;
        }
        spawn_background(&state);
        // Chat frames are small and latency matters: without TCP_NODELAY a frame can
        // wait for the peer's delayed ACK (up to 40 ms on Linux).
        let listener = listener.tap_io(|stream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
            }
        });
        if let Some(listener) = self.metrics_listener {
            state.tracker.spawn(metrics::serve(listener, state.clone()));
        }
        let serve = axum::serve(
            listener,
            http::router(state.clone())
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.cancel();
        });
        serve.await?;
        state.shutdown.cancel();
        state.tracker.close();
        // Sockets close at once on shutdown; one stuck on a peer that does not read is
        // cut after the grace (everything it acknowledged is committed).
        let grace = state.config.sockets.shutdown_grace;
        if tokio::time::timeout(grace, state.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                left = state.tracker.len(),
                "sockets still open after the shutdown grace; cut"
            );
        }
        state.store.flush().await?;
        tracing::info!("relay stopped; every write is committed");
        Ok(())
    }
}

/// What every part of the relay shares, with the caches read from the store.
async fn shared_state(
    config: Config,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    dummy_hash: String,
) -> Result<AppState, StartError> {
    let recent_waits = recent_waits(store.as_ref()).await?;
    let ai = Arc::new(Ai::load(store.as_ref(), &config.ai).await?);
    let throttles = Arc::new(Throttles::new(config.limits));
    let email_on = email::EmailSettings::load(store.as_ref()).await.enabled();
    let translation_on = match TranslationSettings::read(store.as_ref()).await {
        Ok(settings) => settings.service != TranslationService::None,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the translation settings");
            false
        }
    };
    let outbound = Arc::new(OutboundPolicy {
        allowed: config.outbound_allow.clone(),
    });
    Ok(AppState::new(Shared {
        ai,
        knowledge_changed: Arc::new(Notify::new()),
        store,
        hub: Arc::new(Hub::default()),
        config: Arc::new(config),
        shutdown: CancellationToken::new(),
        tracker: TaskTracker::new(),
        dummy_hash: dummy_hash.into(),
        flows: Arc::new(Flows::default()),
        webhooks: Outbound::new(&outbound, Redirects::None, WEBHOOK_TIMEOUT_CAP)
            .map_err(|err| StartError::Http(err.to_string()))?,
        outbound,
        throttles,
        login_permits: Arc::new(tokio::sync::Semaphore::new(LOGINS_AT_ONCE)),
        recent_waits: Arc::new(Mutex::new(recent_waits)),
        turns: Arc::default(),
        email_queued: Arc::default(),
        email_on: Arc::new(AtomicBool::new(email_on)),
        translation_on: Arc::new(AtomicBool::new(translation_on)),
        queue_changed: Arc::new(Notify::new()),
        queue_moved: Arc::new(Notify::new()),
        queue_shown: Arc::default(),
        metrics,
    }))
}

/// Starts the relay's own work beside the sockets: the waiting timers, the queue's
/// announcer, the knowledge's embedder, the email and webhook senders, retention.
fn spawn_background(state: &AppState) {
    // The waiting timers start from what the store says, so a restart resumes them.
    state.tracker.spawn(due::run(
        Arc::new(RelayWaiter {
            state: state.clone(),
        }),
        Arc::clone(&state.queue_changed),
        state.shutdown.clone(),
    ));
    state
        .tracker
        .spawn(queue::run_announcer(state.clone(), state.shutdown.clone()));
    state.tracker.spawn(ai::run_embedder(state.clone()));
    state.tracker.spawn(email::sender::run(state.clone()));
    state.tracker.spawn(webhooks::sender::run(
        webhooks::sender::Sender {
            store: Arc::clone(&state.store),
            post: state.webhooks.clone(),
            now: Arc::new(now_ms),
            tried: {
                let metrics = Arc::clone(&state.metrics);
                Box::new(move |_, tried| metrics.webhook_tried(&tried.outcome, tried.duration_ms))
            },
        },
        state.shutdown.clone(),
    ));
    state.tracker.spawn(retention::run(
        Arc::clone(&state.store),
        AttachmentsDir::new(&state.config.data_dir),
        state.shutdown.clone(),
        |done| {
            if done != retention::Pass::default() {
                tracing::info!(
                    chats = done.conversations,
                    messages = done.messages,
                    files = done.files,
                    webhook_deliveries = done.webhook_deliveries,
                    "retention deleted expired chats and old webhook deliveries"
                );
            }
        },
    ));
}
