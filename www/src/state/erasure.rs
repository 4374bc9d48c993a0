//! An admin erased a visitor's data: their chats leave the console at once.

use porchlight_protocol::ConversationStatus;

use super::ConsoleState;

impl ConsoleState {
    /// The selected chat's visitor, when an admin may export or erase their data now:
    /// unless the chat waits for or is with an agent (erasure refuses those).
    pub fn erasable_visitor(&self) -> Option<i64> {
        self.selected_chat()
            .filter(|chat| {
                !matches!(
                    chat.status,
                    ConversationStatus::Queued | ConversationStatus::Active
                )
            })
            .map(|chat| chat.visitor_id)
    }

    /// Forgets every chat of `visitor`, and the selection if it was one of them.
    pub fn forget_visitor(&mut self, visitor: i64) {
        let gone: Vec<_> = self
            .chats
            .values()
            .filter(|chat| chat.visitor_id == visitor)
            .map(|chat| chat.conversation_id)
            .collect();
        for id in gone {
            self.chats.remove(&id);
            self.transcripts.remove(&id);
            self.unread.remove(&id);
            self.notes.remove(&id);
            self.ringing.remove(&id);
            self.typing.remove(&id);
            if self.selected == Some(id) {
                self.selected = None;
            }
        }
    }
}
