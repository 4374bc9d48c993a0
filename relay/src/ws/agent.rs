//! The console's socket: hello, open, join, send, end_chat. The agent is known from
//! the session cookie before the upgrade.

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::{
    Ack, AgentEvent, AgentRequest, Author, ConversationId, ErrorCode, PROTOCOL_VERSION,
    ProtocolError, Seq, StatusInfo, parse_agent_request, to_text, validate_outgoing,
};

use super::socket::{Handler, Outcome, RateLimit, drive};
use super::{history, limited, store_failure};
use crate::auth::{current_agent, same_origin};
use crate::chat::events::{self, announce_conversation, announce_message, chat_line};
use crate::chat::ringing::rules::Viewer;
use crate::chat::{queue, ringing};
use crate::hub::{ConnId, ConnKind};
use crate::state::AppState;
use crate::store::{
    Agent, Conversation, JoinOutcome, NewMessage, Role, StoreError, TransferTarget, now_ms,
};

/// Closed chats the console lists at hello.
const RECENT_CLOSED: usize = 50;

/// `GET /ws/agent`: only for a logged-in agent, only from the console's own origin.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "The console socket only accepts its own origin.",
        )
            .into_response();
    }
    let Some(agent) = current_agent(&state, &headers).await else {
        return (StatusCode::UNAUTHORIZED, "Log in first.").into_response();
    };
    if agent.must_change_password {
        return (StatusCode::FORBIDDEN, "Choose your own password first.").into_response();
    }
    let tracker = state.tracker.clone();
    limited(ws).on_upgrade(move |socket| tracker.track_future(run(socket, state, agent)))
}

async fn run(socket: WebSocket, state: AppState, agent: Agent) {
    let (conn, mut inbox) = state.hub.connect(ConnKind::Agent(agent.id));
    let shutdown = state.shutdown.clone();
    let viewer = Viewer {
        id: agent.id,
        access: agent.access,
        teams: Default::default(),
    };
    let mut session = AgentSession {
        state: state.clone(),
        conn,
        agent,
        greeted: false,
        viewer,
    };
    drive(
        socket,
        &mut session,
        &mut inbox,
        &shutdown,
        RateLimit::agent(),
        state.config.sockets,
    )
    .await;
    state.hub.disconnect(conn);
}

struct AgentSession {
    state: AppState,
    conn: ConnId,
    agent: Agent,
    greeted: bool,
    /// What this agent may see; set at hello from their access level and teams.
    viewer: Viewer,
}

fn error(code: ErrorCode, message: &str) -> String {
    to_text(&AgentEvent::Error(ProtocolError::new(code, message)))
}

fn failure(err: &crate::store::StoreError) -> Outcome {
    Outcome::reply(to_text(&AgentEvent::Error(store_failure(err))))
}

impl Handler for AgentSession {
    async fn on_text(&mut self, text: &str) -> Outcome {
        let request = match parse_agent_request(text) {
            Ok(request) => request,
            Err(err) => return Outcome::reply(to_text(&AgentEvent::Error(err))),
        };
        if let AgentRequest::Hello { v } = request {
            return self.hello(v).await;
        }
        if !self.greeted {
            return Outcome::reply(error(ErrorCode::HelloRequired, "Send hello first."));
        }
        match request {
            AgentRequest::Hello { .. } => Outcome::default(),
            AgentRequest::Open {
                conversation_id,
                last_seq,
            } => self.open(conversation_id, last_seq).await,
            AgentRequest::Join { conversation_id } => self.join(conversation_id).await,
            AgentRequest::Send {
                conversation_id,
                client_msg_id,
                body,
            } => self.send(conversation_id, client_msg_id, body).await,
            AgentRequest::EndChat { conversation_id } => self.end_chat(conversation_id).await,
            AgentRequest::SetStatus { status_id } => self.set_status(status_id).await,
            AgentRequest::SetVisitorUploads {
                conversation_id,
                allowed,
            } => self.set_visitor_uploads(conversation_id, allowed).await,
            AgentRequest::Transfer {
                conversation_id,
                to_team,
                to_agent,
            } => self.transfer(conversation_id, to_team, to_agent).await,
        }
    }

    fn error_frame(&self, error: ProtocolError) -> String {
        to_text(&AgentEvent::Error(error))
    }
}

