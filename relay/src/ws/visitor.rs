//! The widget's socket: hello, send, end_chat.

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::{
    Author, ConversationId, ConversationState, ConversationStatus, ErrorCode, PROTOCOL_VERSION,
    PageInfo, ProtocolError, Resume, VisitorEvent, VisitorRequest, parse_visitor_request, to_text,
    validate_outgoing,
};

use super::socket::{Handler, Outcome, RateLimit, drive};
use super::{announce_conversation, announce_message, history, limited, store_failure};
use crate::auth::{is_token, random_token, same_origin, token_hash};
use crate::hub::{ConnId, ConnKind};
use crate::server::AppState;
use crate::store::{MessageKind, NewConversation, NewMessage, Site, StoreError, Visitor};

/// The longest page URL or referrer kept for the agent's context panel.
const MAX_PAGE_FIELD: usize = 2048;

/// `GET /ws/visitor`. The widget runs in the relay's own origin (an iframe), so a
/// browser socket from anywhere else is refused.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "The widget socket only accepts the relay's own origin.",
        )
            .into_response();
    }
    let tracker = state.tracker.clone();
    limited(ws).on_upgrade(move |socket| tracker.track_future(run(socket, state)))
}

async fn run(socket: WebSocket, state: AppState) {
    let (conn, mut inbox) = state.hub.connect(ConnKind::Visitor);
    let shutdown = state.shutdown.clone();
    let mut session = VisitorSession {
        state: state.clone(),
        conn,
        visitor: None,
        conversation: None,
        page: None,
    };
    drive(
        socket,
        &mut session,
        &mut inbox,
        &shutdown,
        RateLimit::visitor(),
    )
    .await;
    state.hub.disconnect(conn);
}

struct VisitorSession {
    state: AppState,
    conn: ConnId,
    visitor: Option<(Site, Visitor)>,
    /// The conversation this socket follows (the visitor's latest).
    conversation: Option<ConversationId>,
    page: Option<PageInfo>,
}

fn error(code: ErrorCode, message: &str) -> String {
    to_text(&VisitorEvent::Error(ProtocolError::new(code, message)))
}

