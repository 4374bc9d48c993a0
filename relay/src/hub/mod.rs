//! Live state: which sockets are open and which conversations each one follows.
//! Durable state is in the store; after a restart the hub starts empty and clients
//! rebuild it by reconnecting and resuming from their last `seq`.
//!
//! Every socket gets a bounded queue of encoded frames (`outbox.rs`). Fan-out never
//! waits: a socket whose queue is full is dropped from the hub (its task then closes
//! it at once and the client resumes), so one slow reader cannot stall anyone else.

mod outbox;

pub use outbox::Inbox;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use porchlight_protocol::{AgentId, ConversationId};

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
}

#[derive(Default)]
pub struct Hub {
    state: Mutex<HubState>,
}

/// Who a frame about a conversation goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        (id, inbox)
    }

    pub fn disconnect(&self, id: ConnId) {
        remove(&mut self.lock(), id);
    }

    /// Drops every console socket of `agent`; each closes and the console reconnects,
    /// picking up changed teams, access or capacity.
    pub fn drop_agent(&self, agent: AgentId) {
        let mut state = self.lock();
        for id in consoles_of(&state, agent) {
            remove(&mut state, id);
        }
    }

    /// Makes every console socket of `agent` follow the conversation (it was assigned
    /// to them).
    pub fn follow_agent(&self, agent: AgentId, conversation: ConversationId) {
        let mut state = self.lock();
        for id in consoles_of(&state, agent) {
            if let Some(conn) = state.conns.get_mut(&id) {
                conn.following.insert(conversation);
            }
            state.followers.entry(conversation).or_default().insert(id);
        }
    }

    /// Drops the visitor sockets following any of `conversations` (whose visitor was
    /// erased): each closes, and the widget starts again as a new visitor.
    pub fn drop_visitors_of(&self, conversations: &[ConversationId]) {
        let mut state = self.lock();
        let ids: Vec<ConnId> = conversations
            .iter()
            .filter_map(|conversation| state.followers.get(conversation))
            .flatten()
            .copied()
            .filter(|id| {
                state
                    .conns
                    .get(id)
                    .is_some_and(|conn| conn.kind == ConnKind::Visitor)
            })
            .collect();
        for id in ids {
            remove(&mut state, id);
        }
    }

    /// Sends the socket every later frame about the conversation.
    pub fn follow(&self, id: ConnId, conversation: ConversationId) {
        let mut state = self.lock();
        let Some(conn) = state.conns.get_mut(&id) else {
            return;
        };
        conn.following.insert(conversation);
        state.followers.entry(conversation).or_default().insert(id);
    }

    pub fn unfollow(&self, id: ConnId, conversation: ConversationId) {
        let mut state = self.lock();
        if let Some(conn) = state.conns.get_mut(&id) {
            conn.following.remove(&conversation);
        }
        unlink(&mut state, id, conversation);
    }

    /// Queues `frame` for the conversation's followers in `audience`, except `skip`.
    pub fn publish(
        &self,
        conversation: ConversationId,
        audience: Audience,
        skip: Option<ConnId>,
        frame: Frame,
    ) {
        let mut state = self.lock();
        let Some(followers) = state.followers.get(&conversation) else {
            return;
        };
        let targets: Vec<ConnId> = followers
            .iter()
            .copied()
            .filter(|id| Some(*id) != skip)
            .collect();
        let mut lagging = Vec::new();
        for id in targets {
            let Some(conn) = state.conns.get(&id) else {
                continue;
            };
            let wanted = match (audience, conn.kind) {
                (Audience::Everyone, _) => true,
                (Audience::Visitors, kind) => kind == ConnKind::Visitor,
                (Audience::Agents, kind) => kind != ConnKind::Visitor,
            };
            if wanted && !conn.outbox.offer(&frame) {
                lagging.push(id);
            }
        }
        for id in lagging {
            remove(&mut state, id);
        }
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
        let mut state = self.lock();
        let Some(followers) = state.followers.get(&conversation) else {
            return;
        };
        let blind: Vec<ConnId> = followers
            .iter()
            .copied()
            .filter(|id| {
                state.conns.get(id).is_some_and(|conn| {
                    conn.viewer
                        .as_ref()
                        .is_some_and(|viewer| !viewer.can_see(chat))
                })
            })
            .collect();
        for id in blind {
            if let Some(conn) = state.conns.get_mut(&id) {
                conn.following.remove(&conversation);
            }
            unlink(&mut state, id, conversation);
        }
    }

    /// Queues a chat-list update for every console whose agent may see the chat.
    pub fn publish_chat(&self, chat: ChatFacts<'_>, frame: Frame) {
        offer_where(&mut self.lock(), &frame, |conn| {
            conn.viewer
                .as_ref()
                .is_some_and(|viewer| viewer.can_see(chat))
        });
    }

    /// Queues `frame` for every console socket, whoever is logged in.
    pub fn publish_to_consoles(&self, frame: Frame) {
        offer_where(&mut self.lock(), &frame, |conn| {
            matches!(conn.kind, ConnKind::Agent(_))
        });
    }

    /// Queues `frame` for every console socket of `agent`.
    pub fn send_to_agent(&self, agent: AgentId, frame: Frame) {
        let mut state = self.lock();
        send_to_agent(&mut state, agent, &frame);
    }

    /// Starts ringing `conversation` for `agents` (those it already rings for are
    /// left alone); `frame` is the ring frame.
    pub fn ring(&self, conversation: ConversationId, agents: &[AgentId], frame: Frame) {
        let mut state = self.lock();
        for agent in agents {
            let fresh = state
                .ringing
                .entry(conversation)
                .or_default()
                .insert(*agent);
            if fresh {
                send_to_agent(&mut state, *agent, &frame);
            }
        }
    }

    /// Stops ringing `conversation` for everyone.
    pub fn stop_ring(&self, conversation: ConversationId) {
        let mut state = self.lock();
        if let Some(agents) = state.ringing.remove(&conversation) {
            let frame = ring_stop(conversation);
            for agent in agents {
                send_to_agent(&mut state, agent, &frame);
            }
        }
    }

    /// Stops every ring for `agent` (they went offline or have no room).
    pub fn stop_rings_for(&self, agent: AgentId) {
        let mut state = self.lock();
        let stopped: Vec<ConversationId> = state
            .ringing
            .iter_mut()
            .filter_map(|(conversation, agents)| agents.remove(&agent).then_some(*conversation))
            .collect();
        state.ringing.retain(|_, agents| !agents.is_empty());
        for conversation in stopped {
            send_to_agent(&mut state, agent, &ring_stop(conversation));
        }
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

    /// Agents with at least one console socket open.
    pub fn online_agents(&self) -> HashSet<AgentId> {
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

fn ring_stop(conversation: ConversationId) -> Frame {
    porchlight_protocol::to_text(&porchlight_protocol::AgentEvent::RingStop {
        conversation_id: conversation,
    })
    .into()
}

fn send_to_agent(state: &mut HubState, agent: AgentId, frame: &Frame) {
    offer_where(state, frame, |conn| conn.kind == ConnKind::Agent(agent));
}

/// Queues `frame` for every socket `chosen` picks; drops those whose queue is full.
fn offer_where(state: &mut HubState, frame: &Frame, chosen: impl Fn(&Conn) -> bool) {
    let lagging: Vec<ConnId> = state
        .conns
        .iter()
        .filter(|(_, conn)| chosen(conn))
        .filter(|(_, conn)| !conn.outbox.offer(frame))
        .map(|(id, _)| *id)
        .collect();
    for id in lagging {
        remove(state, id);
    }
}

fn remove(state: &mut HubState, id: ConnId) {
    if let Some(conn) = state.conns.remove(&id) {
        conn.outbox.drop_socket();
        for conversation in conn.following {
            unlink(state, id, conversation);
        }
        // An agent with no console left rings nowhere; a new console rings afresh.
        if let ConnKind::Agent(agent) = conn.kind {
            let still_here = state
                .conns
                .values()
                .any(|other| other.kind == ConnKind::Agent(agent));
            if !still_here {
                for agents in state.ringing.values_mut() {
                    agents.remove(&agent);
                }
                state.ringing.retain(|_, agents| !agents.is_empty());
            }
        }
    }
}

fn unlink(state: &mut HubState, id: ConnId, conversation: ConversationId) {
    if let Some(followers) = state.followers.get_mut(&conversation) {
        followers.remove(&id);
        if followers.is_empty() {
            state.followers.remove(&conversation);
        }
    }
}

/// The console sockets of `agent`.
fn consoles_of(state: &HubState, agent: AgentId) -> Vec<ConnId> {
    state
        .conns
        .iter()
        .filter(|(_, conn)| conn.kind == ConnKind::Agent(agent))
        .map(|(id, _)| *id)
        .collect()
}

#[cfg(test)]
mod tests;
