//! Private notes and the visitor's typing, beside the transcript they go with. Notes
//! are kept apart from messages (they take no `seq`) and merged in by time to draw.

use porchlight_protocol::sync::{Entry, Outgoing, TYPING_PULSE_MS};
use porchlight_protocol::{AgentInfo, AgentRequest, ConversationId, Note};

use super::ConsoleState;

/// One line of a chat as the agent sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Message(Entry),
    /// `pending` until the relay has stored it.
    Note {
        note: Note,
        pending: bool,
    },
}

impl Row {
    /// A key for lists: it changes once the relay has stored the row, so the line is
    /// drawn again without its pending look.
    pub fn key(&self) -> (String, u64) {
        match self {
            Row::Message(entry) => (entry.key(), entry.seq.unwrap_or(0)),
            Row::Note { note, .. } => (
                format!("n:{}", note.client_msg_id),
                u64::try_from(note.id).unwrap_or(0),
            ),
        }
    }
}

impl ConsoleState {
    /// The agent writes a private note; like a reply, it is resent after a reconnect
    /// until the relay has it.
    pub fn write_note(
        &mut self,
        id: ConversationId,
        client_msg_id: String,
        body: String,
    ) -> AgentRequest {
        let outgoing = Outgoing {
            client_msg_id,
            body,
        };
        let frame = note_frame(id, &outgoing);
        self.note_outbox.push((id, outgoing));
        self.notice = None;
        frame
    }

    /// The notes still to resend, as frames.
    pub(super) fn unsent_notes(&self) -> impl Iterator<Item = AgentRequest> + '_ {
        self.note_outbox
            .iter()
            .map(|(id, outgoing)| note_frame(*id, outgoing))
    }

    /// A stored note (new, a colleague's, or one sent again on opening the chat).
    pub(super) fn note_stored(&mut self, note: Note) {
        self.note_outbox.retain(|(id, outgoing)| {
            *id != note.conversation_id || outgoing.client_msg_id != note.client_msg_id
        });
        let notes = self.notes.entry(note.conversation_id).or_default();
        if let Err(place) = notes.binary_search_by_key(&note.id, |kept| kept.id) {
            notes.insert(place, note);
        }
    }

    /// Chat `id`'s messages and notes in the order they were written; pending ones last.
    pub fn rows(&self, id: ConversationId) -> Vec<Row> {
        let entries = self
            .transcripts
            .get(&id)
            .map(|transcript| transcript.entries())
            .unwrap_or_default();
        let mut notes = self.notes.get(&id).into_iter().flatten().peekable();
        let mut rows = Vec::with_capacity(entries.len());
        for entry in entries {
            // A pending message (no time yet) comes after every stored note.
            let until = entry.at.unwrap_or(i64::MAX);
            while let Some(note) = notes.next_if(|note| note.at <= until) {
                rows.push(Row::Note {
                    note: note.clone(),
                    pending: false,
                });
            }
            rows.push(Row::Message(entry.clone()));
        }
        rows.extend(notes.map(|note| Row::Note {
            note: note.clone(),
            pending: false,
        }));
        let me = self.me.clone().unwrap_or(AgentInfo {
            id: 0,
            name: String::new(),
        });
        rows.extend(self.note_outbox.iter().filter(|(chat, _)| *chat == id).map(
            |(_, outgoing)| Row::Note {
                note: Note {
                    id: 0,
                    conversation_id: id,
                    client_msg_id: outgoing.client_msg_id.clone(),
                    author: me.clone(),
                    body: outgoing.body.clone(),
                    at: 0,
                },
                pending: true,
            },
        ));
        rows
    }

    /// The visitor of chat `id` is typing; returns this pulse's number, which
    /// [`ConsoleState::typing_expired`] needs to clear it.
    pub(super) fn visitor_typing(&mut self, id: ConversationId) -> u32 {
        self.typing_pulses = self.typing_pulses.wrapping_add(1);
        self.typing.insert(id, self.typing_pulses);
        self.typing_pulses
    }

    /// No newer pulse came for chat `id` since `pulse`: stop showing it.
    pub fn typing_expired(&mut self, id: ConversationId, pulse: u32) {
        if self.typing.get(&id) == Some(&pulse) {
            self.typing.remove(&id);
        }
    }

    /// The frame that shows the visitor of chat `id` this agent typing, at `now` (ms
    /// since the epoch): only in a chat the agent holds, and not too often.
    pub fn typing_pulse(&mut self, id: ConversationId, now: f64) -> Option<AgentRequest> {
        let recent = self
            .typing_sent
            .is_some_and(|(last, at)| last == id && now - at < TYPING_PULSE_MS);
        if recent || !self.online || self.selected != Some(id) || !self.holds_selected() {
            return None;
        }
        self.typing_sent = Some((id, now));
        Some(AgentRequest::Typing {
            conversation_id: id,
        })
    }

    /// The visitor of the chat on screen is typing.
    pub fn selected_is_typing(&self) -> bool {
        self.selected
            .is_some_and(|id| self.typing.contains_key(&id))
    }
}

/// The frame that stores `outgoing` as a note in chat `id` (first sent or resent).
fn note_frame(id: ConversationId, outgoing: &Outgoing) -> AgentRequest {
    AgentRequest::Note {
        conversation_id: id,
        client_msg_id: outgoing.client_msg_id.clone(),
        body: outgoing.body.clone(),
    }
}
