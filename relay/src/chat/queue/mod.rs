//! Tells waiting visitors where they stand (their place in line and the estimated
//! wait, as their chat profile chooses) whenever the queue moves, and fills
//! `$WAITTIME` and `$QUEUEPOSITION` in bot messages.

pub mod estimate;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

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

/// What the announcer last told the waiting visitors, and as of which move of the
/// queue: a visitor coming back to a waiting chat is told from here while the queue
/// has not moved since, so 10,000 visitors resuming at once read the queue once, not
/// once each.
#[derive(Default)]
pub struct Shown {
    /// How often the queue has moved ([`announce`]).
    moves: AtomicU64,
    last: Mutex<LastShown>,
}

#[derive(Default)]
struct LastShown {
    /// The moves the queue had made when this was worked out.
    moves: u64,
    at: Option<Instant>,
    infos: HashMap<ConversationId, QueueInfo>,
}

/// How long what was shown stands for a returning visitor without a move of the
/// queue (the estimate by the longest wait grows with time alone).
const SHOWN_STANDS: Duration = Duration::from_secs(30);

impl Shown {
    fn last(&self) -> std::sync::MutexGuard<'_, LastShown> {
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What a waiting chat was last shown, if that still stands.
    fn still_standing(&self, id: ConversationId) -> Option<QueueInfo> {
        let last = self.last();
        let current = last.moves == self.moves.load(Ordering::SeqCst)
            && last.at.is_some_and(|at| at.elapsed() < SHOWN_STANDS);
        current.then(|| last.infos.get(&id).cloned()).flatten()
    }
}

/// The queue moved (a chat queued, joined, transferred, ended): the waiting timers
/// look again and the announcer tells the waiting visitors, here and (in cluster mode)
/// on every other node.
pub async fn announce(state: &AppState) {
    super::timers::look_again(state);
    moved(state);
}

/// The queue may have moved: the announcer tells this node's waiting visitors.
pub fn moved(state: &AppState) {
    state.queue_shown.moves.fetch_add(1, Ordering::SeqCst);
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
    if let Some(info) = state.queue_shown.still_standing(conversation.id) {
        return Some(to_text(&VisitorEvent::Queue(info)));
    }
    let settings = settings_of(state, conversation.profile_id).await;
    if !settings.banner && !settings.position {
        return None;
    }
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

/// Tells each waiting visitor their place and estimate whenever the queue moves (and
/// once at start, for visitors resuming after a restart), and only when what they see
/// changes.
pub async fn run_announcer(state: AppState, stop: CancellationToken) {
    loop {
        announce_once(&state).await;
        tokio::select! {
            () = tokio::time::sleep(GATHER) => {}
            () = stop.cancelled() => return,
        }
        tokio::select! {
            () = state.queue_moved.notified() => {}
            () = stop.cancelled() => return,
        }
    }
}

/// One pass: reads the queue once, works out every place and each profile's estimate
/// once, and tells the visitors whose view changed.
async fn announce_once(state: &AppState) {
    let moves = state.queue_shown.moves.load(Ordering::SeqCst);
    let waiting = waiting_chats(state).await;
    let queue: Vec<QueuedChat> = waiting.iter().map(queued).collect();
    let places = positions(&queue);
    let now = now_ms();
    // The settings and the estimate are the same for every chat of a profile.
    let profiles: HashSet<Option<i64>> = waiting.iter().map(|chat| chat.profile_id).collect();
    let mut by_profile: HashMap<Option<i64>, (WaitSettings, Option<String>)> = HashMap::new();
    for profile in profiles {
        let settings = settings_of(state, profile).await;
        let wait = settings
            .banner
            .then(|| estimate(state, &settings, &queue, now));
        by_profile.insert(profile, (settings, wait));
    }
    let mut last = state.queue_shown.last();
    let mut still: HashMap<ConversationId, QueueInfo> = HashMap::new();
    for conversation in &waiting {
        let (settings, wait) = &by_profile[&conversation.profile_id];
        let place = || places.get(&conversation.id).copied().unwrap_or(1);
        let shown_wait = || wait.clone().unwrap_or_default();
        let Some(info) = info_for(settings, conversation.id, place, shown_wait) else {
            continue;
        };
        // Each node tells its own visitors: it is told when the queue moves elsewhere.
        if last.infos.get(&conversation.id) != Some(&info) {
            state.hub.publish_here(
                conversation.id,
                Audience::Visitors,
                to_text(&VisitorEvent::Queue(info.clone())).into(),
            );
        }
        still.insert(conversation.id, info);
    }
    *last = LastShown {
        moves,
        at: Some(Instant::now()),
        infos: still,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: ConversationId) -> QueueInfo {
        QueueInfo {
            conversation_id: id,
            position: Some(3),
            wait: Some("4".into()),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn what_was_shown_stands_until_the_queue_moves_or_time_passes() {
        let shown = Shown::default();
        assert_eq!(shown.still_standing(7), None, "nothing worked out yet");
        *shown.last() = LastShown {
            moves: 0,
            at: Some(Instant::now()),
            infos: HashMap::from([(7, info(7))]),
        };
        assert_eq!(shown.still_standing(7), Some(info(7)));
        assert_eq!(
            shown.still_standing(8),
            None,
            "not waiting at the last pass"
        );
        tokio::time::advance(SHOWN_STANDS).await;
        assert_eq!(shown.still_standing(7), None, "too old");
        shown.last().at = Some(Instant::now());
        assert_eq!(shown.still_standing(7), Some(info(7)));
        shown.moves.fetch_add(1, Ordering::SeqCst);
        assert_eq!(shown.still_standing(7), None, "the queue moved since");
    }
}
