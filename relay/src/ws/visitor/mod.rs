//! The widget's socket: `hello` (in `hello.rs`), `identify` (in `identify.rs`),
//! `send` and `end_chat` (in `deliver.rs`), `rate` (in `rating.rs`),
//! `email_transcript` (in `transcript.rs`).
//! This file holds the socket's session, reads its frames and passes on typing.

mod deliver;
mod hello;
mod identify;
mod rating;
mod transcript;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use porchlight_protocol::words::Language;
use porchlight_protocol::{
    AgentEvent, ConversationId, ErrorCode, PageInfo, ProtocolError, VisitorEvent, VisitorRequest,
    parse_visitor_request, to_text,
};

use self::hello::Hello;
use super::socket::{Handler, Outcome, RateLimit, drive};
use super::{TYPING_EVERY, limited, store_failure};
use crate::auth::identity::Claim;
use crate::auth::{ClientIp, current_agent, same_origin};
use crate::flow::Flow;
use crate::hub::{Audience, ConnId, ConnKind};
use crate::state::AppState;
use crate::store::{Role, Site, StoreError, Visitor};

/// The longest page URL or referrer kept for the agent's context panel.
const MAX_PAGE_FIELD: usize = 2048;

/// `GET /ws/visitor`. The widget runs in the relay's own origin (an iframe), so a
/// browser socket from anywhere else is refused.
pub async fn upgrade(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
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
    limited(ws).on_upgrade(move |socket| {
        tracker.track_future(run(socket, state, may_preview, user_agent, ip))
    })
}

/// Not an `async fn`: one of those keeps its arguments twice (as passed, and moved
/// into its body), and thousands of idle sockets each hold this future.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice"
)]
fn run(
    mut socket: WebSocket,
    state: AppState,
    may_preview: bool,
    user_agent: Option<String>,
    ip: IpAddr,
) -> impl Future<Output = ()> + Send {
    async move {
        let (conn, mut inbox) = state.hub.connect(ConnKind::Visitor);
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
            ip,
            last_typing: None,
            claim: None,
            token: String::new(),
            browser_language: None,
        };
        drive(
            &mut socket,
            &mut session,
            &mut inbox,
            &state.shutdown,
            RateLimit::visitor(),
            state.config.sockets,
        )
        .await;
        state.hub.disconnect(conn);
    }
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
    /// Where the socket comes from: new chats are counted per address.
    ip: IpAddr,
    /// When the last typing pulse was passed on.
    last_typing: Option<Instant>,
    /// What the page proved (or said) about who the visitor is.
    claim: Option<Claim>,
    /// The browser's token, and the first of its languages the widget speaks (for a
    /// new welcome when an identify switches the visitor).
    token: String,
    browser_language: Option<Language>,
}

pub(super) fn error(code: ErrorCode, message: &str) -> String {
    to_text(&VisitorEvent::Error(ProtocolError::new(code, message)))
}

pub(super) fn clip(text: String) -> String {
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
        let needs_proof = !matches!(
            request,
            VisitorRequest::Hello { .. } | VisitorRequest::Identify { .. }
        );
        if needs_proof && let Err(frame) = self.claim_still_good() {
            return Outcome::reply(frame);
        }
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
                languages,
                identity,
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
                    languages,
                    identity,
                })
                .await
            }
            VisitorRequest::Send {
                client_msg_id,
                body,
            } => self.send(client_msg_id, body).await,
            VisitorRequest::EndChat => self.end_chat().await,
            VisitorRequest::Typing => self.typing(),
            VisitorRequest::Rate { score, comment } => self.rate(score, comment).await,
            VisitorRequest::EmailTranscript { email } => self.email_transcript(&email).await,
            VisitorRequest::Identify { identity } => self.identify(identity).await,
        }
    }

    fn error_frame(&self, error: ProtocolError) -> String {
        to_text(&VisitorEvent::Error(error))
    }
}

impl VisitorSession {
    /// The site has said who the visitor is (a user id, proven or, where the site
    /// allows it, not).
    fn identified(&self) -> bool {
        self.visitor
            .as_ref()
            .is_some_and(|(_, visitor)| visitor.user_id.is_some())
    }

    /// The visitor is typing: the consoles following their chat see it. Pulses closer
    /// together than [`TYPING_EVERY`] are dropped, and nothing is stored.
    fn typing(&mut self) -> Outcome {
        let now = Instant::now();
        let recent = self
            .last_typing
            .is_some_and(|at| now.duration_since(at) < TYPING_EVERY);
        if let (Some(id), false) = (self.conversation, recent) {
            self.last_typing = Some(now);
            let frame = to_text(&AgentEvent::Typing {
                conversation_id: id,
            });
            self.state
                .hub
                .publish(id, Audience::Agents, None, frame.into());
        }
        Outcome::default()
    }

    fn fail(err: &StoreError) -> Outcome {
        Outcome::fatal(to_text(&VisitorEvent::Error(store_failure(err))))
    }
}
