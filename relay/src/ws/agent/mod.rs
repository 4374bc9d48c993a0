//! The console's socket. The agent is known from the session cookie before the
//! upgrade; this file holds the session, reads its frames and opens chats; `hello.rs`
//! greets, `handling.rs` joins, transfers and ends, `writing.rs` sends replies, notes
//! and typing.

mod handling;
mod hello;
mod writing;

use std::time::Instant;

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::{
    AgentEvent, AgentRequest, ConversationId, ErrorCode, ProtocolError, Seq, parse_agent_request,
    to_text,
};

use super::socket::{Handler, Outcome, RateLimit, drive};
use super::{history, limited, store_failure};
use crate::auth::{current_agent, same_origin};
use crate::chat::ringing::rules::Viewer;
use crate::hub::{ConnId, ConnKind};
use crate::state::AppState;
use crate::store::{Agent, Conversation};

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

/// Not an `async fn`, for the reason `visitor::run` gives.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice"
)]
fn run(mut socket: WebSocket, state: AppState, agent: Agent) -> impl Future<Output = ()> + Send {
    async move {
        let (conn, mut inbox) = state.hub.connect(ConnKind::Agent(agent.id));
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
            last_typing: None,
        };
        drive(
            &mut socket,
            &mut session,
            &mut inbox,
            &state.shutdown,
            RateLimit::agent(),
            state.config.sockets,
        )
        .await;
        state.hub.disconnect(conn);
    }
}

struct AgentSession {
    state: AppState,
    conn: ConnId,
    agent: Agent,
    greeted: bool,
    /// What this agent may see; set at hello from their access level and teams.
    viewer: Viewer,
    /// The last typing pulse passed on: for which chat, and when.
    last_typing: Option<(ConversationId, Instant)>,
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
            AgentRequest::Note {
                conversation_id,
                client_msg_id,
                body,
            } => self.note(conversation_id, client_msg_id, body).await,
            AgentRequest::Typing { conversation_id } => self.typing(conversation_id).await,
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
        let conversation = match self.visible(id).await {
            Ok(conversation) => conversation,
            Err(refused) => return refused,
        };
        self.state.hub.follow(self.conn, id, conversation.last_seq);
        // The messages after `last_seq`, then every note (the console keeps each once).
        let notes = self.state.store.notes(id).await;
        match (history(&self.state, id, last_seq).await, notes) {
            (Ok(mut replies), Ok(notes)) => {
                replies.extend(
                    notes
                        .into_iter()
                        .map(|note| to_text(&AgentEvent::Note(note))),
                );
                Outcome {
                    replies,
                    close: false,
                }
            }
            (Err(err), _) | (_, Err(err)) => failure(&err),
        }
    }
}
