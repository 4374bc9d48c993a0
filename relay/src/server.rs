//! The relay as a value a test can start: open the store, seed it, serve a listener
//! until a shutdown future resolves, then finish pending writes.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{delete, get, post, put};
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::ai::Ai;
use crate::auth::{hash_password, random_password};
use crate::config::Config;
use crate::flow::Format;
use crate::hub::Hub;
use crate::profiles::{Flows, ProfileError, compile_stored, default_profile};
use crate::store::{Seed, SqliteStore, Store, now_ms};
use crate::timers;
use crate::waiting::{MAX_WINDOW_MINUTES, RecentWaits};
use crate::ws::queue;
use crate::ws::waiting::RelayWaiter;
use crate::{admin, ai, auth, canned, knowledge, people, reports, tickets, uploads, web, ws};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub hub: Arc<Hub>,
    pub config: Arc<Config>,
    /// Cancelled when the relay stops: every socket closes with "restarting".
    pub shutdown: CancellationToken,
    /// Tracks socket tasks so shutdown can wait for them.
    pub tracker: TaskTracker,
    /// A real argon2 hash to verify against when an email is unknown.
    pub dummy_hash: Arc<str>,
    /// Compiled chat profiles.
    pub flows: Arc<Flows>,
    /// Outbound HTTP (flow webhooks).
    pub http: reqwest::Client,
    /// Password checks allowed at once (each is an argon2 hash).
    pub login_permits: Arc<tokio::sync::Semaphore>,
    /// Queue times of recently joined chats, for `$WAITTIME`.
    pub recent_waits: Arc<Mutex<RecentWaits>>,
    /// Notified whenever the queue changes, so the waiting timers look again...
    pub queue_changed: Arc<Notify>,
    /// ...and the announcer tells waiting visitors where they stand.
    pub queue_moved: Arc<Notify>,
    /// The AI provider and what the agent holds per open chat.
    pub ai: Arc<Ai>,
    /// Notified when knowledge changes or the provider does: passages get vectors.
    pub knowledge_changed: Arc<Notify>,
}

/// The admin account made on first start; the password is shown once.
#[derive(Debug, Clone)]
pub struct SeededAdmin {
    pub email: String,
    pub password: String,
}

pub const DEMO_SITE_KEY: &str = "demo";
/// Password checks run at once; more are answered 429.
const LOGINS_AT_ONCE: usize = 4;
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
}

pub struct Relay {
    state: AppState,
}

impl Relay {
    /// Opens the store under `config.data_dir` and seeds it on first start.
    pub async fn open(config: Config) -> Result<(Self, Option<SeededAdmin>), StartError> {
        let store = Arc::new(SqliteStore::open_with(&config.data_dir, config.durability)?);
        let password = random_password();
        let (admin_hash, dummy_hash) = tokio::task::spawn_blocking(move || {
            let admin = hash_password(&password).map(|hash| (hash, password));
            (admin, hash_password("not a password"))
        })
        .await
        .map_err(|err| StartError::Hash(err.to_string()))?;
        let (admin_hash, password) = admin_hash.map_err(|err| StartError::Hash(err.to_string()))?;
        let dummy_hash = dummy_hash.map_err(|err| StartError::Hash(err.to_string()))?;
        let seeded = store
            .seed_if_empty(Seed {
                site_key: DEMO_SITE_KEY.into(),
                site_name: "Demo site".into(),
                profile_name: "Default".into(),
                profile_definition: default_profile().render(Format::Json),
                team_name: "Support".into(),
                admin_email: DEMO_ADMIN_EMAIL.into(),
                admin_name: "Admin".into(),
                admin_password_hash: admin_hash,
            })
            .await?;
        // The relay refuses to start on a profile that would break chats.
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
        let mut recent_waits = RecentWaits::default();
        let day_ago = now_ms() - i64::from(MAX_WINDOW_MINUTES) * 60_000;
        for (joined_at, queue_ms) in store.queue_times_since(day_ago).await? {
            recent_waits.record(joined_at, queue_ms);
        }
        let ai = Arc::new(Ai::load(store.as_ref(), &config.ai).await?);
        let state = AppState {
            ai,
            knowledge_changed: Arc::new(Notify::new()),
            store,
            hub: Arc::new(Hub::default()),
            config: Arc::new(config),
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            dummy_hash: dummy_hash.into(),
            flows: Arc::new(Flows::default()),
            http: reqwest::Client::builder()
                .user_agent(concat!("porchlight/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|err| StartError::Http(err.to_string()))?,
            login_permits: Arc::new(tokio::sync::Semaphore::new(LOGINS_AT_ONCE)),
            recent_waits: Arc::new(Mutex::new(recent_waits)),
            queue_changed: Arc::new(Notify::new()),
            queue_moved: Arc::new(Notify::new()),
        };
        let admin = seeded.then(|| SeededAdmin {
            email: DEMO_ADMIN_EMAIL.into(),
            password,
        });
        Ok((Self { state }, admin))
    }

    pub fn state(&self) -> &AppState {
        &self.state
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
        // The waiting timers start from what SQLite says, so a restart resumes them.
        state.tracker.spawn(timers::run(
            Arc::new(RelayWaiter {
                state: state.clone(),
            }),
            Arc::clone(&state.queue_changed),
            state.shutdown.clone(),
        ));
        state
            .tracker
            .spawn(queue::run_announcer(state.clone(), state.shutdown.clone()));
        state.tracker.spawn(ws::ai::run_embedder(state.clone()));
        // Chat frames are small and latency matters: without TCP_NODELAY a frame can
        // wait for the peer's delayed ACK (up to 40 ms on Linux).
        let listener = listener.tap_io(|stream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
            }
        });
        let serve = axum::serve(listener, app(state.clone())).with_graceful_shutdown(async move {
            shutdown.await;
            stop.cancel();
        });
        serve.await?;
        state.shutdown.cancel();
        state.tracker.close();
        state.tracker.wait().await;
        state.store.flush().await?;
        tracing::info!("relay stopped; every write is committed");
        Ok(())
    }
}

