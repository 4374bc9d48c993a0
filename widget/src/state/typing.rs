//! Typing, both ways: the agent's pulses shown for a while, the visitor's sent now
//! and then while they type. Nothing here is stored anywhere.

use porchlight_protocol::sync::TYPING_PULSE_MS;
use porchlight_protocol::words::Text;
use porchlight_protocol::{ConversationStatus, VisitorRequest};

use super::{ChatState, Link};

impl ChatState {
    /// No newer typing pulse came since `pulse`: the agent stopped.
    pub fn typing_expired(&mut self, pulse: u32) {
        if self.agent_typing == Some(pulse) {
            self.agent_typing = None;
        }
    }

    /// The line under the transcript while the agent types.
    pub fn typing_line(&self) -> Option<String> {
        self.agent_typing?;
        let conversation = self.conversation.as_ref()?;
        (conversation.status == ConversationStatus::Active).then(|| {
            let words = self.words();
            match &conversation.agent_name {
                Some(name) => words.fill(Text::IsTyping, &[("name", name)]),
                None => words.get(Text::Typing).to_owned(),
            }
        })
    }

    /// The frame that tells the agent the visitor is typing, at `now` (ms since the
    /// epoch): only in a live chat, online, and not more often than [`TYPING_PULSE_MS`].
    pub fn typing_pulse(&mut self, now: f64) -> Option<VisitorRequest> {
        let live = self.conversation.as_ref().is_some_and(|conversation| {
            matches!(
                conversation.status,
                ConversationStatus::Queued | ConversationStatus::Active
            )
        });
        if !live || self.link != Link::Online || now - self.typing_sent_at < TYPING_PULSE_MS {
            return None;
        }
        self.typing_sent_at = now;
        Some(VisitorRequest::Typing)
    }
}
