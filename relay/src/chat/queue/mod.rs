//! Tells waiting visitors where they stand (their place in line and the estimated
//! wait, as their chat profile chooses) whenever the queue moves, and fills
//! `$WAITTIME` and `$QUEUEPOSITION` in bot messages.

pub mod estimate;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use porchlight_protocol::{ConversationId, ConversationStatus, QueueInfo, VisitorEvent, to_text};

use crate::chat::queue::estimate::{
    QueuedChat, WaitSettings, estimate_ms, fill, minutes_text, position, positions,
};
use crate::hub::Audience;
use crate::state::AppState;
use crate::store::{Conversation, now_ms};

fn queued(conversation: &Conversation) -> QueuedChat {
    QueuedChat {
        id: conversation.id,
        queued_at: conversation.queued_at.unwrap_or(conversation.created_at),
        teams: conversation.teams.clone(),
    }
}

/// The waiting settings of a chat's profile (defaults: nothing shown).
async fn settings_of(state: &AppState, profile: Option<i64>) -> WaitSettings {
    let Some(profile) = profile else {
        return WaitSettings::default();
    };
    match state.flows.get(state.store.as_ref(), profile).await {
        Ok(Some(flow)) => flow.profile.waiting.clone(),
        _ => WaitSettings::default(),
    }
}

fn estimate(state: &AppState, settings: &WaitSettings, queue: &[QueuedChat], now: i64) -> String {
    let recent = state
        .recent_waits
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    minutes_text(estimate_ms(settings, &recent, queue, now))
}

async fn waiting_chats(state: &AppState) -> Vec<Conversation> {
    match state.store.waiting_conversations().await {
        Ok(waiting) => waiting,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the queue");
            Vec::new()
        }
    }
}

/// The queue moved (a chat queued, joined, transferred, ended): the waiting timers
/// look again and the announcer tells the waiting visitors.
pub async fn announce(state: &AppState) {
    state.queue_changed.notify_one();
    state.queue_moved.notify_one();
}

/// What a waiting chat's visitor is shown, if its profile shows anything: its place
/// and the estimate, each worked out only when shown.
fn info_for(
    settings: &WaitSettings,
    conversation: ConversationId,
    place: impl FnOnce() -> usize,
    wait: impl FnOnce() -> String,
) -> Option<QueueInfo> {
    (settings.banner || settings.position).then(|| QueueInfo {
        conversation_id: conversation,
        position: settings
            .position
            .then(|| u32::try_from(place()).unwrap_or(u32::MAX)),
        wait: settings.banner.then(wait),
    })
}

/// The frame a visitor reconnecting to a waiting chat gets at once.
pub async fn current_frame(state: &AppState, conversation: &Conversation) -> Option<String> {
    if conversation.status != ConversationStatus::Queued {
        return None;
    }
    let settings = settings_of(state, conversation.profile_id).await;
    let queue: Vec<QueuedChat> = waiting_chats(state).await.iter().map(queued).collect();
    info_for(
        &settings,
        conversation.id,
        || position(&queue, &queued(conversation)),
        || estimate(state, &settings, &queue, now_ms()),
    )
    .map(|info| to_text(&VisitorEvent::Queue(info)))
}

/// How long the announcer gathers queue changes before telling visitors, so that a
/// burst (many chats joined at once) costs one pass, not one per change.
const GATHER: Duration = Duration::from_millis(150);

/// Tells each waiting visitor their place and estimate whenever the queue moves, and
/// only when what they see changes.
pub async fn run_announcer(state: AppState, stop: CancellationToken) {
    let mut shown: HashMap<ConversationId, QueueInfo> = HashMap::new();
    loop {
        tokio::select! {
            () = state.queue_moved.notified() => {}
            () = stop.cancelled() => return,
        }
        let waiting = waiting_chats(&state).await;
        let queue: Vec<QueuedChat> = waiting.iter().map(queued).collect();
        let places = positions(&queue);
        let now = now_ms();
        // The settings and the estimate are the same for every chat of a profile.
        let profiles: HashSet<Option<i64>> = waiting.iter().map(|chat| chat.profile_id).collect();
        let mut by_profile: HashMap<Option<i64>, (WaitSettings, String)> = HashMap::new();
        for profile in profiles {
            let settings = settings_of(&state, profile).await;
            let wait = estimate(&state, &settings, &queue, now);
            by_profile.insert(profile, (settings, wait));
        }
        let mut still: HashMap<ConversationId, QueueInfo> = HashMap::new();
        for conversation in &waiting {
            let (settings, wait) = &by_profile[&conversation.profile_id];
            let place = || places.get(&conversation.id).copied().unwrap_or(1);
            let Some(info) = info_for(settings, conversation.id, place, || wait.clone()) else {
                continue;
            };
            if shown.get(&conversation.id) != Some(&info) {
                state.hub.publish(
                    conversation.id,
                    Audience::Visitors,
                    None,
                    to_text(&VisitorEvent::Queue(info.clone())).into(),
                );
            }
            still.insert(conversation.id, info);
        }
        shown = still;
        tokio::select! {
            () = tokio::time::sleep(GATHER) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Fills `$WAITTIME` and `$QUEUEPOSITION` in `messages` for a chat about to wait for
/// `teams` (its place: behind every competing chat already waiting).
pub async fn fill_messages(
    state: &AppState,
    id: ConversationId,
    profile: Option<i64>,
    teams: &[String],
    messages: &mut [String],
) {
    if !messages.iter().any(|message| message.contains('$')) {
        return;
    }
    let settings = settings_of(state, profile).await;
    let mut queue: Vec<QueuedChat> = waiting_chats(state).await.iter().map(queued).collect();
    let now = now_ms();
    let me = QueuedChat {
        id,
        queued_at: now,
        teams: teams.to_vec(),
    };
    if !queue.iter().any(|chat| chat.id == id) {
        queue.push(me.clone());
    }
    let place = position(&queue, &me);
    let wait = estimate(state, &settings, &queue, now);
    for message in messages {
        *message = fill(message, &wait, place);
    }
}

/// The estimate and place in line for one chat, as the queue stands now (its place
/// only while it waits).
pub async fn estimate_for(state: &AppState, conversation: &Conversation) -> QueueInfo {
    let settings = settings_of(state, conversation.profile_id).await;
    let queue: Vec<QueuedChat> = waiting_chats(state).await.iter().map(queued).collect();
    let waiting = conversation.status == ConversationStatus::Queued;
    QueueInfo {
        conversation_id: conversation.id,
        position: waiting
            .then(|| u32::try_from(position(&queue, &queued(conversation))).unwrap_or(u32::MAX)),
        wait: Some(estimate(state, &settings, &queue, now_ms())),
    }
}
