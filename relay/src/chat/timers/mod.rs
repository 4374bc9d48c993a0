//! The relay's side of the waiting timers ([`crate::timers`]): which chats wait and
//! with what settings, and doing what falls due (a wait message, the "are you still
//! there?" question with its button, ending an abandoned chat).

pub mod due;

use std::collections::HashMap;

use porchlight_protocol::{ConversationStatus, Prompt};

use self::due::{Due, WaitMessages, Waiter, WaitingChat};
use super::bot::announce_prompt;
use super::events::announce_message;
use super::events::ended;
use super::queue;
use crate::hub::Change;
use crate::state::AppState;
use crate::store::{AbandonRules, Conversation, now_ms};

/// What the question says, and the button that answers it.
pub const STILL_THERE_QUESTION: &str =
    "Are you still there? Press the button to keep your place in the queue.";
pub const STILL_HERE: &str = "I'm still here";
const STILL_THERE_STEP: &str = "still_there";

/// The button the visitor answers the question with.
pub fn still_there_prompt() -> Prompt {
    Prompt {
        step_id: STILL_THERE_STEP.to_owned(),
        choices: vec![STILL_HERE.to_owned()],
        input: None,
    }
}

/// The waiting chats or their rules changed: the timers look again, here and on the
/// cluster's other nodes.
pub fn look_again(state: &AppState) {
    state.queue_changed.notify_one();
    state.hub.changed(Change::Waiting);
}

pub struct RelayWaiter {
    pub state: AppState,
}

impl RelayWaiter {
    async fn bot_name_and_waits(&self, profile: Option<i64>) -> (String, WaitMessages) {
        let flow = match profile {
            Some(id) => self
                .state
                .flows
                .get(self.state.store.as_ref(), id)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        match flow {
            Some(flow) => {
                let waiting = &flow.profile.waiting;
                (
                    flow.profile.appearance.title.clone(),
                    WaitMessages {
                        messages: waiting.messages.clone(),
                        interval_minutes: waiting.message_interval_minutes,
                        repeat: waiting.repeat_messages,
                    },
                )
            }
            None => ("Chat".to_owned(), WaitMessages::default()),
        }
    }
}

impl Waiter for RelayWaiter {
    async fn waiting(&self) -> (Vec<(WaitingChat, WaitMessages)>, AbandonRules) {
        let rules = self.state.store.abandon_rules().await.unwrap_or_default();
        let open = match self.state.store.waiting_conversations().await {
            Ok(open) => open,
            Err(err) => {
                tracing::error!(error = %err, "cannot read the waiting chats");
                return (Vec::new(), rules);
            }
        };
        let mut chats = Vec::new();
        let mut waits_by_profile: HashMap<Option<i64>, WaitMessages> = HashMap::new();
        for conversation in open {
            if conversation.status != ConversationStatus::Queued {
                continue;
            }
            let waits = match waits_by_profile.get(&conversation.profile_id) {
                Some(waits) => waits.clone(),
                None => {
                    let (_, waits) = self.bot_name_and_waits(conversation.profile_id).await;
                    waits_by_profile.insert(conversation.profile_id, waits.clone());
                    waits
                }
            };
            chats.push((waiting_chat(&conversation), waits));
        }
        (chats, rules)
    }

    async fn fire(&self, id: i64, due: Due) -> bool {
        let state = &self.state;
        let Ok(Some(conversation)) = state.store.conversation(id).await else {
            return false;
        };
        let (bot_name, waits) = self.bot_name_and_waits(conversation.profile_id).await;
        let Ok(rules) = state.store.abandon_rules().await else {
            return false;
        };
        // Read again, the chat may have moved on since it was found due (another node
        // did it, the visitor answered, an agent joined): then there is nothing to do.
        let still_due = conversation.status == ConversationStatus::Queued
            && due::next_due(&waiting_chat(&conversation), &waits, &rules)
                .is_some_and(|(at, now_due)| now_due == due && at <= self.now_ms());
        if !still_due {
            return true;
        }
        let outcome = match due {
            Due::WaitMessage { index, sent_before } => {
                let Some(text) = waits.messages.get(index) else {
                    return false;
                };
                let mut body = [text.clone()];
                queue::fill_messages(
                    state,
                    id,
                    conversation.profile_id,
                    &conversation.teams,
                    &mut body,
                )
                .await;
                let [body] = body;
                state
                    .store
                    .post_wait_message(id, bot_name, body, sent_before)
                    .await
                    .map(|posted| {
                        if let Some(message) = posted {
                            announce_message(state, &message, None);
                        }
                    })
            }
            Due::AskStillThere => state
                .store
                .ask_still_there(id, bot_name, STILL_THERE_QUESTION.to_owned())
                .await
                .map(|asked| {
                    if let Some(message) = asked {
                        announce_message(state, &message, None);
                        announce_prompt(state, id, Some(still_there_prompt()));
                    }
                }),
            Due::Abandon => {
                match state
                    .store
                    .abandon(id, rules.close_ticket, rules.ticket_categories)
                    .await
                {
                    Ok(Some((conversation, event))) => {
                        tracing::info!(conversation = id, "chat abandoned");
                        ended(state, &conversation, &event).await;
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(err) => Err(err),
                }
            }
        };
        match outcome {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(error = %err, conversation = id, "a waiting timer failed");
                false
            }
        }
    }

    fn now_ms(&self) -> i64 {
        now_ms()
    }
}

/// What the timers go by, from the stored chat.
fn waiting_chat(conversation: &Conversation) -> WaitingChat {
    WaitingChat {
        id: conversation.id,
        queued_at: conversation.queued_at.unwrap_or(conversation.created_at),
        messages_sent: conversation.wait_messages_sent,
        asked_at: conversation.still_there_asked_at,
        confirmed_at: conversation.still_there_at,
    }
}

/// The visitor answered the question: keep their place, hide the button, and let the
/// timers look again. Says whether they had been asked.
pub async fn confirm(state: &AppState, id: i64, body: &str) -> bool {
    if !body.trim().eq_ignore_ascii_case(STILL_HERE) {
        return false;
    }
    match state.store.confirm_still_there(id).await {
        Ok(true) => {
            announce_prompt(state, id, None);
            look_again(state);
            true
        }
        _ => false,
    }
}
