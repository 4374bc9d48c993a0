//! What an agent writes in a chat: replies (stored, acknowledged after COMMIT, sent to
//! the visitor), private notes (stored, sent to agents only) and typing pulses (sent
//! to the visitor, never stored).

use std::time::Instant;

use porchlight_protocol::{
    Ack, AgentEvent, Author, ConversationId, ConversationStatus, ErrorCode, Typing, VisitorEvent,
    to_text, validate_outgoing,
};

use super::{AgentSession, error, failure};
use crate::chat::events::announce_message;
use crate::hub::Audience;
use crate::store::NewMessage;
use crate::store::notes::NewNote;
use crate::ws::TYPING_EVERY;
use crate::ws::socket::Outcome;

impl AgentSession {
    pub(super) async fn send(
        &mut self,
        id: ConversationId,
        client_msg_id: String,
        body: String,
    ) -> Outcome {
        if let Err(err) = validate_outgoing(&client_msg_id, &body) {
            return Outcome::reply(to_text(&AgentEvent::Error(err)));
        }
        let appended = self
            .state
            .store
            .append_message(NewMessage::text(
                id,
                Some(client_msg_id.clone()),
                Author::Agent,
                Some(self.agent.id),
                Some(self.agent.name.clone()),
                body,
            ))
            .await;
        match appended {
            Ok(appended) => {
                if !appended.duplicate {
                    announce_message(&self.state, &appended.message, Some(self.conn));
                }
                Outcome::reply(to_text(&AgentEvent::Ack(Ack {
                    conversation_id: id,
                    client_msg_id,
                    seq: appended.message.seq,
                    at: appended.message.at,
                })))
            }
            Err(err) => failure(&err),
        }
    }

    /// A private note in a chat this agent may see, held or not (a colleague or a
    /// supervisor may leave one). It goes to the consoles following the chat only.
    pub(super) async fn note(
        &mut self,
        id: ConversationId,
        client_msg_id: String,
        body: String,
    ) -> Outcome {
        if let Err(err) = validate_outgoing(&client_msg_id, &body) {
            return Outcome::reply(to_text(&AgentEvent::Error(err)));
        }
        if let Err(refused) = self.visible(id).await {
            return refused;
        }
        let new = NewNote {
            conversation_id: id,
            client_msg_id,
            author: self.agent.info(),
            body,
        };
        match self.state.store.add_note(new).await {
            Ok((note, fresh)) => {
                let frame = to_text(&AgentEvent::Note(note));
                if fresh {
                    tracing::info!(conversation = id, agent = self.agent.id, "note added");
                    self.state.hub.publish(
                        id,
                        Audience::Agents,
                        Some(self.conn),
                        frame.clone().into(),
                    );
                }
                Outcome::reply(frame)
            }
            Err(err) => failure(&err),
        }
    }

    /// The agent in the chat is typing: the visitor sees it. Pulses closer together
    /// than [`TYPING_EVERY`] are dropped.
    pub(super) async fn typing(&mut self, id: ConversationId) -> Outcome {
        let now = Instant::now();
        if let Some((last_id, at)) = self.last_typing
            && last_id == id
            && now.duration_since(at) < TYPING_EVERY
        {
            return Outcome::default();
        }
        let conversation = match self.visible(id).await {
            Ok(conversation) => conversation,
            Err(refused) => return refused,
        };
        let holds = conversation.agent.as_ref().map(|agent| agent.id) == Some(self.agent.id);
        if !holds || conversation.status != ConversationStatus::Active {
            return Outcome::reply(error(ErrorCode::NotJoined, "Join the chat first."));
        }
        self.last_typing = Some((id, now));
        let frame = to_text(&VisitorEvent::Typing(Typing {
            conversation_id: id,
        }));
        self.state
            .hub
            .publish(id, Audience::Visitors, None, frame.into());
        Outcome::default()
    }
}
