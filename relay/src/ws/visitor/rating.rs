//! The visitor rates their chat once it has ended, as the profile asks (stars or
//! thumbs), with an optional comment; the agents' consoles show it.

use porchlight_protocol::{AgentEvent, ErrorCode, Rated, RatingScale, VisitorEvent, to_text};

use super::{VisitorSession, error};
use crate::chat::events::chat_line;
use crate::store::StoreError;
use crate::ws::socket::Outcome;
use crate::ws::store_failure;

/// The longest comment kept with a rating, in characters.
pub(super) const MAX_COMMENT_CHARS: usize = 1000;

impl VisitorSession {
    pub(super) async fn rate(&mut self, score: u8, comment: Option<String>) -> Outcome {
        if self.visitor.is_none() {
            return Outcome::reply(error(ErrorCode::HelloRequired, "Send hello first."));
        }
        let scale = self
            .flow
            .as_ref()
            .map_or(RatingScale::Off, |flow| flow.profile.rating);
        if scale.is_off() {
            return Outcome::reply(error(ErrorCode::NotAllowed, "This chat is not rated."));
        }
        if !scale.allows(score) {
            let asked = match scale {
                RatingScale::Thumbs => "Rate with 1 (thumbs down) or 5 (thumbs up).",
                _ => "Rate from 1 to 5.",
            };
            return Outcome::reply(error(ErrorCode::BadFrame, asked));
        }
        let comment = comment
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty());
        if comment
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_COMMENT_CHARS)
        {
            return Outcome::reply(error(
                ErrorCode::MessageTooLong,
                &format!("Comments are limited to {MAX_COMMENT_CHARS} characters."),
            ));
        }
        let Some(id) = self.conversation else {
            return Outcome::reply(error(ErrorCode::NotFound, "There is no chat to rate."));
        };
        match self.state.store.rate(id, score, comment).await {
            Ok(conversation) => {
                tracing::info!(conversation = id, score, "chat rated");
                let line = to_text(&AgentEvent::Chat(chat_line(&conversation)));
                self.state
                    .hub
                    .publish_chat(conversation.facts(), line.into());
                Outcome::reply(to_text(&VisitorEvent::Rated(Rated {
                    conversation_id: id,
                    score,
                })))
            }
            Err(StoreError::Conflict) => Outcome::reply(error(
                ErrorCode::NotAllowed,
                "Rate the chat once it has ended.",
            )),
            Err(err) => Outcome::reply(to_text(&VisitorEvent::Error(store_failure(&err)))),
        }
    }
}
