//! A visitor's `hello`: which site and chat profile, who the visitor is (their token,
//! or a new one), which ticket the page is about, and the conversation to show, with
//! its history from the `seq` the widget last saw.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use porchlight_protocol::words::Language;
use porchlight_protocol::{
    ConversationState, ConversationStatus, ErrorCode, IdentityText, PROTOCOL_VERSION, PageInfo,
    ProfileView, Prompt, Resume, TicketLink, VisitorEvent, Welcome, to_text,
};

use super::{VisitorSession, clip, error};
use crate::auth::{is_token, random_token, ticket_link, token_hash};
use crate::chat::bot::{self, Trigger};
use crate::chat::{queue, timers};
use crate::flow::Flow;
use crate::flow::profile::Access;
use crate::store::{Conversation, Site, StoreError, Visitor};
use crate::ws::history;
use crate::ws::socket::Outcome;

/// The fields of a hello frame.
pub(super) struct Hello {
    pub(super) v: u32,
    pub(super) site: String,
    pub(super) token: Option<String>,
    pub(super) resume: Option<Resume>,
    pub(super) page: Option<PageInfo>,
    pub(super) start_step: Option<String>,
    pub(super) preview_profile: Option<i64>,
    pub(super) ticket: Option<TicketLink>,
    pub(super) languages: Vec<String>,
    pub(super) identity: Option<IdentityText>,
}

/// A hello that cannot go on: the frame that says why, and the socket closes.
type Refused = Outcome;

impl VisitorSession {
    pub(super) async fn hello(&mut self, hello: Hello) -> Outcome {
        match self.welcome(hello).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }

    async fn welcome(&mut self, hello: Hello) -> Result<Outcome, Refused> {
        if self.visitor.is_some() {
            return Ok(Outcome::reply(error(
                ErrorCode::HelloRequired,
                "hello was already sent on this socket.",
            )));
        }
        if hello.v != PROTOCOL_VERSION {
            return Err(Outcome::fatal(error(
                ErrorCode::UnsupportedVersion,
                &format!("This relay speaks protocol version {PROTOCOL_VERSION}; reload the page."),
            )));
        }
        let site = self.site(&hello.site).await?;
        let flow = self.profile(&site, hello.preview_profile).await?;
        let (token, visitor) = self.visitor_of(&site, hello.token.as_deref()).await?;
        let (token, visitor) = self
            .identity_at_hello(&site, token, visitor, hello.identity)
            .await?;
        let identified_only = flow
            .as_ref()
            .is_some_and(|flow| flow.profile.access == Access::Identified);
        if identified_only && visitor.user_id.is_none() && !self.may_preview {
            return Err(Outcome::fatal(error(
                ErrorCode::IdentityRequired,
                "This chat is for signed-in customers. Sign in on the site, then open the chat again.",
            )));
        }
        let language = browser_languages(&hello.languages);
        if language.is_some() && language != visitor.language {
            // Only for an agent's reply in it: a failure here does not stop the chat.
            if let Err(err) = self
                .state
                .store
                .set_visitor_language(visitor.id, language)
                .await
            {
                tracing::warn!(error = %err, "cannot keep the visitor's language");
            }
        }
        self.page = hello.page.map(|page| PageInfo {
            url: clip(page.url),
            referrer: clip(page.referrer),
        });
        let mut replies = Vec::new();
        if let Some(link) = hello.ticket
            && !self.link_ticket(&site, &link).await
        {
            replies.push(error(
                ErrorCode::TicketRefused,
                "This page's link to a ticket is not valid; the chat starts without it.",
            ));
        }
        self.visitor = Some((site, visitor.clone()));
        self.flow = flow.clone();
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
        let latest = self
            .latest(&visitor, hello.resume)
            .await
            .map_err(|err| Self::fail(&err))?;
        self.token.clone_from(&token);
        self.browser_language = Language::spoken(&hello.languages);
        let profile = self.profile_view();
        replies.extend(
            self.shown(latest, flow, profile, token, hello.resume)
                .await?,
        );
        Ok(Outcome {
            replies,
            close: false,
        })
    }

