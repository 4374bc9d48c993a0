//! An op applied to this node's sockets: the same whether it was decided here or on
//! another node.

use porchlight_protocol::{AgentEvent, AgentId, ConversationId, to_text};

use super::op::Op;
use super::{Audience, Conn, ConnId, ConnKind, Frame, Hub, HubState, Interest};

impl Hub {
    /// Applies `op` here; `skip` is a socket of this node that is not to get `frame`.
    pub(super) fn apply(&self, op: &Op, skip: Option<ConnId>, frame: &Frame) {
        match op {
            Op::Publish {
                conversation,
                audience,
                seq,
            } => match (seq, self.link.get()) {
                (Some(seq), Some(_)) => self.pass_on_in_order(*conversation, *seq, skip, frame),
                _ => publish_to(&mut self.lock(), *conversation, *audience, skip, frame),
            },
            Op::PublishChat { chat } => offer_where(&mut self.lock(), frame, |conn| {
                conn.viewer
                    .as_ref()
                    .is_some_and(|viewer| viewer.can_see(chat.as_facts()))
            }),
            Op::PublishToConsoles => offer_where(&mut self.lock(), frame, |conn| {
                matches!(conn.kind, ConnKind::Agent(_))
            }),
            Op::SendToAgent { agent } => send_to_agent(&mut self.lock(), *agent, frame),
            Op::Ring {
                conversation,
                agents,
            } => ring(&mut self.lock(), *conversation, agents, frame),
            Op::StopRing { conversation } => stop_ring(&mut self.lock(), *conversation),
            Op::StopRingsFor { agent } => stop_rings_for(&mut self.lock(), *agent),
            Op::DropAgent { agent } => {
                let mut state = self.lock();
                for id in consoles_of(&state, *agent) {
                    remove(&mut state, id);
                }
            }
            Op::FollowAgent {
                agent,
                conversation,
                stored_up_to,
            } => {
                let consoles = consoles_of(&self.lock(), *agent);
                for id in consoles {
                    self.follow(id, *conversation, *stored_up_to);
                }
            }
            // The node that changed it applied it; the cluster module applies it on
            // the others, where it needs more than the hub.
            Op::Changed { .. } => {}
            Op::DropVisitorsOf { conversations } => {
                drop_visitors_of(&mut self.lock(), conversations)
            }
            Op::UnfollowUnseeing { conversation, chat } => {
                let mut state = self.lock();
                let Some(followers) = state.followers.get(conversation) else {
                    return;
                };
                let blind: Vec<ConnId> = followers
                    .iter()
                    .copied()
                    .filter(|id| {
                        state.conns.get(id).is_some_and(|conn| {
                            conn.viewer
                                .as_ref()
                                .is_some_and(|viewer| !viewer.can_see(chat.as_facts()))
                        })
                    })
                    .collect();
                for id in blind {
                    if let Some(conn) = state.conns.get_mut(&id) {
                        conn.following.remove(conversation);
                    }
                    unlink(&mut state, id, *conversation);
                }
            }
        }
    }
}

/// Queues `frame` for the conversation's followers in `audience`, except `skip`.
pub(super) fn publish_to(
    state: &mut HubState,
    conversation: ConversationId,
    audience: Audience,
    skip: Option<ConnId>,
    frame: &Frame,
) {
    let Some(followers) = state.followers.get(&conversation) else {
        return;
    };
    let lagging: Vec<ConnId> = followers
        .iter()
        .copied()
        .filter(|id| Some(*id) != skip)
        .filter(|id| {
            state.conns.get(id).is_some_and(|conn| {
                let wanted = match (audience, conn.kind) {
                    (Audience::Everyone, _) => true,
                    (Audience::Visitors, kind) => kind == ConnKind::Visitor,
                    (Audience::Agents, kind) => kind != ConnKind::Visitor,
                };
                wanted && !conn.outbox.offer(frame)
            })
        })
        .collect();
    for id in lagging {
        remove(state, id);
    }
}

/// Rings each of `agents` with a console here once. One with none here is not
/// recorded: in cluster mode another node rings it, and a console it opens here later
/// is rung afresh.
fn ring(state: &mut HubState, conversation: ConversationId, agents: &[AgentId], frame: &Frame) {
    for agent in agents {
        let here = state
            .conns
            .values()
            .any(|conn| conn.kind == ConnKind::Agent(*agent));
        if !here {
            continue;
        }
        let fresh = state
            .ringing
            .entry(conversation)
            .or_default()
            .insert(*agent);
        if fresh {
            send_to_agent(state, *agent, frame);
        }
    }
}

fn stop_ring(state: &mut HubState, conversation: ConversationId) {
    if let Some(agents) = state.ringing.remove(&conversation) {
        let frame = ring_stop(conversation);
        for agent in agents {
            send_to_agent(state, agent, &frame);
        }
    }
}

fn stop_rings_for(state: &mut HubState, agent: AgentId) {
    let stopped: Vec<ConversationId> = state
        .ringing
        .iter_mut()
        .filter_map(|(conversation, agents)| agents.remove(&agent).then_some(*conversation))
        .collect();
    state.ringing.retain(|_, agents| !agents.is_empty());
    for conversation in stopped {
        send_to_agent(state, agent, &ring_stop(conversation));
    }
}

fn drop_visitors_of(state: &mut HubState, conversations: &[ConversationId]) {
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
        remove(state, id);
    }
}

fn ring_stop(conversation: ConversationId) -> Frame {
    to_text(&AgentEvent::RingStop {
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

/// Removes a socket; returns its agent when it was their last console here.
pub(super) fn remove(state: &mut HubState, id: ConnId) -> Option<AgentId> {
    let conn = state.conns.remove(&id)?;
    conn.outbox.drop_socket();
    for conversation in conn.following {
        unlink(state, id, conversation);
    }
    // An agent with no console left rings nowhere; a new console rings afresh.
    let ConnKind::Agent(agent) = conn.kind else {
        return None;
    };
    let still_here = state
        .conns
        .values()
        .any(|other| other.kind == ConnKind::Agent(agent));
    if still_here {
        return None;
    }
    for agents in state.ringing.values_mut() {
        agents.remove(&agent);
    }
    state.ringing.retain(|_, agents| !agents.is_empty());
    Some(agent)
}

pub(super) fn unlink(state: &mut HubState, id: ConnId, conversation: ConversationId) {
    if let Some(followers) = state.followers.get_mut(&conversation) {
        followers.remove(&id);
        if followers.is_empty() {
            state.followers.remove(&conversation);
            state.order.remove(&conversation);
            if let Some(interest) = &state.interest {
                let _ = interest.send(Interest::Unfollow(conversation));
            }
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
