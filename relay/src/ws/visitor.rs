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

use std::sync::Arc;

use super::bot::{self, Trigger};
use super::ringing;
use super::socket::{Handler, Outcome, RateLimit, drive};
use super::{announce_conversation, announce_message, history, limited, store_failure};
use crate::auth::{current_agent, is_token, random_token, same_origin, token_hash};
use crate::flow::profile::Access;
use crate::flow::{Flow, FlowState};
use crate::hub::{ConnId, ConnKind};
use crate::server::AppState;
use crate::store::{Conversation, NewConversation, NewMessage, Role, Site, StoreError, Visitor};

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
    // An admin's "Try it" may run a profile other than the site's.
    let may_preview = current_agent(&state, &headers)
        .await
        .is_some_and(|agent| agent.role == Role::Admin);
    let tracker = state.tracker.clone();
    limited(ws).on_upgrade(move |socket| tracker.track_future(run(socket, state, may_preview)))
}

async fn run(socket: WebSocket, state: AppState, may_preview: bool) {
    let (conn, mut inbox) = state.hub.connect(ConnKind::Visitor);
    let shutdown = state.shutdown.clone();
    let mut session = VisitorSession {
        state: state.clone(),
        conn,
        visitor: None,
        conversation: None,
        in_bot: false,
        flow: None,
        profile_id: None,
        start_step: None,
        page: None,
        may_preview,
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
    /// Whether that conversation is (as far as this socket knows) with the bot.
    in_bot: bool,
    /// The chat profile (the site's, or an admin's preview), and the step a new chat
    /// starts at.
    flow: Option<Arc<Flow>>,
    profile_id: Option<i64>,
    start_step: Option<String>,
    page: Option<PageInfo>,
    /// The socket belongs to a logged-in admin, who may preview any profile.
    may_preview: bool,
}

/// The fields of a hello frame.
struct Hello {
    v: u32,
    site: String,
    token: Option<String>,
    resume: Option<Resume>,
    page: Option<PageInfo>,
    start_step: Option<String>,
    preview_profile: Option<i64>,
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
                start_step,
                preview_profile,
            } => {
                self.hello(Hello {
                    v,
                    site,
                    token,
                    resume,
                    page,
                    start_step,
                    preview_profile,
                })
                .await
            }
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
    fn fail(err: &StoreError) -> Outcome {
        Outcome::fatal(to_text(&VisitorEvent::Error(store_failure(err))))
    }

    async fn hello(&mut self, hello: Hello) -> Outcome {
        if self.visitor.is_some() {
            return Outcome::reply(error(
                ErrorCode::HelloRequired,
                "hello was already sent on this socket.",
            ));
        }
        if hello.v != PROTOCOL_VERSION {
            return Outcome::fatal(error(
                ErrorCode::UnsupportedVersion,
                &format!("This relay speaks protocol version {PROTOCOL_VERSION}; reload the page."),
            ));
        }
        let state = self.state.clone();
        let store = &state.store;
        let site = match store.site_by_key(&hello.site).await {
            Ok(Some(site)) => site,
            Ok(None) => {
                return Outcome::fatal(error(
                    ErrorCode::UnknownSite,
                    "No site has this key; check data-site on the script tag.",
                ));
            }
            Err(err) => return Self::fail(&err),
        };
        let profile_id = match hello.preview_profile {
            Some(id) if self.may_preview => Some(id),
            Some(_) => {
                return Outcome::fatal(error(
                    ErrorCode::NotFound,
                    "Only a logged-in admin can preview a chat profile.",
                ));
            }
            None => site.default_profile_id,
        };
        let flow = match profile_id {
            Some(id) => match state.flows.get(store.as_ref(), id).await {
                Ok(flow) => flow,
                Err(err) => return Self::fail(&err),
            },
            None => None,
        };
        self.profile_id = profile_id;
        let identified_only = flow
            .as_ref()
            .is_some_and(|flow| flow.profile.access == Access::Identified);
        // Visitors are identified by the site through the identify API (a later
        // issue); until then such a profile admits only an admin's preview.
        if identified_only && !self.may_preview {
            return Outcome::fatal(error(
                ErrorCode::IdentityRequired,
                "This chat is for signed-in customers. Sign in on the site, then open the chat again.",
            ));
        }
        let known = match hello.token.as_deref().filter(|token| is_token(token)) {
            Some(token) => match store.visitor_by_token(site.id, &token_hash(token)).await {
                Ok(found) => found.map(|visitor| (token.to_owned(), visitor)),
                Err(err) => return Self::fail(&err),
            },
            None => None,
        };
        let (token, visitor) = match known {
            Some(known) => known,
            None => {
                let token = random_token();
                match store.create_visitor(site.id, token_hash(&token)).await {
                    Ok(visitor) => (token, visitor),
                    Err(err) => return Self::fail(&err),
                }
            }
        };
        self.page = hello.page.map(|page| PageInfo {
            url: clip(page.url),
            referrer: clip(page.referrer),
        });
        self.visitor = Some((site, visitor.clone()));
        self.flow = flow.clone();
        let mut replies = Vec::new();
        if let Some(flow) = &flow {
            let (step, refused) = bot::start_step(flow, hello.start_step.as_deref());
            if refused {
                replies.push(error(
                    ErrorCode::StartStepRefused,
                    "This chat cannot start at the step the page asked for; it starts at the beginning.",
                ));
            }
            self.start_step = Some(step);
        }
        let latest = match store.latest_conversation(visitor.id).await {
            Ok(latest) => latest,
            Err(err) => return Self::fail(&err),
        };
        let latest = match self.begin_if_needed(latest).await {
            Ok(latest) => latest,
            Err(err) => return Self::fail(&err),
        };
        let conversation = latest.as_ref().map(|latest| {
            // Follow before reading history: a message stored in between then arrives
            // twice (the client dedupes by seq) rather than never.
            if latest.status != ConversationStatus::Ended {
                self.state.hub.follow(self.conn, latest.id);
            }
            self.conversation = Some(latest.id);
            self.in_bot = latest.status == ConversationStatus::Bot;
            ConversationState {
                id: latest.id,
                status: latest.status,
                agent_name: latest.agent.as_ref().map(|agent| agent.name.clone()),
                last_seq: latest.last_seq,
            }
        });
        let prompt = match (&flow, &latest) {
            (Some(flow), Some(latest)) if latest.status == ConversationStatus::Bot => latest
                .flow_state
                .as_deref()
                .and_then(|text| serde_json::from_str::<FlowState>(text).ok())
                .and_then(|flow_state| flow.current_prompt(&flow_state)),
            _ => None,
        };
        let after = match (&conversation, hello.resume) {
            (Some(current), Some(resume)) if resume.conversation_id == current.id => {
                resume.last_seq
            }
            _ => 0,
        };
        let current = conversation.as_ref().map(|current| current.id);
        replies.push(to_text(&VisitorEvent::Welcome {
            v: PROTOCOL_VERSION,
            token,
            profile: bot::profile_view(flow.as_deref()),
            conversation,
            prompt,
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

    /// At hello: starts a new chat now if the flow greets or asks before handing over,
    /// and reruns the first turn of a bot chat whose first turn was never stored.
    async fn begin_if_needed(
        &mut self,
        latest: Option<Conversation>,
    ) -> Result<Option<Conversation>, StoreError> {
        let (Some(flow), Some(step)) = (self.flow.clone(), self.start_step.clone()) else {
            return Ok(latest);
        };
        let open = latest
            .as_ref()
            .filter(|conversation| conversation.status != ConversationStatus::Ended);
        let conversation = match open {
            None if bot::engages(&flow, &step) => {
                self.open_conversation(ConversationStatus::Bot).await?
            }
            Some(conversation)
                if conversation.status == ConversationStatus::Bot
                    && conversation.flow_state.is_none() =>
            {
                conversation.clone()
            }
            _ => return Ok(latest),
        };
        self.state.hub.follow(self.conn, conversation.id);
        match bot::run_turn(
            &self.state,
            &flow,
            &conversation,
            Trigger::Start(step),
            None,
            self.conn,
        )
        .await
        {
            Ok(_) | Err(StoreError::Conflict) => {}
            Err(err) => return Err(err),
        }
        self.state.store.conversation(conversation.id).await
    }

    async fn open_conversation(
        &mut self,
        status: ConversationStatus,
    ) -> Result<Conversation, StoreError> {
        let Some((site, visitor)) = self.visitor.clone() else {
            return Err(StoreError::NotFound);
        };
        let new = NewConversation {
            site_id: site.id,
            visitor_id: visitor.id,
            profile_id: self.profile_id,
            page_url: self.page.as_ref().map(|page| page.url.clone()),
            referrer: self.page.as_ref().map(|page| page.referrer.clone()),
        };
        let (conversation, started) = self
            .state
            .store
            .open_or_start_conversation(new, status)
            .await?;
        if let Some(previous) = self.conversation.replace(conversation.id)
            && previous != conversation.id
        {
            self.state.hub.unfollow(self.conn, previous);
        }
        self.state.hub.follow(self.conn, conversation.id);
        if started {
            tracing::info!(
                conversation = conversation.id,
                status = status.as_str(),
                "conversation started"
            );
            if status == ConversationStatus::Queued {
                announce_conversation(&self.state.hub, &conversation);
                ringing::ring_chat(&self.state, &conversation).await;
            }
        }
        Ok(conversation)
    }

    async fn send(&mut self, client_msg_id: String, body: String) -> Outcome {
        let Some((_, visitor)) = self.visitor.clone() else {
            return Outcome::reply(error(ErrorCode::HelloRequired, "Send hello first."));
        };
        if let Err(err) = validate_outgoing(&client_msg_id, &body) {
            return Outcome::reply(to_text(&VisitorEvent::Error(err)));
        }
        let ack = |message: &porchlight_protocol::ChatMessage| {
            Outcome::reply(to_text(&VisitorEvent::Ack {
                conversation_id: message.conversation_id,
                client_msg_id: client_msg_id.clone(),
                seq: message.seq,
            }))
        };
        // With the bot: the message is an answer (or, once the flow is done, goes to a person).
        if let (true, Some(id), Some(flow)) = (self.in_bot, self.conversation, self.flow.clone()) {
            let conversation = match self.state.store.conversation(id).await {
                Ok(Some(conversation)) => conversation,
                Ok(None) => {
                    return Outcome::reply(error(ErrorCode::NotFound, "No such conversation."));
                }
                Err(err) => {
                    return Outcome::reply(to_text(&VisitorEvent::Error(store_failure(&err))));
                }
            };
            if conversation.status == ConversationStatus::Bot {
                let trigger = Trigger::Visitor {
                    client_msg_id: client_msg_id.clone(),
                    body: body.clone(),
                };
                match bot::run_turn(&self.state, &flow, &conversation, trigger, None, self.conn)
                    .await
                {
                    Ok(result) => {
                        self.in_bot = result.still_bot;
                        if let Some(message) = result.acked {
                            return ack(&message);
                        }
                    }
                    Err(StoreError::Conflict) => {}
                    Err(err) => {
                        return Outcome::reply(to_text(&VisitorEvent::Error(store_failure(&err))));
                    }
                }
            }
            self.in_bot = false;
        }
        let message = |conversation_id| {
            NewMessage::text(
                conversation_id,
                Some(client_msg_id.clone()),
                Author::Visitor,
                Some(visitor.id),
                None,
                body.clone(),
            )
        };
        let appended = match self.conversation {
            Some(id) => self.state.store.append_message(message(id)).await,
            None => Err(StoreError::ConversationEnded),
        };
        let appended = match appended {
            // No open conversation: this message starts one.
            Err(StoreError::ConversationEnded) => {
                return self.start_with(client_msg_id, body).await;
            }
            other => other,
        };
        match appended {
            Ok(appended) => {
                if !appended.duplicate {
                    announce_message(&self.state.hub, &appended.message, Some(self.conn));
                }
                ack(&appended.message)
            }
            Err(err) => Outcome::reply(to_text(&VisitorEvent::Error(store_failure(&err)))),
        }
    }

    /// A message with no open conversation starts one: through the flow when the site
    /// has one (the message first, then the flow's greeting), else straight to the queue.
    async fn start_with(&mut self, client_msg_id: String, body: String) -> Outcome {
        let failure =
            |err: &StoreError| Outcome::reply(to_text(&VisitorEvent::Error(store_failure(err))));
        let (flow, step) = match (self.flow.clone(), self.start_step.clone()) {
            (Some(flow), Some(step)) => (flow, step),
            _ => {
                let conversation = match self.open_conversation(ConversationStatus::Queued).await {
                    Ok(conversation) => conversation,
                    Err(err) => return failure(&err),
                };
                let Some((_, visitor)) = self.visitor.clone() else {
                    return Outcome::default();
                };
                let message = NewMessage::text(
                    conversation.id,
                    Some(client_msg_id.clone()),
                    Author::Visitor,
                    Some(visitor.id),
                    None,
                    body,
                );
                return match self.state.store.append_message(message).await {
                    Ok(appended) => {
                        if !appended.duplicate {
                            announce_message(&self.state.hub, &appended.message, Some(self.conn));
                        }
                        Outcome::reply(to_text(&VisitorEvent::Ack {
                            conversation_id: appended.message.conversation_id,
                            client_msg_id,
                            seq: appended.message.seq,
                        }))
                    }
                    Err(err) => failure(&err),
                };
            }
        };
        let conversation = match self.open_conversation(ConversationStatus::Bot).await {
            Ok(conversation) => conversation,
            Err(err) => return failure(&err),
        };
        let first = Some((client_msg_id.clone(), body));
        match bot::run_turn(
            &self.state,
            &flow,
            &conversation,
            Trigger::Start(step),
            first,
            self.conn,
        )
        .await
        {
            Ok(result) => {
                self.in_bot = result.still_bot;
                match result.acked {
                    Some(message) => Outcome::reply(to_text(&VisitorEvent::Ack {
                        conversation_id: message.conversation_id,
                        client_msg_id,
                        seq: message.seq,
                    })),
                    None => Outcome::default(),
                }
            }
            Err(err) => failure(&err),
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
                self.state.hub.stop_ring(id);
                if let Some(holder) = &conversation.agent {
                    ringing::ring_waiting_for(&self.state, holder.id).await;
                }
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
