//! What a visitor writes: stored where it belongs now (an answer to the bot, the live
//! chat, or the start of a new chat), acknowledged after COMMIT; and ending the chat.

use std::sync::Arc;
use std::time::{Duration, Instant};

use porchlight_protocol::{
    Ack, Author, ChatMessage, ConversationId, ConversationStatus, ErrorCode, ProtocolError,
    VisitorEvent, to_text, validate_outgoing,
};

use super::{VisitorSession, error};
use crate::chat::bot::{self, Trigger};
use crate::chat::events::{self, announce_conversation, announce_message};
use crate::chat::{queue, ringing, timers};
use crate::flow::Flow;
use crate::store::{Conversation, NewConversation, NewMessage, StoreError};
use crate::throttle::retry_in;
use crate::ws::socket::Outcome;
use crate::ws::store_failure;

/// Why a visitor's message was not stored.
#[derive(Debug)]
pub(super) enum Refusal {
    Store(StoreError),
    /// The visitor's address has started its share of chats; try again after this.
    TooManyChats(Duration),
}

impl From<StoreError> for Refusal {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl VisitorSession {
    /// Whether a new chat may start from this socket's address now (`Err`: the wait).
    pub(super) fn may_start_chat(&self) -> Result<(), Duration> {
        self.state
            .throttles
            .chats_per_ip
            .check(&self.ip, Instant::now())
    }

    pub(super) async fn open_conversation(
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
        self.state
            .hub
            .follow(self.conn, conversation.id, conversation.last_seq);
        if started {
            // Counted once started (checked before, by `may_start_chat`).
            let _ = self
                .state
                .throttles
                .chats_per_ip
                .take(&self.ip, Instant::now());
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

    pub(super) async fn send(&mut self, client_msg_id: String, body: String) -> Outcome {
        if self.visitor.is_none() {
            return Outcome::reply(error(ErrorCode::HelloRequired, "Send hello first."));
        }
        if let Err(err) = validate_outgoing(&client_msg_id, &body) {
            return Outcome::reply(to_text(&VisitorEvent::Error(err)));
        }
        if let Some(id) = self.conversation {
            timers::confirm(&self.state, id, &body).await;
        }
        let failure = |refusal: &Refusal| {
            let error = match refusal {
                Refusal::Store(err) => store_failure(err),
                Refusal::TooManyChats(wait) => ProtocolError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "Many chats have started from your network; try again {}.",
                        retry_in(*wait)
                    ),
                ),
            };
            Outcome::reply(to_text(&VisitorEvent::Error(error)))
        };
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
    ) -> Result<Option<ChatMessage>, Refusal> {
        let mut last = StoreError::Conflict;
        for _ in 0..3 {
            match self.deliver_once(client_msg_id, body).await {
                Err(Refusal::Store(
                    err @ (StoreError::Conflict | StoreError::ConversationEnded),
                )) => {
                    last = err;
                }
                other => return other,
            }
        }
        Err(Refusal::Store(last))
    }

    async fn deliver_once(
        &mut self,
        client_msg_id: &str,
        body: &str,
    ) -> Result<Option<ChatMessage>, Refusal> {
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
                Err(StoreError::ConversationEnded.into())
            }
            other => Ok(other.map(Some)?),
        }
    }

    /// Plain text into the conversation, for whoever follows it.
    async fn append(
        &self,
        conversation_id: ConversationId,
        client_msg_id: &str,
        body: &str,
    ) -> Result<ChatMessage, StoreError> {
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
            announce_message(&self.state, &appended.message, Some(self.conn));
        }
        Ok(appended.message)
    }

    /// The flow a conversation runs: its own profile's (a profile changed later does
    /// not change chats already going), else the session's.
    pub(super) async fn flow_of(
        &self,
        conversation: &Conversation,
    ) -> Result<Option<Arc<Flow>>, StoreError> {
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
    ) -> Result<Option<ChatMessage>, Refusal> {
        self.may_start_chat().map_err(Refusal::TooManyChats)?;
        let Some((flow, step)) = self.flow.clone().zip(self.start_step.clone()) else {
            let (conversation, started) =
                self.open_conversation(ConversationStatus::Queued).await?;
            if !started && conversation.status == ConversationStatus::Bot {
                self.maybe_bot = true;
                return Err(StoreError::Conflict.into());
            }
            return Ok(self
                .append(conversation.id, client_msg_id, body)
                .await
                .map(Some)?);
        };
        let (conversation, started) = self.open_conversation(ConversationStatus::Bot).await?;
        self.maybe_bot = true;
        if !started {
            return Err(StoreError::Conflict.into());
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

    pub(super) async fn end_chat(&mut self) -> Outcome {
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