/// Every route of the relay.
pub fn app(state: AppState) -> Router {
    // Room for the multipart framing around the largest allowed file.
    let upload_body_limit = usize::try_from(state.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    Router::new()
        .route("/", get(web::demo_page))
        .route("/ai", get(web::ai_demo_page))
        .route("/healthz", get(web::healthz))
        .route("/embed.js", get(web::embed_js))
        .route("/widget/", get(web::widget_page))
        .route("/widget/index.html", get(web::widget_page))
        .route("/widget/{*file}", get(web::asset))
        .route("/console", get(web::console_redirect))
        .route("/console/", get(web::console_page))
        .route("/console/index.html", get(web::console_page))
        .route("/console/{*file}", get(web::asset))
        .route("/ws/visitor", get(ws::visitor::upgrade))
        .route("/ws/agent", get(ws::agent::upgrade))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::whoami))
        .route("/api/v1/sites/{key}/launcher", get(web::launcher))
        .route(
            "/api/admin/agents",
            get(people::agents).post(people::create_agent),
        )
        .route("/api/admin/agents/{id}", put(people::update_agent))
        .route(
            "/api/admin/teams",
            get(people::teams).post(people::create_team),
        )
        .route(
            "/api/admin/statuses",
            get(people::statuses).post(people::create_status),
        )
        .route("/api/admin/statuses/{id}", put(people::update_status))
        .route(
            "/api/admin/settings",
            get(people::settings).put(people::update_settings),
        )
        .route("/api/admin/sites", get(people::sites))
        .route(
            "/api/v1/conversations/{id}/attachments",
            post(uploads::upload).layer(DefaultBodyLimit::max(upload_body_limit)),
        )
        .route("/files/{key}", get(uploads::download))
        .route("/api/reports", get(reports::report))
        .route("/api/reports/chats.csv", get(reports::chats_export))
        .route("/api/reports/messages.csv", get(reports::messages_export))
        .route("/api/tickets", get(tickets::list).post(tickets::create))
        .route("/api/tickets/{id}", get(tickets::detail))
        .route("/api/tickets/{id}/categories", put(tickets::set_categories))
        .route("/api/tickets/{id}/status", put(tickets::set_status))
        .route("/api/ticket-categories", get(tickets::categories))
        .route("/api/conversations/{id}/estimate", get(tickets::estimate))
        .route("/api/admin/categories", post(tickets::create_category))
        .route("/api/tickets/{id}/agent", put(tickets::assign))
        .route("/api/canned", get(canned::list).post(canned::create))
        .route(
            "/api/canned/{id}",
            put(canned::update).delete(canned::delete),
        )
        .route(
            "/api/admin/ai",
            get(ai::http::settings).put(ai::http::update),
        )
        .route("/api/admin/ai/test", post(ai::http::test))
        .route("/api/ai", get(ai::http::helpers))
        .route(
            "/api/admin/knowledge",
            get(knowledge::http::list).post(knowledge::http::upload),
        )
        .route("/api/admin/knowledge/crawl", post(knowledge::http::crawl))
        .route("/api/admin/knowledge/{id}", delete(knowledge::http::delete))
        .route(
            "/api/conversations/{id}/ai/suggest",
            post(ai::http::suggest),
        )
        .route(
            "/api/conversations/{id}/ai/summary",
            post(ai::http::summary),
        )
        .route(
            "/api/conversations/{id}/ai/translate",
            post(ai::http::translate),
        )
        .route("/api/profiles", get(admin::list).post(admin::create))
        .route("/api/profiles/check", post(admin::check))
        .route("/api/profiles/{id}", get(admin::read).put(admin::update))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .with_state(state)
}
