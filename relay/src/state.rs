//! What every handler, socket and background task shares: the store, the hub of live
//! sockets, the settings, and the runtime's caches and signals.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::ai::Ai;
use crate::chat::queue::estimate::RecentWaits;
use crate::chat::ringing::assign::Turns;
use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::outbound::{Outbound, OutboundPolicy};
use crate::profiles::Flows;
use crate::store::Store;
use crate::throttle::Throttles;

/// What every handler, socket and task holds: one pointer to what they share, since
/// each of thousands of socket tasks keeps copies of it (the fields side by side are
/// 200 bytes).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
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
    /// Which addresses requests to others' addresses may reach...
    pub outbound: Arc<OutboundPolicy>,
    /// ...and the client for flow webhooks, held to it.
    pub webhooks: Outbound,
    /// How often visitors may do costly things (send files, open chats).
    pub throttles: Arc<Throttles>,
    /// Password checks allowed at once (each is an argon2 hash).
    pub login_permits: Arc<tokio::sync::Semaphore>,
    /// Queue times of recently joined chats, for `$WAITTIME`.
    pub recent_waits: Arc<Mutex<RecentWaits>>,
    /// Notified when an email is queued (a new ticket) or an admin retries the outbox.
    pub email_queued: Arc<Notify>,
    /// An SMTP server is saved: visitors may ask for a chat's transcript by email.
    pub email_on: Arc<AtomicBool>,
    /// A translation service is saved: agents translate without an AI provider.
    pub translation_on: Arc<AtomicBool>,
    /// Who was last given a chat by automatic assignment (round robin takes turns).
    pub turns: Arc<Turns>,
    /// Notified whenever the queue changes, so the waiting timers look again...
    pub queue_changed: Arc<Notify>,
    /// ...and the announcer tells waiting visitors where they stand.
    pub queue_moved: Arc<Notify>,
    /// What it last told them, for visitors coming back.
    pub queue_shown: Arc<crate::chat::queue::Shown>,
    /// The AI provider and what the agent holds per open chat.
    pub ai: Arc<Ai>,
    /// Notified when knowledge changes or the provider does: passages get vectors.
    pub knowledge_changed: Arc<Notify>,
    /// What the relay counts, for `/metrics`.
    pub metrics: Arc<Metrics>,
}