impl AgentSession {
    async fn hello(&mut self, v: u32) -> Outcome {
        if self.greeted {
            return Outcome::reply(error(
                ErrorCode::HelloRequired,
                "hello was already sent on this socket.",
            ));
        }
        if v != PROTOCOL_VERSION {
            return Outcome::fatal(error(
                ErrorCode::UnsupportedVersion,
                &format!(
                    "This relay speaks protocol version {PROTOCOL_VERSION}; reload the console."
                ),
            ));
        }
        let store = &self.state.store;
        let (statuses, snapshots) = match (store.statuses().await, store.agent_snapshots().await) {
            (Ok(statuses), Ok(snapshots)) => (statuses, snapshots),
            (Err(err), _) | (_, Err(err)) => return failure(&err),
        };
        if let Some(me) = snapshots
            .iter()
            .find(|snapshot| snapshot.id == self.agent.id)
        {
            self.viewer.teams = me
                .teams
                .iter()
                .map(|team| team.to_ascii_lowercase())
                .collect();
        }
        self.state.hub.set_viewer(self.conn, self.viewer.clone());
        // Open chats and the latest closed ones (for the "closed" filter).
        let chats = match (
            store.open_conversations().await,
            store.recent_ended(RECENT_CLOSED).await,
        ) {
            (Ok(open), Ok(ended)) => open
                .iter()
                .chain(&ended)
                .filter(|conversation| self.viewer.can_see(conversation.facts()))
                .map(chat_line)
                .collect(),
            (Err(err), _) | (_, Err(err)) => return failure(&err),
        };
        let status_id = snapshots
            .iter()
            .find(|snapshot| snapshot.id == self.agent.id)
            .and_then(|snapshot| snapshot.status_id);
        let teams = match store.team_names().await {
            Ok(teams) => teams,
            Err(err) => return failure(&err),
        };
        let agents = snapshots
            .iter()
            .map(|snapshot| porchlight_protocol::AgentInfo {
                id: snapshot.id,
                name: snapshot.name.clone(),
            })
            .collect();
        self.greeted = true;
        // Waiting chats ring for this console as frames after the welcome.
        ringing::ring_waiting_for(&self.state, self.agent.id).await;
        Outcome::reply(to_text(&AgentEvent::Welcome {
            v: PROTOCOL_VERSION,
            agent: self.agent.info(),
            chats,
            statuses: statuses
                .into_iter()
                .map(|status| StatusInfo {
                    id: status.id,
                    name: status.name,
                    online: status.counts_online,
                })
                .collect(),
            status_id,
            teams,
            agents,
            my_teams: snapshots
                .iter()
                .find(|snapshot| snapshot.id == self.agent.id)
                .map(|snapshot| snapshot.teams.clone())
                .unwrap_or_default(),
            can_toggle_uploads: self.agent.can_toggle_uploads || self.agent.role == Role::Admin,
        }))
    }

    async fn transfer(
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
                ringing::ring_chat(&self.state, &conversation).await;
                ringing::ring_waiting_for(&self.state, self.agent.id).await;
                queue::announce(&self.state).await;
                Outcome::default()
            }
            Err(err) => failure(&err),
        }
    }

    async fn set_status(&mut self, status_id: i64) -> Outcome {
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
    async fn set_visitor_uploads(&mut self, id: ConversationId, allowed: bool) -> Outcome {
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

    /// The conversation, if it exists and this agent may see it (to everyone else it
    /// does not exist).
    async fn visible(&self, id: ConversationId) -> Result<Conversation, Outcome> {
        match self.state.store.conversation(id).await {
            Ok(Some(conversation)) if self.viewer.can_see(conversation.facts()) => Ok(conversation),
            Ok(_) => Err(Outcome::reply(error(
                ErrorCode::NotFound,
                "No such conversation.",
            ))),
            Err(err) => Err(failure(&err)),
        }
    }

    async fn open(&mut self, id: ConversationId, last_seq: Seq) -> Outcome {
        if let Err(refused) = self.visible(id).await {
            return refused;
        }
        self.state.hub.follow(self.conn, id);
        match history(&self.state, id, last_seq).await {
            Ok(replies) => Outcome {
                replies,
                close: false,
            },
            Err(err) => failure(&err),
        }
    }

    async fn join(&mut self, id: ConversationId) -> Outcome {
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
                // The first join ends the chat's queue time (a transfer keeps the first).
                if let (Some(joined_at), Some(queue_ms)) =
                    (conversation.agent_joined_at, conversation.queue_ms)
                    && joined_at >= asked_at
                {
                    self.state
                        .recent_waits
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .record(joined_at, queue_ms);
                    self.state.metrics.chat_joined(queue_ms);
                }
                self.state.hub.follow(self.conn, id);
                self.state
                    .hub
                    .unfollow_unseeing(conversation.id, conversation.facts());
                announce_message(&self.state, &event, None);
                announce_conversation(&self.state.hub, &conversation);
                ringing::taken(&self.state, id, self.agent.id).await;
                queue::announce(&self.state).await;
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

    async fn send(&mut self, id: ConversationId, client_msg_id: String, body: String) -> Outcome {
        if let Err(err) = validate_outgoing(&client_msg_id, &body) {
            return Outcome::reply(to_text(&AgentEvent::Error(err)));
        }
        let appended = self
            .state
            .store
            .append_message(NewMessage::text(
                id,
                Some(client_msg_id.clone()),
                Author::Agent,
                Some(self.agent.id),
                Some(self.agent.name.clone()),
                body,
            ))
            .await;
        match appended {
            Ok(appended) => {
                if !appended.duplicate {
                    announce_message(&self.state, &appended.message, Some(self.conn));
                }
                Outcome::reply(to_text(&AgentEvent::Ack(Ack {
                    conversation_id: id,
                    client_msg_id,
                    seq: appended.message.seq,
                    at: appended.message.at,
                })))
            }
            Err(err) => failure(&err),
        }
    }

    async fn end_chat(&mut self, id: ConversationId) -> Outcome {
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
                self.state.hub.follow(self.conn, id);
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
}
