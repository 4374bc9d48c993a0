//! Live state: which sockets are open and which conversations each one follows.
//! Durable state is in the store; after a restart the hub starts empty and clients
//! rebuild it by reconnecting and resuming from their last `seq`.
//!
//! Every socket gets a bounded queue of encoded frames (`outbox.rs`). Fan-out never
//! waits: a socket whose queue is full is dropped from the hub (its task then closes
//! it at once and the client resumes), so one slow reader cannot stall anyone else.
//!
//! What the hub does for everyone is an [`Op`] (`op.rs`), applied to this node's
//! sockets (`apply.rs`); in cluster mode it also goes to the other nodes, and theirs
//! are applied here (`shared.rs`), each conversation's messages in seq order
//! (`order.rs`).

mod apply;
mod op;
mod order;
mod outbox;
mod shared;

pub use op::{Change, Op};
pub use outbox::{Dropped, Inbox};
pub use shared::{Interest, Link, LinkEnds, NodeId};

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use porchlight_protocol::{AgentId, ConversationId, Seq};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use self::apply::{remove, unlink};
use crate::chat::ringing::rules::Viewer;
use crate::store::ChatFacts;

/// Frames queued per visitor socket before it counts as too slow...
pub const OUTBOX_FRAMES: usize = 256;
/// ...or bytes.
pub const OUTBOX_BYTES: usize = 256 * 1024;
/// Consoles get bursts (every waiting chat rings at once when an agent comes online),
/// and there are few of them: a deeper queue.
pub const AGENT_OUTBOX_FRAMES: usize = 16_384;
pub const AGENT_OUTBOX_BYTES: usize = 8 * 1024 * 1024;

/// An encoded frame, shared by every socket it goes to.
pub type Frame = Arc<str>;
pub type ConnId = u64;
/// No connection: for messages the relay itself causes (ids start at 1).
pub const NOBODY: ConnId = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnKind {
    Visitor,
    Agent(AgentId),
}

struct Conn {
    kind: ConnKind,
    outbox: outbox::Outbox,
    following: HashSet<ConversationId>,
    /// For a console that said hello: what its agent may see.
    viewer: Option<Viewer>,
}

#[derive(Default)]
struct HubState {
    next_id: ConnId,
    conns: HashMap<ConnId, Conn>,
    followers: HashMap<ConversationId, HashSet<ConnId>>,
    /// Which agents each waiting chat rings for now.
    ringing: HashMap<ConversationId, HashSet<AgentId>>,
    /// In cluster mode: the messages each followed conversation has passed on.
    order: HashMap<ConversationId, order::Order>,
    /// In cluster mode: told when a conversation gets its first follower here and when
    /// it loses its last, so the node hears its messages just while it needs them.
    interest: Option<mpsc::UnboundedSender<Interest>>,
}

#[derive(Default)]
pub struct Hub {
    state: Mutex<HubState>,
    /// The other nodes, in cluster mode.
    link: OnceLock<Link>,
}