    async fn site(&self, key: &str) -> Result<Site, Refused> {
        match self.state.store.site_by_key(key).await {
            Ok(Some(site)) => Ok(site),
            Ok(None) => Err(Outcome::fatal(error(
                ErrorCode::UnknownSite,
                "No site has this key; check data-site on the script tag.",
            ))),
            Err(err) => Err(Self::fail(&err)),
        }
    }

    /// The chat profile this socket runs: the site's, or the one an admin previews.
    async fn profile(
        &mut self,
        site: &Site,
        preview: Option<i64>,
    ) -> Result<Option<Arc<Flow>>, Refused> {
        let profile_id = match preview {
            Some(id) if self.may_preview => Some(id),
            Some(_) => {
                return Err(Outcome::fatal(error(
                    ErrorCode::NotFound,
                    "Only a logged-in admin can preview a chat profile.",
                )));
            }
            None => site.default_profile_id,
        };
        let flow = match profile_id {
            Some(id) => self
                .state
                .flows
                .get(self.state.store.as_ref(), id)
                .await
                .map_err(|err| Self::fail(&err))?,
            None => None,
        };
        self.profile_id = profile_id;
        Ok(flow)
    }

    /// The visitor the widget's token names, or a new one with a new token.
    async fn visitor_of(
        &self,
        site: &Site,
        token: Option<&str>,
    ) -> Result<(String, Visitor), Refused> {
        let store = &self.state.store;
        if let Some(token) = token.filter(|token| is_token(token))
            && let Some(visitor) = store
                .visitor_by_token(site.id, &token_hash(token))
                .await
                .map_err(|err| Self::fail(&err))?
        {
            return Ok((token.to_owned(), visitor));
        }
        let token = random_token();
        let visitor = store
            .create_visitor(site.id, token_hash(&token))
            .await
            .map_err(|err| Self::fail(&err))?;
        Ok((token, visitor))
    }

    /// A new welcome for the visitor the socket now speaks for (identified mid-session
    /// as a user with chats of their own).
    pub(super) async fn rewelcome(&mut self, visitor: &Visitor) -> Result<Vec<String>, Refused> {
        let latest = self
            .latest(visitor, None)
            .await
            .map_err(|err| Self::fail(&err))?;
        let profile = self.profile_view();
        self.shown(latest, self.flow.clone(), profile, self.token.clone(), None)
            .await
    }

    /// What the welcome shows of the profile, worded for the browser's language.
    fn profile_view(&self) -> ProfileView {
        ProfileView {
            email_transcript: self.state.email_on.load(Ordering::Relaxed),
            ..bot::profile_view(self.flow.as_deref(), self.browser_language)
        }
    }

    /// A new chat from this page is about the ticket, if the site's server signed the
    /// link; says whether it did.
    async fn link_ticket(&mut self, site: &Site, link: &TicketLink) -> bool {
        let signed = ticket_link::verify(&site.secret, link.id, &link.token);
        let ours = signed
            && matches!(self.state.store.ticket_site(link.id).await, Ok(Some(owner)) if owner == site.id);
        if ours {
            self.ticket = Some(link.id);
        }
        ours
    }

    /// The visitor's latest conversation, after starting one if the flow greets first.
    async fn latest(
        &mut self,
        visitor: &Visitor,
        resume: Option<Resume>,
    ) -> Result<Option<Conversation>, StoreError> {
        let latest = self.state.store.latest_conversation(visitor.id).await?;
        // A reconnect to a chat that has ended shows it; it does not start a new one.
        let resuming_ended = matches!(
            (&latest, resume),
            (Some(latest), Some(resume))
                if latest.id == resume.conversation_id && latest.status == ConversationStatus::Ended
        );
        self.begin_if_needed(latest, resuming_ended).await
    }

