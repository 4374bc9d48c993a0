//! The widget's socket: hello, send, end_chat.

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::{
    Ack, Author, ConversationId, ConversationState, ConversationStatus, ErrorCode,
    PROTOCOL_VERSION, PageInfo, ProtocolError, Resume, TicketLink, VisitorEvent, VisitorRequest,
    Welcome, parse_visitor_request, to_text, validate_outgoing,
};

use std::sync::Arc;

use super::socket::{Handler, Outcome, RateLimit, drive};
use super::{history, limited, store_failure};
use crate::chat::bot::{self, Trigger};
use crate::chat::events::{self, announce_conversation, announce_message};
use crate::chat::{queue, ringing, timers};
use crate::auth::{current_agent, is_token, random_token, same_origin, ticket_link, token_hash};
use crate::flow::profile::Access;
use crate::flow::{Flow, FlowState};
use crate::hub::{ConnId, ConnKind};
use crate::state::AppState;
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
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|value| clip(value.to_owned()));
    let tracker = state.tracker.clone();
    limited(ws)
        .on_upgrade(move |socket| tracker.track_future(run(socket, state, may_preview, user_agent)))
}

async fn run(socket: WebSocket, state: AppState, may_preview: bool, user_agent: Option<String>) {
    let (conn, mut inbox) = state.hub.connect(ConnKind::Visitor);
    let shutdown = state.shutdown.clone();
    let mut session = VisitorSession {
        state: state.clone(),
        conn,
        visitor: None,
        conversation: None,
        maybe_bot: false,
        flow: None,
        profile_id: None,
        start_step: None,
        page: None,
        user_agent,
        ticket: None,
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
    /// That conversation may still be with the bot (false once seen live: chats never
    /// go back to the bot).
    maybe_bot: bool,
    /// The chat profile (the site's, or an admin's preview), and the step a new chat
    /// starts at.
    flow: Option<Arc<Flow>>,
    profile_id: Option<i64>,
    start_step: Option<String>,
    page: Option<PageInfo>,
    user_agent: Option<String>,
    /// The ticket a new chat from this page is about (checked against the site's secret).
    ticket: Option<i64>,
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
    ticket: Option<TicketLink>,
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
                ticket,
            } => {
                self.hello(Hello {
                    v,
                    site,
                    token,
                    resume,
                    page,
                    start_step,
                    preview_profile,
                    ticket,
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
        // A new chat from this page is about the ticket, if the site's server signed it.
        let mut ticket_refused = false;
        if let Some(link) = hello.ticket {
            let signed = ticket_link::verify(&site.secret, link.id, &link.token);
            let ours = signed
                && matches!(store.ticket_site(link.id).await, Ok(Some(owner)) if owner == site.id);
            if ours {
                self.ticket = Some(link.id);
            } else {
                ticket_refused = true;
            }
        }
        self.visitor = Some((site, visitor.clone()));
        self.flow = flow.clone();
        let mut replies = Vec::new();
        if ticket_refused {
            replies.push(error(
                ErrorCode::TicketRefused,
                "This page's link to a ticket is not valid; the chat starts without it.",
            ));
        }
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
        // A reconnect to a chat that has ended shows it; it does not start a new one.
        let resuming_ended = matches!(
            (&latest, hello.resume),
            (Some(latest), Some(resume))
                if latest.id == resume.conversation_id && latest.status == ConversationStatus::Ended
        );
        let latest = match self.begin_if_needed(latest, resuming_ended).await {
            Ok(latest) => latest,
            Err(err) => return Self::fail(&err),
        };
        let latest_flow = match &latest {
            Some(conversation) => match self.flow_of(conversation).await {
                Ok(flow) => flow,
                Err(err) => return Self::fail(&err),
            },
            None => flow.clone(),
        };
        let conversation = latest.as_ref().map(|latest| {
            // Follow before reading history: a message stored in between then arrives
            // twice (the client dedupes by seq) rather than never.
            if latest.status != ConversationStatus::Ended {
                self.state.hub.follow(self.conn, latest.id);
            }
            self.conversation = Some(latest.id);
            self.maybe_bot = latest.status == ConversationStatus::Bot;
            ConversationState {
                id: latest.id,
                status: latest.status,
                agent_name: latest.agent.as_ref().map(|agent| agent.name.clone()),
                last_seq: latest.last_seq,
                uploads: latest.uploads_allowed(),
            }
        });
        let prompt = match (&latest_flow, &latest) {
            (Some(flow), Some(latest)) if latest.status == ConversationStatus::Bot => latest
                .flow_state
                .as_deref()
                .and_then(|text| serde_json::from_str::<FlowState>(text).ok())
                .and_then(|flow_state| flow.current_prompt(&flow_state)),
            // Asked "are you still there?" and not answered yet: the button again.
            (_, Some(latest))
                if latest.status == ConversationStatus::Queued
                    && latest.still_there_asked_at.is_some() =>
            {
                Some(timers::still_there_prompt())
            }
            _ => None,
        };
        let after = match (&conversation, hello.resume) {
            (Some(current), Some(resume)) if resume.conversation_id == current.id => {
                resume.last_seq
            }
            _ => 0,
        };
        let current = conversation.as_ref().map(|current| current.id);
        replies.push(to_text(&VisitorEvent::Welcome(Welcome {
            v: PROTOCOL_VERSION,
            token,
            profile: bot::profile_view(flow.as_deref()),
            conversation,
            prompt,
        })));
        if let Some(id) = current {
            match history(&self.state, id, after).await {
                Ok(frames) => replies.extend(frames),
                Err(err) => replies.push(to_text(&VisitorEvent::Error(store_failure(&err)))),
            }
        }
        // Still waiting: where they stand now (the announcer only sends changes).
        if let Some(latest) = &latest
            && let Some(frame) = queue::current_frame(&self.state, latest).await
        {
            replies.push(frame);
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
        resuming_ended: bool,
    ) -> Result<Option<Conversation>, StoreError> {
        let (Some(flow), Some(step)) = (self.flow.clone(), self.start_step.clone()) else {
            return Ok(latest);
        };
        let open = latest
            .as_ref()
            .filter(|conversation| conversation.status != ConversationStatus::Ended);
        let (conversation, flow, step) = match open {
            None if !resuming_ended
                && bot::engages(&self.state, &flow, &step, self.ticket.is_some()).await =>
            {
                let (conversation, started) =
                    self.open_conversation(ConversationStatus::Bot).await?;
                if !started {
                    return self.state.store.conversation(conversation.id).await;
                }
                (conversation, flow, step)
            }
            Some(conversation)
                if conversation.status == ConversationStatus::Bot
                    && conversation.flow_state.is_none() =>
            {
                let Some(own) = self.flow_of(conversation).await? else {
                    return Ok(latest);
                };
                let start = own.profile.start.clone();
                (conversation.clone(), own, start)
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
    ) -> Result<(Conversation, bool), StoreError> {
        let Some((site, visitor)) = self.visitor.clone() else {
            return Err(StoreError::NotFound);
        };
        let new = NewConversation {
            site_id: site.id,
            visitor_id: visitor.id,
            profile_id: self.profile_id,
            page_url: self.page.as_ref().map(|page| page.url.clone()),
            referrer: self.page.as_ref().map(|page| page.referrer.clone()),
            user_agent: self.user_agent.clone(),
            ticket_id: self.ticket,
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
                queue::announce(&self.state).await;
            }
        }
        Ok((conversation, started))
    }

    async fn send(&mut self, client_msg_id: String, body: String) -> Outcome {
        if self.visitor.is_none() {
            return Outcome::reply(error(ErrorCode::HelloRequired, "Send hello first."));
        }
        if let Err(err) = validate_outgoing(&client_msg_id, &body) {
            return Outcome::reply(to_text(&VisitorEvent::Error(err)));
        }
        if let Some(id) = self.conversation {
            timers::confirm(&self.state, id, &body).await;
        }
        let failure =
            |err: &StoreError| Outcome::reply(to_text(&VisitorEvent::Error(store_failure(err))));
        match self.deliver(&client_msg_id, &body).await {
            Ok(Some(message)) => Outcome::reply(to_text(&VisitorEvent::Ack(Ack {
                conversation_id: message.conversation_id,
                client_msg_id,
                seq: message.seq,
                at: message.at,
            }))),
            Ok(None) => Outcome::default(),
            Err(err) => failure(&err),
        }
    }

    /// Stores the visitor's message where it belongs now: as an answer to the bot, in
    /// the live chat, or as the start of a new chat. The chat can move on between
    /// looking and writing (another tab, an agent): then it looks again.
    async fn deliver(
        &mut self,
        client_msg_id: &str,
        body: &str,
    ) -> Result<Option<porchlight_protocol::ChatMessage>, StoreError> {
        let mut last = StoreError::Conflict;
        for _ in 0..3 {
            let attempt = self.deliver_once(client_msg_id, body).await;
            match attempt {
                Err(StoreError::Conflict | StoreError::ConversationEnded) => {
                    last = attempt.err().unwrap_or(StoreError::Conflict);
                }
                other => return other,
            }
        }
        Err(last)
    }

    async fn deliver_once(
        &mut self,
        client_msg_id: &str,
        body: &str,
    ) -> Result<Option<porchlight_protocol::ChatMessage>, StoreError> {
        let Some(id) = self.conversation else {
            return self.start_with(client_msg_id, body).await;
        };
        // A chat leaves the bot only forwards, so once this socket has seen it live it
        // appends without looking; while it may be with the bot, it looks first.
        if self.maybe_bot {
            let conversation = self
                .state
                .store
                .conversation(id)
                .await?
                .ok_or(StoreError::NotFound)?;
            if conversation.status == ConversationStatus::Bot
                && let Some(flow) = self.flow_of(&conversation).await?
            {
                let trigger = Trigger::Visitor {
                    client_msg_id: client_msg_id.to_owned(),
                    body: body.to_owned(),
                };
                let result =
                    bot::run_turn(&self.state, &flow, &conversation, trigger, None, self.conn)
                        .await?;
                return Ok(result.acked);
            }
            self.maybe_bot = false;
        }
        // An ended chat answers ConversationEnded (unless this is a resend of a message
        // stored there): the caller looks again and starts a new chat.
        match self.append(id, client_msg_id, body).await {
            Err(StoreError::ConversationEnded) => {
                self.conversation = None;
                Err(StoreError::ConversationEnded)
            }
            other => other.map(Some),
        }
    }

    /// Plain text into the conversation, for whoever follows it.
    async fn append(
        &self,
        conversation_id: ConversationId,
        client_msg_id: &str,
        body: &str,
    ) -> Result<porchlight_protocol::ChatMessage, StoreError> {
        let visitor_id = self.visitor.as_ref().map(|(_, visitor)| visitor.id);
        let appended = self
            .state
            .store
            .append_message(NewMessage::text(
                conversation_id,
                Some(client_msg_id.to_owned()),
                Author::Visitor,
                visitor_id,
                None,
                body.to_owned(),
            ))
            .await?;
        if !appended.duplicate {
            announce_message(&self.state.hub, &appended.message, Some(self.conn));
        }
        Ok(appended.message)
    }

    /// The flow a conversation runs: its own profile's (a profile changed later does
    /// not change chats already going), else the session's.
    async fn flow_of(&self, conversation: &Conversation) -> Result<Option<Arc<Flow>>, StoreError> {
        match conversation.profile_id {
            Some(id) if Some(id) != self.profile_id => {
                self.state.flows.get(self.state.store.as_ref(), id).await
            }
            _ => Ok(self.flow.clone()),
        }
    }

    /// A message with no open conversation starts one: through the flow when there is
    /// one (the message first, then the flow's greeting), else straight to the queue.
    /// If another tab started one meanwhile, this says `Conflict` so the caller looks
    /// again and writes into that one.
    async fn start_with(
        &mut self,
        client_msg_id: &str,
        body: &str,
    ) -> Result<Option<porchlight_protocol::ChatMessage>, StoreError> {
        let Some((flow, step)) = self.flow.clone().zip(self.start_step.clone()) else {
            let (conversation, started) =
                self.open_conversation(ConversationStatus::Queued).await?;
            if !started && conversation.status == ConversationStatus::Bot {
                self.maybe_bot = true;
                return Err(StoreError::Conflict);
            }
            return self
                .append(conversation.id, client_msg_id, body)
                .await
                .map(Some);
        };
        let (conversation, started) = self.open_conversation(ConversationStatus::Bot).await?;
        self.maybe_bot = true;
        if !started {
            return Err(StoreError::Conflict);
        }
        let first = Some((client_msg_id.to_owned(), body.to_owned()));
        let result = bot::run_turn(
            &self.state,
            &flow,
            &conversation,
            Trigger::Start(step),
            first,
            self.conn,
        )
        .await?;
        Ok(result.acked)
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
                events::ended(&self.state, &conversation, &event).await;
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