/// Who a frame about a conversation goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Everyone,
    Visitors,
    Agents,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a socket. Frames for it arrive in the inbox; when the hub drops it
    /// (too slow), the inbox ends at once.
    pub fn connect(&self, kind: ConnKind) -> (ConnId, Inbox) {
        let (outbox, inbox) = match kind {
            ConnKind::Visitor => outbox::outbox(OUTBOX_FRAMES, OUTBOX_BYTES),
            ConnKind::Agent(_) => outbox::outbox(AGENT_OUTBOX_FRAMES, AGENT_OUTBOX_BYTES),
        };
        let mut state = self.lock();
        state.next_id += 1;
        let id = state.next_id;
        state.conns.insert(
            id,
            Conn {
                kind,
                outbox,
                following: HashSet::new(),
                viewer: None,
            },
        );
        drop(state);
        if let ConnKind::Agent(_) = kind {
            self.presence_changed();
        }
        (id, inbox)
    }

    pub fn disconnect(&self, id: ConnId) {
        let gone = remove(&mut self.lock(), id);
        if gone.is_some() {
            self.presence_changed();
        }
    }

    /// Sends the socket every later frame about the conversation. `stored_up_to` is
    /// the conversation's last seq as read before following (the socket reads those
    /// from the store): in cluster mode the messages after it are passed on in order,
    /// whichever node they come from first.
    pub fn follow(&self, id: ConnId, conversation: ConversationId, stored_up_to: Seq) {
        let linked = self.link.get().is_some();
        let mut state = self.lock();
        let Some(conn) = state.conns.get_mut(&id) else {
            return;
        };
        conn.following.insert(conversation);
        let followers = state.followers.entry(conversation).or_default();
        let first = followers.is_empty();
        followers.insert(id);
        if first && let Some(interest) = &state.interest {
            let _ = interest.send(Interest::Follow(conversation));
        }
        if linked {
            state
                .order
                .entry(conversation)
                .or_insert_with(|| order::Order::after(stored_up_to));
        }
    }

    pub fn unfollow(&self, id: ConnId, conversation: ConversationId) {
        let mut state = self.lock();
        if let Some(conn) = state.conns.get_mut(&id) {
            conn.following.remove(&conversation);
        }
        unlink(&mut state, id, conversation);
    }

    /// Drops every console socket of `agent`; each closes and the console reconnects,
    /// picking up changed teams, access or capacity.
    pub fn drop_agent(&self, agent: AgentId) {
        self.run(Op::DropAgent { agent }, None, empty());
    }

    /// Makes every console socket of `agent` follow the conversation (it was assigned
    /// to them), from the message after `stored_up_to`.
    pub fn follow_agent(&self, agent: AgentId, conversation: ConversationId, stored_up_to: Seq) {
        self.run(
            Op::FollowAgent {
                agent,
                conversation,
                stored_up_to,
            },
            None,
            empty(),
        );
    }

    /// Drops the visitor sockets following any of `conversations` (whose visitor was
    /// erased): each closes, and the widget starts again as a new visitor.
    pub fn drop_visitors_of(&self, conversations: &[ConversationId]) {
        let conversations = conversations.to_vec();
        self.run(Op::DropVisitorsOf { conversations }, None, empty());
    }

    /// Queues `frame` for the conversation's followers on this node only, in
    /// `audience` (what every node works out for its own sockets).
    pub fn publish_here(&self, conversation: ConversationId, audience: Audience, frame: Frame) {
        let op = Op::Publish {
            conversation,
            audience,
            seq: None,
        };
        self.apply(&op, None, &frame);
    }

    /// Queues `frame` for the conversation's followers in `audience`, except `skip`.
    pub fn publish(
        &self,
        conversation: ConversationId,
        audience: Audience,
        skip: Option<ConnId>,
        frame: Frame,
    ) {
        let op = Op::Publish {
            conversation,
            audience,
            seq: None,
        };
        self.run(op, skip, frame);
    }

    /// Queues stored message `seq`'s frame for everyone following its conversation,
    /// except `skip`.
    pub fn publish_message(
        &self,
        conversation: ConversationId,
        seq: Seq,
        skip: Option<ConnId>,
        frame: Frame,
    ) {
        let op = Op::Publish {
            conversation,
            audience: Audience::Everyone,
            seq: Some(seq),
        };
        self.run(op, skip, frame);
    }

    /// Tells the other nodes (in cluster mode) what changed here.
    pub fn changed(&self, change: Change) {
        self.run(Op::Changed { change }, None, empty());
    }

    /// Records what the console socket's agent may see; chat updates reach it only
    /// for chats it may see.
    pub fn set_viewer(&self, id: ConnId, viewer: Viewer) {
        if let Some(conn) = self.lock().conns.get_mut(&id) {
            conn.viewer = Some(viewer);
        }
    }

    /// Stops consoles whose agent may no longer see the chat (a colleague took it from
    /// an own-level agent) from following it.
    pub fn unfollow_unseeing(&self, conversation: ConversationId, chat: ChatFacts<'_>) {
        let chat = chat.into();
        self.run(Op::UnfollowUnseeing { conversation, chat }, None, empty());
    }

    /// Queues a chat-list update for every console whose agent may see the chat.
    pub fn publish_chat(&self, chat: ChatFacts<'_>, frame: Frame) {
        self.run(Op::PublishChat { chat: chat.into() }, None, frame);
    }

    /// Queues `frame` for every console socket, whoever is logged in.
    pub fn publish_to_consoles(&self, frame: Frame) {
        self.run(Op::PublishToConsoles, None, frame);
    }

    /// Queues `frame` for every console socket of `agent`.
    pub fn send_to_agent(&self, agent: AgentId, frame: Frame) {
        self.run(Op::SendToAgent { agent }, None, frame);
    }

    /// Starts ringing `conversation` for `agents` (those it already rings for are
    /// left alone); `frame` is the ring frame.
    pub fn ring(&self, conversation: ConversationId, agents: &[AgentId], frame: Frame) {
        let agents = agents.to_vec();
        self.run(
            Op::Ring {
                conversation,
                agents,
            },
            None,
            frame,
        );
    }

    /// Stops ringing `conversation` for everyone.
    pub fn stop_ring(&self, conversation: ConversationId) {
        self.run(Op::StopRing { conversation }, None, empty());
    }

    /// Stops every ring for `agent` (they went offline or have no room).
    pub fn stop_rings_for(&self, agent: AgentId) {
        self.run(Op::StopRingsFor { agent }, None, empty());
    }

    /// The chats ringing for `agent` now.
    pub fn rings_for(&self, agent: AgentId) -> Vec<ConversationId> {
        let state = self.lock();
        let mut rings: Vec<ConversationId> = state
            .ringing
            .iter()
            .filter(|(_, agents)| agents.contains(&agent))
            .map(|(conversation, _)| *conversation)
            .collect();
        rings.sort_unstable();
        rings
    }

    /// Agents with at least one console socket open, here or (in cluster mode) on a
    /// node heard from lately.
    pub fn online_agents(&self) -> HashSet<AgentId> {
        let mut online = self.local_agents();
        if let Some(link) = self.link.get() {
            online.extend(link.peer_agents());
        }
        online
    }

    /// Agents with at least one console socket open on this node.
    pub fn local_agents(&self) -> HashSet<AgentId> {
        self.lock()
            .conns
            .values()
            .filter_map(|conn| match conn.kind {
                ConnKind::Agent(agent) => Some(agent),
                ConnKind::Visitor => None,
            })
            .collect()
    }

    /// Open sockets, by kind: (visitors, agents).
    pub fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        let visitors = state
            .conns
            .values()
            .filter(|conn| conn.kind == ConnKind::Visitor)
            .count();
        (visitors, state.conns.len() - visitors)
    }
}

/// No frame: for ops that make their own, or none.
fn empty() -> Frame {
    Frame::from("")
}

#[cfg(test)]
mod tests;
