//! The messages a chat's changes post (joined, transferred, ended; the bot's), and a
//! message as stored: the same on every backend.

use porchlight_protocol::words::{Text, Words};
use porchlight_protocol::{Author, ChatMessage, ConversationId};

use crate::store::model::{FlowTurn, MessageKind, NewMessage};

/// A chat event's words, in English: the widget shows them in the visitor's language
/// (see `porchlight_protocol::words`).
pub(crate) fn said(text: Text, values: &[(&str, &str)]) -> String {
    Words::english().fill(text, values)
}

pub(crate) fn event(conversation_id: ConversationId, body: String) -> NewMessage {
    NewMessage {
        kind: MessageKind::Event,
        ..NewMessage::text(conversation_id, None, Author::System, None, None, body)
    }
}

/// The event that says who ended a chat.
pub(crate) fn ended_event(
    conversation_id: ConversationId,
    by: Author,
    by_name: Option<String>,
) -> NewMessage {
    let body = match (by, by_name) {
        (Author::Visitor, _) => said(Text::VisitorEnded, &[]),
        (_, Some(name)) => said(Text::EndedBy, &[("name", &name)]),
        (_, None) => said(Text::Ended, &[]),
    };
    event(conversation_id, body)
}

/// The message as stored, with its seq and time.
pub(crate) fn stored(message: &NewMessage, seq: i64, at: i64) -> ChatMessage {
    ChatMessage {
        conversation_id: message.conversation_id,
        seq: seq.try_into().unwrap_or(0),
        author: message.author,
        author_name: message.author_name.clone(),
        body: message.body.clone(),
        client_msg_id: message.client_msg_id.clone(),
        at,
        attachment: message.attachment.clone(),
        sources: message.sources.clone(),
    }
}

/// One of the turn's bot messages, at the turn's step.
pub(crate) fn bot_says(turn: &FlowTurn, conversation_id: ConversationId, body: &str) -> NewMessage {
    NewMessage {
        step_id: turn.current_step.clone(),
        ..NewMessage::text(
            conversation_id,
            None,
            Author::Bot,
            None,
            Some(turn.bot_name.clone()),
            body.to_owned(),
        )
    }
}