fn clip(text: String) -> String {
    if text.len() <= MAX_PAGE_FIELD {
        return text;
    }
    let mut end = MAX_PAGE_FIELD;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

impl Handler for VisitorSession {
    async fn on_text(&mut self, text: &str) -> Outcome {
        let request = match parse_visitor_request(text) {
            Ok(request) => request,
            Err(err) => return Outcome::reply(to_text(&VisitorEvent::Error(err))),
        };
        match request {
            VisitorRequest::Hello {
                v,
                site,
                token,
                resume,
                page,
            } => self.hello(v, &site, token, resume, page).await,
            VisitorRequest::Send {
                client_msg_id,
                body,
            } => self.send(client_msg_id, body).await,
            VisitorRequest::EndChat => self.end_chat().await,
        }
    }

    fn error_frame(&self, error: ProtocolError) -> String {
        to_text(&VisitorEvent::Error(error))
    }
}

impl VisitorSession {
    async fn hello(
        &mut self,
        v: u32,
        site_key: &str,
        token: Option<String>,
        resume: Option<Resume>,
        page: Option<PageInfo>,
    ) -> Outcome {
        if self.visitor.is_some() {
            return Outcome::reply(error(
                ErrorCode::HelloRequired,
                "hello was already sent on this socket.",
            ));
        }
        if v != PROTOCOL_VERSION {
            return Outcome::fatal(error(
                ErrorCode::UnsupportedVersion,
                &format!("This relay speaks protocol version {PROTOCOL_VERSION}; reload the page."),
            ));
        }
        let store = &self.state.store;
        let site = match store.site_by_key(site_key).await {
            Ok(Some(site)) => site,
            Ok(None) => {
                return Outcome::fatal(error(
                    ErrorCode::UnknownSite,
                    "No site has this key; check data-site on the script tag.",
                ));
            }
            Err(err) => return Outcome::fatal(to_text(&VisitorEvent::Error(store_failure(&err)))),
        };
        let known = match token.as_deref().filter(|token| is_token(token)) {
            Some(token) => match store.visitor_by_token(site.id, &token_hash(token)).await {
                Ok(found) => found.map(|visitor| (token.to_owned(), visitor)),
                Err(err) => {
                    return Outcome::fatal(to_text(&VisitorEvent::Error(store_failure(&err))));
                }
            },
            None => None,
        };
        let (token, visitor) = match known {
            Some(known) => known,
            None => {
                let token = random_token();
                match store.create_visitor(site.id, token_hash(&token)).await {
                    Ok(visitor) => (token, visitor),
                    Err(err) => {
                        return Outcome::fatal(to_text(&VisitorEvent::Error(store_failure(&err))));
                    }
                }
            }
        };
        let latest = match store.latest_conversation(visitor.id).await {
            Ok(latest) => latest,
            Err(err) => return Outcome::fatal(to_text(&VisitorEvent::Error(store_failure(&err)))),
        };
        self.page = page.map(|page| PageInfo {
            url: clip(page.url),
            referrer: clip(page.referrer),
        });
        self.visitor = Some((site, visitor));
        let mut replies = Vec::new();
        let conversation = latest.map(|latest| {
            // Follow before reading history: a message stored in between then arrives
            // twice (the client dedupes by seq) rather than never.
            if latest.status != ConversationStatus::Ended {
                self.state.hub.follow(self.conn, latest.id);
            }
            self.conversation = Some(latest.id);
            ConversationState {
                id: latest.id,
                status: latest.status,
                agent_name: latest.agent.as_ref().map(|agent| agent.name.clone()),
                last_seq: latest.last_seq,
            }
        });
        let after = match (&conversation, resume) {
            (Some(current), Some(resume)) if resume.conversation_id == current.id => {
                resume.last_seq
            }
            _ => 0,
        };
        let current = conversation.as_ref().map(|current| current.id);
        replies.push(to_text(&VisitorEvent::Welcome {
            v: PROTOCOL_VERSION,
            token,
            conversation,
        }));
        if let Some(id) = current {
            match history(&self.state, id, after).await {
                Ok(frames) => replies.extend(frames),
                Err(err) => replies.push(to_text(&VisitorEvent::Error(store_failure(&err)))),
            }
        }
        Outcome {
            replies,
            close: false,
        }
    }

    async fn send(&mut self, client_msg_id: String, body: String) -> Outcome {
        let Some((site, visitor)) = self.visitor.clone() else {
            return Outcome::reply(error(ErrorCode::HelloRequired, "Send hello first."));
        };
        if let Err(err) = validate_outgoing(&client_msg_id, &body) {
            return Outcome::reply(to_text(&VisitorEvent::Error(err)));
        }
        let mut replies = Vec::new();
        let message = |conversation_id| NewMessage {
            conversation_id,
            client_msg_id: Some(client_msg_id.clone()),
            author: Author::Visitor,
            author_id: Some(visitor.id),
            author_name: None,
            kind: MessageKind::Text,
            body: body.clone(),
        };
        let first_try = match self.conversation {
            Some(id) => Some(self.state.store.append_message(message(id)).await),
            None => None,
        };
        let appended = match first_try {
            Some(Err(StoreError::ConversationEnded)) | None => {
                // No open conversation: this message starts one.
                let new = NewConversation {
                    site_id: site.id,
                    visitor_id: visitor.id,
                    profile_id: site.default_profile_id,
                    page_url: self.page.as_ref().map(|page| page.url.clone()),
                    referrer: self.page.as_ref().map(|page| page.referrer.clone()),
                };
                let (conversation, started) =
                    match self.state.store.open_or_start_conversation(new).await {
                        Ok(opened) => opened,
                        Err(err) => {
                            return Outcome::reply(to_text(&VisitorEvent::Error(store_failure(
                                &err,
                            ))));
                        }
                    };
                if let Some(previous) = self.conversation.replace(conversation.id) {
                    self.state.hub.unfollow(self.conn, previous);
                }
                self.state.hub.follow(self.conn, conversation.id);
                if started {
                    tracing::info!(conversation = conversation.id, "conversation queued");
                    announce_conversation(&self.state.hub, &conversation);
                }
                self.state
                    .store
                    .append_message(message(conversation.id))
                    .await
            }
            Some(result) => result,
        };
        match appended {
            Ok(appended) => {
                replies.push(to_text(&VisitorEvent::Ack {
                    conversation_id: appended.message.conversation_id,
                    client_msg_id,
                    seq: appended.message.seq,
                }));
                if !appended.duplicate {
                    announce_message(&self.state.hub, &appended.message, Some(self.conn));
                }
            }
            Err(err) => replies.push(to_text(&VisitorEvent::Error(store_failure(&err)))),
        }
        Outcome {
            replies,
            close: false,
        }
    }

    async fn end_chat(&mut self) -> Outcome {
        if self.visitor.is_none() {
            return Outcome::reply(error(ErrorCode::HelloRequired, "Send hello first."));
        }
        let Some(id) = self.conversation else {
            return Outcome::reply(error(ErrorCode::NotFound, "There is no chat to end."));
        };
        match self.state.store.end(id, Author::Visitor, None).await {
            Ok(Some((conversation, event))) => {
                tracing::info!(conversation = id, "conversation ended by the visitor");
                announce_message(&self.state.hub, &event, None);
                announce_conversation(&self.state.hub, &conversation);
                Outcome::default()
            }
            Ok(None) => Outcome::reply(error(
                ErrorCode::ConversationEnded,
                "This conversation has already ended.",
            )),
            Err(err) => Outcome::reply(to_text(&VisitorEvent::Error(store_failure(&err)))),
        }
    }
}