    /// The welcome, the history after the `seq` the widget resumes from, and where a
    /// waiting visitor stands.
    async fn shown(
        &mut self,
        latest: Option<Conversation>,
        flow: Option<Arc<Flow>>,
        profile: ProfileView,
        token: String,
        resume: Option<Resume>,
    ) -> Result<Vec<String>, Refused> {
        let latest_flow = match &latest {
            Some(conversation) => self
                .flow_of(conversation)
                .await
                .map_err(|err| Self::fail(&err))?,
            None => flow.clone(),
        };
        let conversation = latest.as_ref().map(|latest| self.show(latest));
        let prompt = prompt_of(latest_flow.as_deref(), latest.as_ref());
        let after = match (&conversation, resume) {
            (Some(current), Some(resume)) if resume.conversation_id == current.id => {
                resume.last_seq
            }
            _ => 0,
        };
        let current = conversation.as_ref().map(|current| current.id);
        let mut replies = vec![to_text(&VisitorEvent::Welcome(Welcome {
            v: PROTOCOL_VERSION,
            token,
            profile,
            conversation,
            prompt,
        }))];
        if let Some(id) = current {
            match history(&self.state, id, after).await {
                Ok(frames) => replies.extend(frames),
                Err(err) => replies.push(to_text(&VisitorEvent::Error(crate::ws::store_failure(
                    &err,
                )))),
            }
        }
        // Still waiting: where they stand now (the announcer only sends changes).
        if let Some(latest) = &latest
            && let Some(frame) = queue::current_frame(&self.state, latest).await
        {
            replies.push(frame);
        }
        Ok(replies)
    }

    /// Follows the conversation (before its history is read: a message stored in
    /// between then arrives twice, and the widget dedupes by seq, rather than never)
    /// and describes it for the welcome.
    fn show(&mut self, latest: &Conversation) -> ConversationState {
        if latest.status != ConversationStatus::Ended {
            self.state.hub.follow(self.conn, latest.id, latest.last_seq);
        }
        self.conversation = Some(latest.id);
        self.maybe_bot = latest.status == ConversationStatus::Bot;
        ConversationState {
            id: latest.id,
            status: latest.status,
            agent_name: latest.agent.as_ref().map(|agent| agent.name.clone()),
            last_seq: latest.last_seq,
            uploads: latest.uploads_allowed(),
            rating: latest.rating,
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
            // Past its address's share of new chats, the bot does not greet: the
            // visitor's first message hears why.
            None if !resuming_ended
                && self.may_start_chat().is_ok()
                && bot::engages(
                    &self.state,
                    &flow,
                    &step,
                    self.ticket.is_some(),
                    self.identified(),
                )
                .await =>
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
        self.state
            .hub
            .follow(self.conn, conversation.id, conversation.last_seq);
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
}

/// What the visitor is asked now: the bot's question, or "are you still there?".
fn prompt_of(flow: Option<&Flow>, latest: Option<&Conversation>) -> Option<Prompt> {
    match (flow, latest) {
        (Some(flow), Some(latest)) if latest.status == ConversationStatus::Bot => {
            flow.current_prompt(&bot::flow_state_of(latest))
        }
        // Asked "are you still there?" and not answered yet: the button again.
        (_, Some(latest))
            if latest.status == ConversationStatus::Queued
                && latest.still_there_asked_at.is_some() =>
        {
            Some(timers::still_there_prompt())
        }
        _ => None,
    }
}

/// The browser's first few languages as plain BCP 47 tags, comma-separated.
fn browser_languages(languages: &[String]) -> Option<String> {
    let tags: Vec<&str> = languages
        .iter()
        .map(String::as_str)
        .filter(|tag| {
            (2..=35).contains(&tag.len())
                && tag
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
        .take(5)
        .collect();
    (!tags.is_empty()).then(|| tags.join(","))
}
