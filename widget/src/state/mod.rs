//! Everything the widget knows, and how each relay frame changes it. Typing, both
//! ways, is in `typing.rs`.

mod host;
mod lines;
mod rating;
mod typing;

pub use self::host::PageEvent;
use porchlight_protocol::sync::{Entry, Outgoing, Transcript};
use porchlight_protocol::words::{Language, Text, Words};
use porchlight_protocol::{
    Author, ChatMessage, ConversationId, ConversationState, ConversationStatus, ErrorCode,
    IdentityText, InputKind, PROTOCOL_VERSION, PageInfo, ProfileView, Prompt, PromptChange,
    QueueInfo, Resume, Seq, StatusChange, StreamDelta, TicketLink, UploadsChange, VisitorEvent,
    VisitorRequest, Welcome,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Online,
    Reconnecting,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatState {
    pub site: String,
    /// The visitor's secret; kept in the iframe's localStorage.
    pub token: Option<String>,
    pub link: Link,
    pub conversation: Option<ConversationState>,
    pub transcript: Transcript,
    /// Written but not yet acknowledged; resent after every reconnect.
    pub outbox: Vec<Outgoing>,
    /// Messages from the other side while the panel was closed.
    pub unread: u32,
    pub visible: bool,
    /// The last error the relay reported, for the visitor.
    pub notice: Option<String>,
    /// The step the page asked the chat to start at (`data-start-step`).
    pub start_step: Option<String>,
    /// The profile an admin is trying out in the console.
    pub preview_profile: Option<i64>,
    /// The browser's languages, most preferred first (`navigator.languages`), for
    /// the hello: the relay answers in the first the widget speaks.
    pub languages: Vec<String>,
    /// The address the visitor gave the bot, offered for "Email me the transcript".
    pub known_email: Option<String>,
    /// Where the relay said the transcript is going.
    pub emailed: Option<String>,
    /// The ticket the page links the chat to (`data-ticket`, `data-ticket-token`).
    pub ticket: Option<TicketLink>,
    /// Who the host page says the visitor is (`Porchlight.identify`), passed on as
    /// the page wrote it, and the proof in it (for file uploads).
    pub identity: Option<IdentityText>,
    pub proof: Option<String>,
    /// Title, colour, greeting and whether the chat is open, from the chat profile.
    pub profile: Option<ProfileView>,
    /// What the bot waits for.
    pub prompt: Option<Prompt>,
    /// Place in line and estimated wait, while waiting for an agent.
    pub queue: Option<QueueInfo>,
    /// The AI agent's answer as it is being written: its id and the text so far.
    pub streaming: Option<(u32, String)>,
    /// The relay refused this widget for good (unknown site, identity required…):
    /// reconnecting cannot help.
    pub stopped: bool,
    /// The agent is typing: the latest pulse's number (see [`ChatState::typing_expired`]).
    pub agent_typing: Option<u32>,
    typing_pulses: u32,
    /// When this visitor's last typing pulse went out (ms since the epoch).
    typing_sent_at: f64,
    /// Messages up to here came with the welcome (history); later ones are live.
    history_until: Option<(ConversationId, Seq)>,
    /// What the host page has yet to hear (see [`ChatState::take_page_events`]).
    page_events: Vec<PageEvent>,
}

impl ChatState {
    pub fn new(site: String, token: Option<String>, outbox: Vec<Outgoing>) -> Self {
        let mut transcript = Transcript::default();
        for outgoing in &outbox {
            transcript.push_pending(Author::Visitor, outgoing);
        }
        Self {
            site,
            token,
            link: Link::Connecting,
            conversation: None,
            transcript,
            outbox,
            unread: 0,
            visible: false,
            notice: None,
            start_step: None,
            preview_profile: None,
            ticket: None,
            identity: None,
            proof: None,
            languages: Vec::new(),
            known_email: None,
            emailed: None,
            stopped: false,
            profile: None,
            prompt: None,
            queue: None,
            streaming: None,
            agent_typing: None,
            typing_pulses: 0,
            typing_sent_at: f64::NEG_INFINITY,
            history_until: None,
            page_events: Vec::new(),
        }
    }

    /// The first frame on a new socket.
    pub fn hello(&self, page: Option<PageInfo>) -> VisitorRequest {
        VisitorRequest::Hello {
            v: PROTOCOL_VERSION,
            site: self.site.clone(),
            token: self.token.clone(),
            resume: self.conversation.as_ref().map(|conversation| Resume {
                conversation_id: conversation.id,
                last_seq: self.transcript.last_seq(conversation.id),
            }),
            page,
            start_step: self.start_step.clone(),
            preview_profile: self.preview_profile,
            ticket: self.ticket.clone(),
            languages: self.languages.clone(),
            identity: self.identity.clone(),
        }
    }

    /// The visitor writes a message; the returned frame goes out if the socket is up
    /// (otherwise the outbox sends it after the next welcome).
    pub fn write(&mut self, client_msg_id: String, body: String) -> VisitorRequest {
        let outgoing = Outgoing {
            client_msg_id,
            body,
        };
        if self.input_type() == Some("email") {
            self.known_email = Some(outgoing.body.trim().to_owned());
        }
        self.transcript.push_pending(Author::Visitor, &outgoing);
        self.outbox.push(outgoing.clone());
        self.notice = None;
        VisitorRequest::Send {
            client_msg_id: outgoing.client_msg_id,
            body: outgoing.body,
        }
    }

    pub fn set_visible(&mut self, visible: bool) {
        self.visible = visible;
        if visible {
            self.unread = 0;
        }
    }

    pub fn disconnected(&mut self) {
        if !self.stopped {
            self.link = Link::Reconnecting;
        }
    }

    /// Applies a relay frame; returns frames to send in answer.
    pub fn apply(&mut self, event: VisitorEvent) -> Vec<VisitorRequest> {
        match event {
            VisitorEvent::Welcome(welcome) => return self.welcome(welcome),
            VisitorEvent::Ack(ack) => {
                self.outbox
                    .retain(|outgoing| outgoing.client_msg_id != ack.client_msg_id);
                self.transcript.ack(&ack);
                self.follow(ack.conversation_id);
            }
            VisitorEvent::Message(message) => self.message(message),
            VisitorEvent::Stream(delta) => self.stream(delta),
            VisitorEvent::Prompt(PromptChange {
                conversation_id,
                prompt,
            }) => {
                self.follow(conversation_id);
                if self.conversation.as_ref().map(|c| c.id) == Some(conversation_id) {
                    self.prompt = prompt;
                }
            }
            VisitorEvent::Status(change) => self.status(change),
            VisitorEvent::Queue(info) => {
                if self.conversation.as_ref().map(|c| c.id) == Some(info.conversation_id) {
                    self.queue = Some(info);
                }
            }
            VisitorEvent::Uploads(UploadsChange {
                conversation_id,
                allowed,
            }) => {
                if let Some(current) = self.conversation.as_mut()
                    && current.id == conversation_id
                {
                    current.uploads = allowed;
                }
            }
            VisitorEvent::Typing(typing) => {
                if self.conversation.as_ref().map(|c| c.id) == Some(typing.conversation_id) {
                    self.typing_pulses = self.typing_pulses.wrapping_add(1);
                    self.agent_typing = Some(self.typing_pulses);
                }
            }
            VisitorEvent::Rated(rated) => self.rated(&rated),
            VisitorEvent::TranscriptQueued(queued) => self.emailed = Some(queued.email),
            VisitorEvent::Error(error) => {
                // A page's identity refused at hello stops the retries too, until
                // the page gives another (see `identify`).
                let identity_refused = matches!(
                    error.code,
                    ErrorCode::IdentityRefused | ErrorCode::IdentityExpired
                ) && self.link != Link::Online;
                self.stopped |= error.code.is_final() || identity_refused;
                // The relay's own words for what a visitor can cause; the rest as sent.
                let ours = match error.code {
                    ErrorCode::RateLimited => Some(Text::TooFast),
                    ErrorCode::MessageTooLong => Some(Text::TooLong),
                    ErrorCode::Internal => Some(Text::WentWrong),
                    _ => None,
                };
                self.notice = Some(match ours {
                    Some(text) => self.words().get(text).to_owned(),
                    None => error.message,
                });
            }
        }
        Vec::new()
    }

    /// Online again: the conversation as it stands, and the outbox resent.
    fn welcome(&mut self, welcome: Welcome) -> Vec<VisitorRequest> {
        self.token = Some(welcome.token);
        self.link = Link::Online;
        self.history_until = welcome
            .conversation
            .as_ref()
            .map(|conversation| (conversation.id, conversation.last_seq));
        self.conversation = welcome.conversation;
        self.profile = Some(welcome.profile);
        self.prompt = welcome.prompt;
        self.outbox
            .iter()
            .map(|outgoing| VisitorRequest::Send {
                client_msg_id: outgoing.client_msg_id.clone(),
                body: outgoing.body.clone(),
            })
            .collect()
    }

    fn message(&mut self, message: ChatMessage) {
        if message.author == Author::Bot {
            self.streaming = None;
        }
        let from_others = message.author != Author::Visitor;
        if message.author == Author::Agent {
            self.agent_typing = None;
        }
        let conversation_id = message.conversation_id;
        let live = self.is_live(conversation_id, message.seq);
        let heard = PageEvent::Message {
            author: message.author,
            text: message.body.clone(),
        };
        if self.transcript.receive(message) {
            if from_others && !self.visible {
                self.unread += 1;
            }
            if live {
                self.page_events.push(heard);
            }
        }
        self.follow(conversation_id);
    }

    /// A piece of an answer being written; it ends when the stored answer arrives.
    fn stream(&mut self, StreamDelta { id, text, done, .. }: StreamDelta) {
        match &mut self.streaming {
            _ if done => self.streaming = None,
            Some((current, so_far)) if *current == id => so_far.push_str(&text),
            _ => self.streaming = Some((id, text)),
        }
    }

    fn status(&mut self, change: StatusChange) {
        let StatusChange {
            conversation_id,
            status,
            agent_name,
        } = change;
        if status != ConversationStatus::Bot {
            self.prompt = None;
        }
        if status != ConversationStatus::Queued {
            self.queue = None;
        }
        // The relay follows every status with the uploads it allows.
        let same = self
            .conversation
            .as_ref()
            .filter(|current| current.id == conversation_id);
        let uploads = same.is_some_and(|current| current.uploads);
        let rating = same.and_then(|current| current.rating);
        if same.is_none() {
            // "On its way" was about the chat before.
            self.emailed = None;
        }
        if status == ConversationStatus::Ended
            && same.is_some_and(|current| current.status != ConversationStatus::Ended)
        {
            self.page_events.push(PageEvent::ChatEnded);
        }
        self.conversation = Some(ConversationState {
            id: conversation_id,
            status,
            agent_name,
            last_seq: self.transcript.last_seq(conversation_id),
            uploads,
            rating,
        });
    }

    /// A frame about a newer conversation than ours means one was started (maybe in
    /// another tab): follow it.
    fn follow(&mut self, conversation_id: i64) {
        let newer = self
            .conversation
            .as_ref()
            .is_none_or(|current| current.id < conversation_id);
        if newer {
            self.conversation = Some(ConversationState {
                id: conversation_id,
                status: ConversationStatus::Queued,
                agent_name: None,
                last_seq: self.transcript.last_seq(conversation_id),
                uploads: false,
                rating: None,
            });
        }
    }

    /// The widget's words: the table the relay sent with the profile (its language
    /// and its own lines), else English.
    pub fn words(&self) -> Words<'_> {
        match &self.profile {
            Some(profile) => Words::new(profile.language.unwrap_or(Language::En), &profile.lines),
            None => Words::english(),
        }
    }

    /// The paperclip shows: the chat is live, it allows files, and the relay is reachable.
    pub fn can_upload(&self) -> bool {
        self.link == Link::Online
            && self.conversation.as_ref().is_some_and(|conversation| {
                conversation.uploads
                    && matches!(
                        conversation.status,
                        ConversationStatus::Queued | ConversationStatus::Active
                    )
            })
    }

    /// The buttons to show: a question's choices, an input's options, or yes/no;
    /// with free text (the AI agent), suggestions such as "Talk to a person".
    pub fn buttons(&self) -> Vec<String> {
        match &self.prompt {
            Some(prompt) if prompt.input == Some(InputKind::YesNo) => {
                let words = self.words();
                vec![words.get(Text::Yes).into(), words.get(Text::No).into()]
            }
            Some(prompt)
                if matches!(
                    prompt.input,
                    None | Some(InputKind::Choice | InputKind::Text)
                ) =>
            {
                prompt.choices.clone()
            }
            _ => Vec::new(),
        }
    }

    /// Why the composer is disabled, when the bot wants a click rather than text.
    pub fn composer_lock(&self) -> Option<&str> {
        let free_text = self
            .prompt
            .as_ref()
            .is_some_and(|prompt| prompt.input == Some(InputKind::Text));
        (!free_text && !self.buttons().is_empty()).then(|| self.words().get(Text::ChooseOption))
    }

    /// The HTML input type for the composer (`None`: a multi-line text box).
    pub fn input_type(&self) -> Option<&'static str> {
        match self.prompt.as_ref().and_then(|prompt| prompt.input) {
            Some(InputKind::Email) => Some("email"),
            Some(InputKind::Number) => Some("number"),
            Some(InputKind::Date) => Some("date"),
            _ => None,
        }
    }

    /// A bot message that arrived live (not with the history) gets a typing indicator.
    pub fn is_fresh(&self, entry: &Entry) -> bool {
        entry
            .conversation_id
            .zip(entry.seq)
            .is_some_and(|(conversation, seq)| self.is_live(conversation, seq))
    }

    /// The message came after the welcome's history.
    fn is_live(&self, conversation: ConversationId, seq: Seq) -> bool {
        self.history_until
            .is_none_or(|(until_conversation, until_seq)| {
                conversation > until_conversation
                    || (conversation == until_conversation && seq > until_seq)
            })
    }

    /// "Email me the transcript" is offered: the site sends email and there is a chat.
    pub fn can_email_transcript(&self) -> bool {
        self.conversation.is_some()
            && self
                .profile
                .as_ref()
                .is_some_and(|profile| profile.email_transcript)
    }

    /// The frame asking for the transcript by email.
    pub fn email_transcript(&mut self, email: &str) -> VisitorRequest {
        self.emailed = None;
        self.notice = None;
        VisitorRequest::EmailTranscript {
            email: email.trim().to_owned(),
        }
    }

    /// True while the visitor has a conversation that is not over (the loader then
    /// loads the widget at once on the next page).
    pub fn has_open_conversation(&self) -> bool {
        self.conversation
            .as_ref()
            .is_some_and(|conversation| conversation.status != ConversationStatus::Ended)
    }
}

#[cfg(test)]
mod tests;
