//! Live state: which sockets are open and which conversations each one follows.
//! Durable state is in the store; after a restart the hub starts empty and clients
//! rebuild it by reconnecting and resuming from their last `seq`.
//!
//! Every socket gets a bounded queue of encoded frames. Fan-out never waits: a socket
//! whose queue is full is dropped from the hub (its task then closes it and the client
//! resumes), so one slow reader cannot stall anyone else.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use porchlight_protocol::{AgentId, ConversationId};

use crate::chat::ringing::rules::Viewer;
use crate::store::ChatFacts;
use tokio::sync::mpsc;

/// Frames queued per visitor socket before it counts as too slow.
pub const OUTBOX_FRAMES: usize = 256;
/// Consoles get bursts (every waiting chat rings at once when an agent comes online),
/// and there are few of them: a deeper queue.
pub const AGENT_OUTBOX_FRAMES: usize = 16_384;

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
    outbox: mpsc::Sender<Frame>,
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

    /// Registers a socket. Frames for it arrive on the receiver; when the hub drops it
    /// (too slow), the receiver ends.
    pub fn connect(&self, kind: ConnKind) -> (ConnId, mpsc::Receiver<Frame>) {
        let depth = match kind {
            ConnKind::Visitor => OUTBOX_FRAMES,
            ConnKind::Agent(_) => AGENT_OUTBOX_FRAMES,
        };
        let (outbox, inbox) = mpsc::channel(depth);
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
        let ids: Vec<ConnId> = state
            .conns
            .iter()
            .filter(|(_, conn)| conn.kind == ConnKind::Agent(agent))
            .map(|(id, _)| *id)
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
            if wanted && conn.outbox.try_send(Arc::clone(&frame)).is_err() {
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
        let mut state = self.lock();
        let lagging: Vec<ConnId> = state
            .conns
            .iter()
            .filter(|(_, conn)| {
                conn.viewer
                    .as_ref()
                    .is_some_and(|viewer| viewer.can_see(chat))
            })
            .filter(|(_, conn)| conn.outbox.try_send(Arc::clone(&frame)).is_err())
            .map(|(id, _)| *id)
            .collect();
        for id in lagging {
            remove(&mut state, id);
        }
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
    let lagging: Vec<ConnId> = state
        .conns
        .iter()
        .filter(|(_, conn)| conn.kind == ConnKind::Agent(agent))
        .filter(|(_, conn)| conn.outbox.try_send(Arc::clone(frame)).is_err())
        .map(|(id, _)| *id)
        .collect();
    for id in lagging {
        remove(state, id);
    }
}

fn remove(state: &mut HubState, id: ConnId) {
    if let Some(conn) = state.conns.remove(&id) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> Frame {
        Arc::from(text)
    }

    #[test]
    fn followers_get_frames_for_their_conversations_only() {
        let hub = Hub::default();
        let (visitor, mut visitor_rx) = hub.connect(ConnKind::Visitor);
        let (agent, mut agent_rx) = hub.connect(ConnKind::Agent(1));
        let (_other, mut other_rx) = hub.connect(ConnKind::Visitor);
        hub.follow(visitor, 7);
        hub.follow(agent, 7);
        hub.publish(7, Audience::Everyone, None, frame("a"));
        hub.publish(7, Audience::Visitors, None, frame("v"));
        hub.publish(7, Audience::Agents, None, frame("g"));
        hub.publish(8, Audience::Everyone, None, frame("elsewhere"));
        hub.publish(7, Audience::Everyone, Some(visitor), frame("not-echoed"));
        assert_eq!(&*visitor_rx.try_recv().unwrap(), "a");
        assert_eq!(&*visitor_rx.try_recv().unwrap(), "v");
        assert!(visitor_rx.try_recv().is_err());
        assert_eq!(&*agent_rx.try_recv().unwrap(), "a");
        assert_eq!(&*agent_rx.try_recv().unwrap(), "g");
        assert_eq!(&*agent_rx.try_recv().unwrap(), "not-echoed");
        assert!(other_rx.try_recv().is_err());
    }

    #[test]
    fn a_socket_that_falls_behind_is_dropped_and_others_still_get_frames() {
        let hub = Hub::default();
        let (slow, mut slow_rx) = hub.connect(ConnKind::Visitor);
        let (fast, mut fast_rx) = hub.connect(ConnKind::Visitor);
        hub.follow(slow, 7);
        hub.follow(fast, 7);
        for n in 0..=OUTBOX_FRAMES {
            hub.publish(7, Audience::Everyone, None, frame(&n.to_string()));
            assert_eq!(&*fast_rx.try_recv().unwrap(), n.to_string());
        }
        assert_eq!(hub.counts(), (1, 0), "the slow visitor was dropped");
        let mut drained = 0;
        while slow_rx.try_recv().is_ok() {
            drained += 1;
        }
        assert_eq!(drained, OUTBOX_FRAMES);
        assert!(
            slow_rx.is_closed(),
            "the dropped socket's queue ends, so its task closes it"
        );
    }

    #[test]
    fn chat_updates_reach_only_consoles_that_may_see_the_chat() {
        use crate::store::AccessLevel;
        let hub = Hub::default();
        let (support, mut support_rx) = hub.connect(ConnKind::Agent(1));
        let (sales, mut sales_rx) = hub.connect(ConnKind::Agent(2));
        let (_greeting, mut greeting_rx) = hub.connect(ConnKind::Agent(3));
        hub.set_viewer(
            support,
            Viewer {
                id: 1,
                access: AccessLevel::Team,
                teams: ["support".to_owned()].into(),
            },
        );
        hub.set_viewer(
            sales,
            Viewer {
                id: 2,
                access: AccessLevel::Team,
                teams: ["sales".to_owned()].into(),
            },
        );
        let teams = ["Support".to_owned()];
        let chat = ChatFacts {
            holder: None,
            target_agent: None,
            teams: &teams,
            waiting: true,
        };
        hub.publish_chat(chat, frame("support chat"));
        assert_eq!(&*support_rx.try_recv().unwrap(), "support chat");
        assert!(sales_rx.try_recv().is_err(), "another team's chat");
        assert!(
            greeting_rx.try_recv().is_err(),
            "a console that has not said hello"
        );
    }

    #[test]
    fn rings_reach_only_their_agents_and_stop_for_everyone_at_once() {
        let hub = Hub::default();
        let (_, mut ana) = hub.connect(ConnKind::Agent(1));
        let (_, mut ana_tab) = hub.connect(ConnKind::Agent(1));
        let (_, mut bo) = hub.connect(ConnKind::Agent(2));
        let (_, mut cy) = hub.connect(ConnKind::Agent(3));
        hub.ring(7, &[1, 2], frame("ring 7"));
        hub.ring(7, &[1], frame("ring 7 again"));
        for rx in [&mut ana, &mut ana_tab, &mut bo] {
            assert_eq!(&*rx.try_recv().unwrap(), "ring 7");
            assert!(rx.try_recv().is_err(), "a ring is sent once");
        }
        assert!(cy.try_recv().is_err());
        assert_eq!(hub.rings_for(2), [7]);
        hub.stop_ring(7);
        assert_eq!(
            &*ana.try_recv().unwrap(),
            r#"{"type":"ring_stop","conversation_id":7}"#
        );
        assert_eq!(
            &*bo.try_recv().unwrap(),
            r#"{"type":"ring_stop","conversation_id":7}"#
        );
        assert!(hub.rings_for(2).is_empty());

        hub.ring(8, &[1, 2], frame("ring 8"));
        hub.ring(9, &[2], frame("ring 9"));
        while bo.try_recv().is_ok() {}
        hub.stop_rings_for(2);
        let mut stopped = [bo.try_recv().unwrap(), bo.try_recv().unwrap()];
        stopped.sort();
        assert_eq!(&*stopped[0], r#"{"type":"ring_stop","conversation_id":8}"#);
        assert_eq!(&*stopped[1], r#"{"type":"ring_stop","conversation_id":9}"#);
        assert_eq!(hub.rings_for(1), [8], "others still ring");
    }

    #[test]
    fn disconnect_and_unfollow_stop_delivery() {
        let hub = Hub::default();
        let (a, mut a_rx) = hub.connect(ConnKind::Agent(1));
        let (b, mut b_rx) = hub.connect(ConnKind::Agent(2));
        hub.follow(a, 1);
        hub.follow(b, 1);
        hub.unfollow(a, 1);
        hub.disconnect(b);
        hub.publish(1, Audience::Everyone, None, frame("x"));
        assert!(a_rx.try_recv().is_err());
        assert!(b_rx.try_recv().is_err());
        let everything = Viewer {
            id: 1,
            access: crate::store::AccessLevel::All,
            teams: Default::default(),
        };
        hub.set_viewer(a, everything);
        let chat = ChatFacts {
            holder: None,
            target_agent: None,
            teams: &[],
            waiting: true,
        };
        hub.publish_chat(chat, frame("list"));
        assert_eq!(&*a_rx.try_recv().unwrap(), "list");
        assert_eq!(hub.counts(), (0, 1));
    }
}
