//! A change another node made to what every node keeps in memory, applied here: the
//! settings read again from the store, a wait recorded, an AI answer stopped.

use std::sync::atomic::Ordering;

use porchlight_protocol::api::ai::TranslationService;

use crate::chat::queue;
use crate::email::EmailSettings;
use crate::hub::Change;
use crate::state::AppState;
use crate::translation::TranslationSettings;

pub(super) async fn apply(state: &AppState, change: Change) {
    let store = state.store.as_ref();
    match change {
        Change::AiSettings => {
            if let Err(err) = state.ai.reload(store, &state.config.ai).await {
                tracing::error!(error = %err, "cannot read the AI settings another node saved");
            }
        }
        Change::EmailSettings => {
            let enabled = EmailSettings::load(store).await.enabled();
            state.email_on.store(enabled, Ordering::Relaxed);
        }
        Change::TranslationSettings => match TranslationSettings::read(store).await {
            Ok(settings) => state.translation_on.store(
                settings.service != TranslationService::None,
                Ordering::Relaxed,
            ),
            Err(err) => {
                tracing::error!(error = %err, "cannot read the translation settings another node saved");
            }
        },
        Change::Waited {
            joined_at,
            queue_ms,
        } => state
            .recent_waits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .record(joined_at, queue_ms),
        Change::Waiting => {
            state.queue_changed.notify_one();
            queue::moved(state);
        }
        Change::AiStops { conversation } => state.ai.forget(conversation),
    }
}
