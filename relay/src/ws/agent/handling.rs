//! What an agent does with a chat: join it, transfer it, end it, switch its visitor
//! uploads; and their own status.

use porchlight_protocol::{AgentEvent, Author, ConversationId, ErrorCode, to_text};

use super::{AgentSession, error, failure};
use crate::chat::events::{self, announce_conversation, announce_message};
use crate::chat::{queue, ringing};
use crate::store::{JoinOutcome, Role, StoreError, TransferTarget, now_ms};
use crate::ws::socket::Outcome;

impl AgentSession {
    pub(super) async fn join(&mut self, id: ConversationId) -> Outcome {
        if let Err(refused) = self.visible(id).await {
            return refused;
        }
        let rules = match self.state.store.chat_rules().await {
            Ok(rules) => rules,
            Err(err) => return failure(&err),
        };
        let asked_at = now_ms();
        match self.state.store.join(id, self.agent.info(), rules).await {
            Ok(JoinOutcome::Joined(joined)) => {
                let (conversation, event) = *joined;
                tracing::info!(conversation = id, agent = self.agent.id, "agent joined");
                self.state
                    .hub
                    .follow(self.conn, id, event.seq.saturating_sub(1));
                events::joined(&self.state, &conversation, &event, self.agent.id, asked_at).await;
                Outcome::reply(to_text(&AgentEvent::Joined {
                    conversation_id: id,
                }))
            }
            Ok(JoinOutcome::Taken) => Outcome::reply(error(
                ErrorCode::AlreadyTaken,
                "Another agent has already joined this chat.",
            )),
            Ok(JoinOutcome::Ended) => Outcome::reply(error(
                ErrorCode::ConversationEnded,
                "This conversation has ended.",
            )),
            Ok(JoinOutcome::AtCapacity) => Outcome::reply(error(
                ErrorCode::AtCapacity,
                "You already have as many chats as you can take; finish one first.",
            )),
            Ok(JoinOutcome::NotTicketAgent) => Outcome::reply(error(
                ErrorCode::NotAllowed,
                "Only the agent assigned to this chat's ticket can join it.",
            )),
            Ok(JoinOutcome::NotQueued) => Outcome::reply(error(
                ErrorCode::NotFound,
                "This chat is still with the bot, not waiting for an agent.",
            )),
            Ok(JoinOutcome::NotFound) => {
                Outcome::reply(error(ErrorCode::NotFound, "No such conversation."))
            }
            Err(err) => failure(&err),
        }
    }

    pub(super) async fn transfer(
        &mut self,
        id: ConversationId,
        to_team: Option<String>,
        to_agent: Option<i64>,
    ) -> Outcome {
        let store = &self.state.store;
        let target = match (to_team, to_agent) {
            (Some(team), None) if !team.trim().is_empty() => TransferTarget::Team(team),
            (None, Some(agent)) => match store.agent_snapshots().await {
                Ok(snapshots) => {
                    match snapshots.into_iter().find(|snapshot| snapshot.id == agent) {
                        Some(found) => TransferTarget::Agent(porchlight_protocol::AgentInfo {
                            id: found.id,
                            name: found.name,
                        }),
                        None => {
                            return Outcome::reply(error(ErrorCode::NotFound, "No such agent."));
                        }
                    }
                }
                Err(err) => return failure(&err),
            },
            _ => {
                return Outcome::reply(error(
                    ErrorCode::BadFrame,
                    "Transfer to exactly one of to_team or to_agent.",
                ));
            }
        };
        let by_admin = self.agent.role == Role::Admin;
        match store
            .transfer(id, self.agent.info(), by_admin, target)
            .await
        {
            Ok((conversation, event)) => {
                tracing::info!(conversation = id, agent = self.agent.id, "chat transferred");
                self.state
                    .hub
                    .unfollow_unseeing(conversation.id, conversation.facts());
                announce_message(&self.state, &event, None);
                announce_conversation(&self.state.hub, &conversation);
                ringing::ring_transferred(&self.state, &conversation, self.agent.id).await;
                queue::announce(&self.state).await;
                Outcome::default()
            }
            Err(err) => failure(&err),
        }
    }

    pub(super) async fn end_chat(&mut self, id: ConversationId) -> Outcome {
        let conversation = match self.state.store.conversation(id).await {
            Ok(Some(conversation)) => conversation,
            Ok(None) => return Outcome::reply(error(ErrorCode::NotFound, "No such conversation.")),
            Err(err) => return failure(&err),
        };
        let holds = conversation.agent.as_ref().map(|agent| agent.id) == Some(self.agent.id);
        if !holds && self.agent.role != Role::Admin {
            return Outcome::reply(error(
                ErrorCode::NotJoined,
                "Only the agent in the chat (or an admin) can end it.",
            ));
        }
        match self
            .state
            .store
            .end(id, Author::Agent, Some(self.agent.name.clone()))
            .await
        {
            Ok(Some((conversation, event))) => {
                tracing::info!(
                    conversation = id,
                    agent = self.agent.id,
                    "conversation ended by agent"
                );
                self.state
                    .hub
                    .follow(self.conn, id, event.seq.saturating_sub(1));
                events::ended(&self.state, &conversation, &event).await;
                Outcome::default()
            }
            Ok(None) => Outcome::reply(error(
                ErrorCode::ConversationEnded,
                "This conversation has already ended.",
            )),
            Err(err) => failure(&err),
        }
    }
    pub(super) async fn set_status(&mut self, status_id: i64) -> Outcome {
        match self
            .state
            .store
            .set_agent_status(self.agent.id, status_id)
            .await
        {
            Ok(status) => {
                tracing::info!(agent = self.agent.id, status = %status.name, "status changed");
                ringing::ring_waiting_for(&self.state, self.agent.id).await;
                Outcome::reply(to_text(&AgentEvent::MyStatus { status_id }))
            }
            Err(StoreError::NotFound) => {
                Outcome::reply(error(ErrorCode::NotFound, "No such status."))
            }
            Err(err) => failure(&err),
        }
    }

    /// Lets the visitor send files in a chat this agent holds, or stops them. Needs the
    /// "can toggle visitor uploads" permission (admins have it) and a profile that lets
    /// agents override its policy.
    pub(super) async fn set_visitor_uploads(
        &mut self,
        id: ConversationId,
        allowed: bool,
    ) -> Outcome {
        let conversation = match self.visible(id).await {
            Ok(conversation) => conversation,
            Err(refused) => return refused,
        };
        let admin = self.agent.role == Role::Admin;
        let holds = conversation.agent.as_ref().map(|agent| agent.id) == Some(self.agent.id);
        if !holds && !admin {
            return Outcome::reply(error(ErrorCode::NotJoined, "Join the chat first."));
        }
        if !conversation.uploads_switchable {
            return Outcome::reply(error(
                ErrorCode::NotAllowed,
                "This chat's profile does not let agents change visitor uploads.",
            ));
        }
        if !self.agent.can_toggle_uploads && !admin {
            return Outcome::reply(error(
                ErrorCode::NotAllowed,
                "You do not have the permission to switch visitor uploads.",
            ));
        }
        match self
            .state
            .store
            .set_visitor_uploads(id, Some(allowed))
            .await
        {
            Ok(conversation) => {
                tracing::info!(
                    conversation = id,
                    agent = self.agent.id,
                    allowed,
                    "visitor uploads switched"
                );
                announce_conversation(&self.state.hub, &conversation);
                Outcome::default()
            }
            Err(err) => failure(&err),
        }
    }
}
