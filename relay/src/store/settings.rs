//! The settings kept with the rows: the live-chat rules, an agent's access level, a
//! chat's upload policy and the abandoned-chat rules (whose stored shape is their
//! shape on the wire).

pub use porchlight_protocol::api::people::AbandonRules;

/// The live-chat settings (Configuration > Chat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatRules {
    /// "Prevent multiple agents from connecting to a live chat simultaneously".
    pub prevent_multiple_agents: bool,
    /// "Agents can only have one live chat open at a time" (they get no new rings).
    pub one_chat_per_agent: bool,
    /// The "new live chat display" setting: `false` rings agents; `true` shows new
    /// chats "through tickets": each waiting chat has a ticket, nothing rings, and
    /// agents join from the ticket.
    pub through_tickets: bool,
    /// Through tickets: "agent must be assigned to the linked ticket to join".
    pub ticket_agent_only: bool,
}

impl ChatRules {
    /// Room for one more chat for an agent in `active` live chats, under the
    /// one-chat rule and their own capacity (`None`: no limit). Ringing asks this of
    /// a snapshot; a join asks it again inside its write.
    pub fn has_room(self, active: usize, capacity: Option<usize>) -> bool {
        let under_rule = !self.one_chat_per_agent || active == 0;
        under_rule && capacity.is_none_or(|capacity| active < capacity)
    }
}

impl Default for ChatRules {
    fn default() -> Self {
        Self {
            prevent_multiple_agents: true,
            one_chat_per_agent: false,
            through_tickets: false,
            ticket_agent_only: false,
        }
    }
}

/// How much of the chat area an agent may see and act on ("conversation access level").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLevel {
    /// Chats they are in, and waiting chats that ring for them.
    Own,
    /// Those, and every chat of their teams.
    Team,
    All,
}

impl AccessLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Own => "own",
            Self::Team => "team",
            Self::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "own" => Some(Self::Own),
            "team" => Some(Self::Team),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentPolicy {
    Prevent,
    Allow,
    /// Only visitors the site has identified.
    Identified,
}

impl AttachmentPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prevent => "prevent",
            Self::Allow => "allow",
            Self::Identified => "identified",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "prevent" => Some(Self::Prevent),
            "allow" => Some(Self::Allow),
            "identified" => Some(Self::Identified),
            _ => None,
        }
    }
}
