//! The AI agent: its provider (OpenAI, Azure OpenAI, an OpenAI-compatible server, or
//! none), the prompt, and the rules for answering and handing over.

pub mod prompt;
pub mod provider;
pub mod reply;
pub mod settings;

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use porchlight_protocol::ConversationId;
pub use porchlight_protocol::api::ai::ProviderKind;
pub use provider::{AiError, Piece, Provider};
pub use reply::{AgentConfig, EscalationMode, Signal};
pub use settings::AiSettings;

use crate::store::{Store, StoreError};

/// Where the console's AI settings are stored (they win over the config file).
pub const SETTINGS_KEY: &str = "ai";

/// The provider in use, swapped when an admin saves new settings.
pub struct Ai {
    current: RwLock<(AiSettings, Option<Provider>)>,
    /// Per-chat state that lives only while the chat is open.
    chats: Mutex<HashMap<ConversationId, ChatAi>>,
}

/// What the agent remembers about one open chat. Removed when the chat ends or goes
/// to a person: nothing of it is kept.
#[derive(Debug, Default)]
struct ChatAi {
    /// Answers below the confidence threshold so far.
    failed: u32,
    /// The answer being written, cancelled by a newer question.
    answering: Option<tokio::task::AbortHandle>,
    /// Numbers the streamed answers.
    answers: u32,
}

impl Ai {
    /// The console's saved settings if any, else the config file's. Settings that
    /// cannot make a provider leave the agent without one (and say why in the log).
    pub async fn load(store: &dyn Store, file: &AiSettings) -> Result<Self, StoreError> {
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
        Ok(Self {
            current: RwLock::new((settings, provider)),
            chats: Mutex::new(HashMap::new()),
        })
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

    fn chats(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationId, ChatAi>> {
        self.chats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a new answer for the chat (`spawn` gets its number and starts the
    /// task), cancelling the one being written.
    pub fn begin_answer(
        &self,
        chat: ConversationId,
        spawn: impl FnOnce(u32) -> tokio::task::AbortHandle,
    ) {
        let mut chats = self.chats();
        let entry = chats.entry(chat).or_default();
        entry.answers += 1;
        let task = spawn(entry.answers);
        if let Some(previous) = entry.answering.replace(task) {
            previous.abort();
        }
    }

    /// Counts a low-confidence answer; returns the count so far.
    pub fn failed_attempt(&self, chat: ConversationId) -> u32 {
        let mut chats = self.chats();
        let entry = chats.entry(chat).or_default();
        entry.failed += 1;
        entry.failed
    }

    pub fn failed_so_far(&self, chat: ConversationId) -> u32 {
        self.chats().get(&chat).map_or(0, |entry| entry.failed)
    }

    /// Forgets the chat and stops any answer being written (the chat ended or went
    /// to a person).
    pub fn forget(&self, chat: ConversationId) {
        if let Some(entry) = self.chats().remove(&chat)
            && let Some(task) = entry.answering
        {
            task.abort();
        }
    }

    /// Whether anything is held for the chat.
    pub fn remembers(&self, chat: ConversationId) -> bool {
        self.chats().contains_key(&chat)
    }

    /// Drops the finished answer's handle (its task is done).
    pub fn answer_done(&self, chat: ConversationId, number: u32) {
        if let Some(entry) = self.chats().get_mut(&chat)
            && entry.answers == number
        {
            entry.answering = None;
        }
    }
}
