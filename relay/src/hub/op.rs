//! What the hub does for everyone, as a value: applied to this node's sockets and, in
//! cluster mode, sent to every other node to apply to theirs. A connection id never
//! leaves its node, so an op names conversations and agents only.

use porchlight_protocol::{AgentId, ConversationId, Seq};
use serde::{Deserialize, Serialize};

use super::Audience;
use crate::store::ChatFacts;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The frame to the conversation's followers in `audience`; `seq` when it is a
    /// stored message (those are passed on in seq order, each once).
    Publish {
        conversation: ConversationId,
        audience: Audience,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
    },
    /// The chat-list frame to every console that may see the chat.
    PublishChat {
        chat: Facts,
    },
    PublishToConsoles,
    SendToAgent {
        agent: AgentId,
    },
    Ring {
        conversation: ConversationId,
        agents: Vec<AgentId>,
    },
    StopRing {
        conversation: ConversationId,
    },
    StopRingsFor {
        agent: AgentId,
    },
    DropAgent {
        agent: AgentId,
    },
    FollowAgent {
        agent: AgentId,
        conversation: ConversationId,
        stored_up_to: Seq,
    },
    DropVisitorsOf {
        conversations: Vec<ConversationId>,
    },
    UnfollowUnseeing {
        conversation: ConversationId,
        chat: Facts,
    },
    /// Something every node keeps in memory changed here (applied here already).
    Changed {
        change: Change,
    },
}

/// What a node keeps in memory besides sockets, changed on one node: the others read
/// it again from the store or take the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Change {
    AiSettings,
    EmailSettings,
    TranslationSettings,
    /// A chat waited `queue_ms` before its first join at `joined_at` (for the wait
    /// estimates).
    Waited {
        joined_at: i64,
        queue_ms: i64,
    },
    /// The waiting chats or their rules changed: the waiting timers look again (on
    /// every node, so a node that dies leaves no timer unfired; the store lets each
    /// fire once), and each node tells its own waiting visitors their place.
    Waiting,
    /// The AI agent stops answering in the chat (it ended, or a person took it).
    AiStops {
        conversation: ConversationId,
    },
}

/// [`ChatFacts`] that own their teams, to cross to another node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    holder: Option<AgentId>,
    target_agent: Option<AgentId>,
    teams: Vec<String>,
    waiting: bool,
}

impl Facts {
    pub fn as_facts(&self) -> ChatFacts<'_> {
        ChatFacts {
            holder: self.holder,
            target_agent: self.target_agent,
            teams: &self.teams,
            waiting: self.waiting,
        }
    }
}

impl From<ChatFacts<'_>> for Facts {
    fn from(chat: ChatFacts<'_>) -> Self {
        Self {
            holder: chat.holder,
            target_agent: chat.target_agent,
            teams: chat.teams.to_vec(),
            waiting: chat.waiting,
        }
    }
}
