//! A chat the team's automatic assignment gave this agent.

use porchlight_protocol::{AgentRequest, ConversationId};

use super::ConsoleState;

impl ConsoleState {
    /// Opens the chat when the agent has none open; otherwise it waits in their list,
    /// unread, so an assignment never pulls them out of the chat they are in. (Its
    /// history loads when it is opened: the resume asks from the first gap.)
    pub fn assigned(&mut self, id: ConversationId) -> Vec<AgentRequest> {
        if self.selected.is_none() {
            return vec![self.select(id)];
        }
        if self.selected != Some(id) {
            *self.unread.entry(id).or_default() += 1;
        }
        Vec::new()
    }
}
