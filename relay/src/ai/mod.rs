//! The AI agent: its provider (OpenAI, Azure OpenAI, an OpenAI-compatible server, or
//! none), the prompt, and the rules for answering and handing over.

pub mod embedder;
pub mod judge;
pub mod prompt;
pub mod provider;
pub mod reply;
pub mod sanitize;
pub mod settings;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use porchlight_protocol::ConversationId;
pub use porchlight_protocol::api::ai::ProviderKind;
pub use provider::{AiError, Piece, Provider};
pub use reply::{AgentConfig, EscalationMode, Signal};
pub use settings::AiSettings;

use crate::store::{Store, StoreError};

/// Where the console's AI settings are stored (they win over the config file).
pub const SETTINGS_KEY: &str = "ai";

/// The provider in use, swapped when an admin saves new settings, and the answers
/// being written.
pub struct Ai {
    current: RwLock<(AiSettings, Option<Provider>)>,
    /// The answer being written in each chat, cancelled by a newer question or when
    /// the chat ends or goes to a person. Nothing else about a chat is held in memory
    /// (its counts are stored), so a chat the visitor walks away from holds nothing
    /// once its last answer is written.
    answering: Mutex<HashMap<ConversationId, Answering>>,
    next_generation: AtomicU64,
    /// How many answers are being written, for [`Ai::idle`].
    writing: tokio::sync::watch::Sender<usize>,
}

struct Answering {
    task: tokio::task::AbortHandle,
    /// Tells this answer from a newer one in the same chat.
    generation: u64,
}

/// The console's saved settings if any, else the config file's, and the provider they
/// make.
async fn saved_or(
    store: &dyn Store,
    file: &AiSettings,
) -> Result<(AiSettings, Option<Provider>), StoreError> {
    let settings = match store.setting(SETTINGS_KEY).await? {
        Some(saved) => serde_json::from_str(&saved).unwrap_or_else(|err| {
            tracing::warn!(error = %err, "the saved AI settings are unreadable; using the config file's");
            file.clone()
        }),
        None => file.clone(),
    };
    let provider = Provider::from_settings(&settings).unwrap_or_else(|err| {
        tracing::warn!(error = %err, "AI provider not started");
        None
    });
    Ok((settings, provider))
}

impl Ai {
    /// The console's saved settings if any, else the config file's. Settings that
    /// cannot make a provider leave the agent without one (and say why in the log).
    pub async fn load(store: &dyn Store, file: &AiSettings) -> Result<Self, StoreError> {
        Ok(Self {
            current: RwLock::new(saved_or(store, file).await?),
            answering: Mutex::new(HashMap::new()),
            next_generation: AtomicU64::new(1),
            writing: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Uses the saved settings again (another relay of the cluster saved new ones).
    pub async fn reload(&self, store: &dyn Store, file: &AiSettings) -> Result<(), StoreError> {
        let (settings, provider) = saved_or(store, file).await?;
        self.replace(settings, provider);
        Ok(())
    }

    pub fn settings(&self) -> AiSettings {
        self.read().0.clone()
    }

    pub fn provider(&self) -> Option<Provider> {
        self.read().1.clone()
    }

    /// Uses new settings from now on (the caller has checked and stored them).
    pub fn replace(&self, settings: AiSettings, provider: Option<Provider>) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = (settings, provider);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, (AiSettings, Option<Provider>)> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn answering(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationId, Answering>> {
        self.answering
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `change` on the answers being written and publishes how many remain.
    fn change<T>(&self, change: impl FnOnce(&mut HashMap<ConversationId, Answering>) -> T) -> T {
        let mut answering = self.answering();
        let result = change(&mut answering);
        self.writing.send_replace(answering.len());
        result
    }

    /// Resolves once no answer is being written.
    pub async fn idle(&self) {
        let mut writing = self.writing.subscribe();
        let _ = writing.wait_for(|count| *count == 0).await;
    }

    /// Starts a new answer for the chat (`spawn` gets its generation and starts the
    /// task), cancelling the one being written.
    pub fn begin_answer(
        &self,
        chat: ConversationId,
        spawn: impl FnOnce(u64) -> tokio::task::AbortHandle,
    ) {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        // Spawned under the lock, so even an answer that finishes at once finds its
        // entry to remove.
        let previous = self.change(|answering| {
            let task = spawn(generation);
            answering.insert(chat, Answering { task, generation })
        });
        if let Some(previous) = previous {
            previous.task.abort();
        }
    }

    /// Forgets the chat and stops any answer being written (the chat ended or went
    /// to a person).
    pub fn forget(&self, chat: ConversationId) {
        if let Some(answering) = self.change(|answering| answering.remove(&chat)) {
            answering.task.abort();
        }
    }

    /// Whether anything is held for the chat (an answer being written).
    pub fn remembers(&self, chat: ConversationId) -> bool {
        self.answering().contains_key(&chat)
    }

    /// The answer `generation` is written: nothing is held for the chat any more
    /// (unless a newer answer has started).
    pub fn answer_done(&self, chat: ConversationId, generation: u64) {
        self.change(|answering| {
            if answering
                .get(&chat)
                .is_some_and(|current| current.generation == generation)
            {
                answering.remove(&chat);
            }
        });
    }
}
