//! Everything the widget knows, and how each relay frame changes it.

use porchlight_protocol::sync::{Entry, Outgoing, Transcript};
use porchlight_protocol::{
    Author, ConversationId, ConversationState, ConversationStatus, InputKind,
    PROTOCOL_VERSION, PageInfo, ProfileView, Prompt, PromptChange, QueueInfo, Resume, Seq,
    StatusChange, StreamDelta, TicketLink, UploadsChange, VisitorEvent, VisitorRequest, Welcome,
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
    /// The ticket the page links the chat to (`data-ticket`, `data-ticket-token`).
    pub ticket: Option<TicketLink>,
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
    /// Messages up to here came with the welcome (history); later ones are live.
    history_until: Option<(ConversationId, Seq)>,
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
            stopped: false,
            profile: None,
            prompt: None,
            queue: None,
            streaming: None,
            history_until: None,
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
        }
    }

    /// The visitor writes a message; the returned frame goes out if the socket is up
    /// (otherwise the outbox sends it after the next welcome).
    pub fn write(&mut self, client_msg_id: String, body: String) -> VisitorRequest {
        let outgoing = Outgoing {
            client_msg_id,
            body,
        };
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
            VisitorEvent::Welcome(Welcome {
                token,
                profile,
                conversation,
                prompt,
                ..
            }) => {
                self.token = Some(token);
                self.link = Link::Online;
                self.history_until = conversation
                    .as_ref()
                    .map(|conversation| (conversation.id, conversation.last_seq));
                self.conversation = conversation;
                self.profile = Some(profile);
                self.prompt = prompt;
                self.outbox
                    .iter()
                    .map(|outgoing| VisitorRequest::Send {
                        client_msg_id: outgoing.client_msg_id.clone(),
                        body: outgoing.body.clone(),
                    })
                    .collect()
            }
            VisitorEvent::Ack(ack) => {
                self.outbox
                    .retain(|outgoing| outgoing.client_msg_id != ack.client_msg_id);
                self.transcript.ack(&ack);
                self.follow(ack.conversation_id);
                Vec::new()
            }
            VisitorEvent::Message(message) => {
                if message.author == Author::Bot {
                    self.streaming = None;
                }
                let from_others = message.author != Author::Visitor;
                let conversation_id = message.conversation_id;
                if self.transcript.receive(message) && from_others && !self.visible {
                    self.unread += 1;
                }
                self.follow(conversation_id);
                Vec::new()
            }
            VisitorEvent::Stream(StreamDelta { id, text, done, .. }) => {
                match &mut self.streaming {
                    _ if done => self.streaming = None,
                    Some((current, so_far)) if *current == id => so_far.push_str(&text),
                    _ => self.streaming = Some((id, text)),
                }
                Vec::new()
            }
            VisitorEvent::Prompt(PromptChange {
                conversation_id,
                prompt,
            }) => {
                self.follow(conversation_id);
                if self.conversation.as_ref().map(|c| c.id) == Some(conversation_id) {
                    self.prompt = prompt;
                }
                Vec::new()
            }
            VisitorEvent::Status(StatusChange {
                conversation_id,
                status,
                agent_name,
            }) => {
                if status != ConversationStatus::Bot {
                    self.prompt = None;
                }
                if status != ConversationStatus::Queued {
                    self.queue = None;
                }
                // The relay follows every status with the uploads it allows.
                let uploads = self
                    .conversation
                    .as_ref()
                    .is_some_and(|current| current.id == conversation_id && current.uploads);
                self.conversation = Some(ConversationState {
                    id: conversation_id,
                    status,
                    agent_name,
                    last_seq: self.transcript.last_seq(conversation_id),
                    uploads,
                });
                Vec::new()
            }
            VisitorEvent::Queue(info) => {
                if self.conversation.as_ref().map(|c| c.id) == Some(info.conversation_id) {
                    self.queue = Some(info);
                }
                Vec::new()
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
                Vec::new()
            }
            VisitorEvent::Error(error) => {
                self.stopped |= error.code.is_final();
                self.notice = Some(error.message);
                Vec::new()
            }
        }
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
            });
        }
    }

    /// The waiting banner: place in line and estimated wait, as the profile shows them.
    pub fn queue_line(&self) -> Option<String> {
        let waiting = self
            .conversation
            .as_ref()
            .is_some_and(|c| c.status == ConversationStatus::Queued);
        let info = self.queue.as_ref().filter(|_| waiting)?;
        let wait = info.wait.as_deref().map(|minutes| match minutes {
            "< 1" => "under a minute".to_owned(),
            "1" => "about 1 minute".to_owned(),
            minutes => format!("about {minutes} minutes"),
        });
        match (info.position, wait) {
            (Some(position), Some(wait)) => Some(format!(
                "You're number {position} in the queue · wait {wait}"
            )),
            (Some(position), None) => Some(format!("You're number {position} in the queue")),
            (None, Some(wait)) => Some(format!("Estimated wait: {wait}")),
            (None, None) => None,
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

    /// The line under the title.
    pub fn status_line(&self) -> String {
        if self.link == Link::Reconnecting {
            return "Reconnecting…".into();
        }
        match &self.conversation {
            None => self.idle_line(),
            Some(conversation) => match conversation.status {
                ConversationStatus::Bot => self.idle_line(),
                ConversationStatus::Queued => "Waiting for an agent…".into(),
                ConversationStatus::Active => match &conversation.agent_name {
                    Some(name) => format!("You are chatting with {name}"),
                    None => "An agent joined".into(),
                },
                ConversationStatus::Ended => "Chat ended. Write to start a new one.".into(),
            },
        }
    }

    fn idle_line(&self) -> String {
        match &self.profile {
            Some(profile) if !profile.online => {
                "We're offline right now. Leave a message and we'll get back to you.".into()
            }
            _ => "Ask us anything. We usually reply in a few minutes.".into(),
        }
    }

    /// The header title.
    pub fn title(&self) -> String {
        self.profile
            .as_ref()
            .map_or_else(|| "Chat with us".into(), |profile| profile.title.clone())
    }

    /// The buttons to show: a question's choices, an input's options, or yes/no;
    /// with free text (the AI agent), suggestions such as "Talk to a person".
    pub fn buttons(&self) -> Vec<String> {
        match &self.prompt {
            Some(prompt) if prompt.input == Some(InputKind::YesNo) => {
                vec!["Yes".into(), "No".into()]
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
    pub fn composer_lock(&self) -> Option<&'static str> {
        let free_text = self
            .prompt
            .as_ref()
            .is_some_and(|prompt| prompt.input == Some(InputKind::Text));
        (!free_text && !self.buttons().is_empty()).then_some("Choose one of the options above.")
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

    /// An inline hint when the draft cannot be a valid answer to the prompt. The
    /// relay checks again; this only saves a round trip.
    pub fn draft_problem(&self, draft: &str) -> Option<&'static str> {
        let draft = draft.trim();
        match self.prompt.as_ref().and_then(|prompt| prompt.input) {
            Some(InputKind::Email) => {
                let valid = draft.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !draft.contains(' ')
                });
                (!valid).then_some("Please enter an email address like name@example.com.")
            }
            Some(InputKind::Number) => {
                (!looks_like_number(draft)).then_some("Please enter a number.")
            }
            Some(InputKind::Date) => {
                let parts: Vec<&str> = draft.split('-').collect();
                let valid = parts.len() == 3
                    && parts[0].len() == 4
                    && parts.iter().all(|part| part.parse::<u32>().is_ok());
                (!valid).then_some("Please enter a date.")
            }
            _ => None,
        }
    }

    /// A bot message that arrived live (not with the history) gets a typing indicator.
    pub fn is_fresh(&self, entry: &Entry) -> bool {
        match (entry.conversation_id, entry.seq, self.history_until) {
            (Some(conversation), Some(seq), Some((until_conversation, until_seq))) => {
                conversation > until_conversation
                    || (conversation == until_conversation && seq > until_seq)
            }
            (Some(_), Some(_), None) => true,
            _ => false,
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

/// `[+-]digits[.,digits][e[+-]digits]`, the finite numbers the relay accepts; checked
/// by shape because float parsing would add ~10 KB of tables to the wasm.
fn looks_like_number(text: &str) -> bool {
    fn digits(text: &str) -> (usize, &str) {
        let count = text.bytes().take_while(u8::is_ascii_digit).count();
        (count, &text[count..])
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, rest) = digits(unsigned);
    let (fraction, rest) = match rest.strip_prefix(['.', ',']) {
        Some(after) => digits(after),
        None => (0, rest),
    };
    if whole + fraction == 0 {
        return false;
    }
    match rest.strip_prefix(['e', 'E']) {
        Some(exponent) => {
            let (count, rest) = digits(exponent.strip_prefix(['+', '-']).unwrap_or(exponent));
            count > 0 && rest.is_empty()
        }
        None => rest.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use porchlight_protocol::{Ack, ChatMessage, ErrorCode, ProtocolError};

    fn agent_message(seq: u64) -> VisitorEvent {
        VisitorEvent::Message(ChatMessage {
            conversation_id: 4,
            seq,
            author: Author::Agent,
            author_name: Some("Ana".into()),
            body: "Hello!".into(),
            client_msg_id: None,
            at: 1,
            attachment: None,
            sources: Vec::new(),
        })
    }

    fn profile(online: bool) -> ProfileView {
        ProfileView {
            title: "Acme".into(),
            greeting: String::new(),
            colour: "#12355b".into(),
            online,
        }
    }

    fn welcome(conversation: Option<ConversationState>) -> VisitorEvent {
        VisitorEvent::Welcome(Welcome {
            v: PROTOCOL_VERSION,
            token: "tok".into(),
            profile: profile(true),
            conversation,
            prompt: None,
        })
    }

    fn prompt(input: Option<InputKind>, choices: &[&str]) -> VisitorEvent {
        VisitorEvent::Prompt(PromptChange {
            conversation_id: 4,
            prompt: Some(Prompt {
                step_id: "s".into(),
                choices: choices.iter().map(|c| (*c).to_owned()).collect(),
                input,
            }),
        })
    }

    #[test]
    fn unacknowledged_messages_are_resent_after_welcome_until_acked() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        let sent = state.write("m1".into(), "hi".into());
        assert!(matches!(sent, VisitorRequest::Send { .. }));
        state.disconnected();
        assert_eq!(state.status_line(), "Reconnecting…");
        let resend = state.apply(welcome(None));
        assert_eq!(resend, vec![sent]);
        assert_eq!(state.token.as_deref(), Some("tok"));
        state.apply(VisitorEvent::Ack(Ack {
            conversation_id: 4,
            client_msg_id: "m1".into(),
            seq: 1,
            at: 1_700_000_000_000,
        }));
        assert!(state.outbox.is_empty());
        assert_eq!(state.conversation.as_ref().map(|c| c.id), Some(4));
        assert!(state.apply(welcome(None)).is_empty());
    }

    #[test]
    fn a_reloaded_outbox_shows_and_resends_its_messages() {
        let outbox = vec![Outgoing {
            client_msg_id: "m1".into(),
            body: "typed before reload".into(),
        }];
        let mut state = ChatState::new("demo".into(), Some("tok".into()), outbox);
        assert_eq!(state.transcript.entries().len(), 1);
        assert_eq!(state.apply(welcome(None)).len(), 1);
    }

    #[test]
    fn hello_resumes_from_the_last_seq_seen() {
        let mut state = ChatState::new("demo".into(), Some("tok".into()), Vec::new());
        state.apply(welcome(Some(ConversationState {
            id: 4,
            status: ConversationStatus::Active,
            agent_name: Some("Ana".into()),
            last_seq: 2,
            uploads: false,
        })));
        state.apply(agent_message(1));
        state.apply(agent_message(2));
        let VisitorRequest::Hello { resume, token, .. } = state.hello(None) else {
            panic!("not a hello");
        };
        assert_eq!(token.as_deref(), Some("tok"));
        assert_eq!(
            resume,
            Some(Resume {
                conversation_id: 4,
                last_seq: 2
            })
        );
        assert_eq!(state.status_line(), "You are chatting with Ana");
    }

    #[test]
    fn unread_counts_only_new_messages_from_others_while_closed() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(agent_message(1));
        state.apply(agent_message(1));
        state.apply(agent_message(2));
        assert_eq!(state.unread, 2);
        state.set_visible(true);
        assert_eq!(state.unread, 0);
        state.apply(agent_message(3));
        assert_eq!(state.unread, 0);
    }

    #[test]
    fn a_question_shows_buttons_and_locks_the_composer_until_answered() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(welcome(None));
        state.apply(prompt(None, &["Billing", "Other"]));
        assert_eq!(state.buttons(), ["Billing", "Other"]);
        assert_eq!(
            state.composer_lock(),
            Some("Choose one of the options above.")
        );
        state.apply(VisitorEvent::Prompt(PromptChange {
            conversation_id: 4,
            prompt: None,
        }));
        assert!(state.buttons().is_empty());
        assert_eq!(state.composer_lock(), None);
        state.apply(prompt(Some(InputKind::YesNo), &[]));
        assert_eq!(state.buttons(), ["Yes", "No"]);
        state.apply(VisitorEvent::Status(StatusChange {
            conversation_id: 4,
            status: ConversationStatus::Queued,
            agent_name: None,
        }));
        assert!(state.prompt.is_none(), "a hand-over clears the prompt");
    }

    #[test]
    fn the_ai_agent_offers_a_person_without_locking_the_composer() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(welcome(None));
        state.apply(prompt(Some(InputKind::Text), &["Talk to a person"]));
        assert_eq!(state.buttons(), ["Talk to a person"]);
        assert_eq!(state.composer_lock(), None);
    }

    #[test]
    fn a_streamed_answer_grows_and_gives_way_to_the_stored_one() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(welcome(None));
        let delta = |id, text: &str, done| {
            VisitorEvent::Stream(StreamDelta {
                conversation_id: 4,
                id,
                text: text.into(),
                done,
            })
        };
        state.apply(delta(1, "Refunds ", false));
        state.apply(delta(1, "take 5 days.", false));
        assert_eq!(state.streaming, Some((1, "Refunds take 5 days.".into())));
        state.apply(delta(2, "New", false));
        assert_eq!(
            state.streaming,
            Some((2, "New".into())),
            "a new answer starts over"
        );
        let mut answer = agent_message(1);
        if let VisitorEvent::Message(message) = &mut answer {
            message.author = Author::Bot;
        }
        state.apply(answer);
        assert_eq!(state.streaming, None);
        state.apply(delta(3, "Half", false));
        state.apply(delta(3, "", true));
        assert_eq!(state.streaming, None);
    }

    #[test]
    fn typed_inputs_pick_the_input_type_and_hint_before_sending() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(welcome(None));
        state.apply(prompt(Some(InputKind::Email), &[]));
        assert_eq!(state.input_type(), Some("email"));
        assert_eq!(state.composer_lock(), None);
        assert!(state.draft_problem("ana").is_some());
        assert_eq!(state.draft_problem("ana@example.com"), None);
        state.apply(prompt(Some(InputKind::Number), &[]));
        assert_eq!(state.input_type(), Some("number"));
        assert!(state.draft_problem("ten").is_some());
        assert_eq!(state.draft_problem("10,5"), None);
        state.apply(prompt(Some(InputKind::Date), &[]));
        assert_eq!(state.input_type(), Some("date"));
        assert_eq!(state.draft_problem("2026-12-24"), None);
        assert!(state.draft_problem("soon").is_some());
        state.apply(prompt(Some(InputKind::Text), &[]));
        assert_eq!(state.input_type(), None);
        assert_eq!(state.draft_problem("anything"), None);
    }

    #[test]
    fn the_profile_sets_title_and_offline_text_and_hello_carries_the_start_step() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.start_step = Some("topic".into());
        let VisitorRequest::Hello { start_step, .. } = state.hello(None) else {
            panic!("not a hello");
        };
        assert_eq!(start_step.as_deref(), Some("topic"));
        assert_eq!(state.title(), "Chat with us");
        state.apply(VisitorEvent::Welcome(Welcome {
            v: PROTOCOL_VERSION,
            token: "tok".into(),
            profile: profile(false),
            conversation: None,
            prompt: None,
        }));
        assert_eq!(state.title(), "Acme");
        assert!(state.status_line().starts_with("We're offline"));
    }

    #[test]
    fn only_messages_after_the_welcome_history_are_fresh() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(welcome(Some(ConversationState {
            id: 4,
            status: ConversationStatus::Bot,
            agent_name: None,
            last_seq: 1,
            uploads: false,
        })));
        state.apply(agent_message(1));
        state.apply(agent_message(2));
        let fresh: Vec<bool> = state
            .transcript
            .entries()
            .iter()
            .map(|entry| state.is_fresh(entry))
            .collect();
        assert_eq!(fresh, [false, true]);
    }

    #[test]
    fn the_paperclip_follows_the_relay_live() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(welcome(Some(ConversationState {
            id: 4,
            status: ConversationStatus::Queued,
            agent_name: None,
            last_seq: 0,
            uploads: true,
        })));
        assert!(state.can_upload());
        let uploads = |allowed| {
            VisitorEvent::Uploads(UploadsChange {
                conversation_id: 4,
                allowed,
            })
        };
        state.apply(uploads(false));
        assert!(!state.can_upload(), "an agent switched uploads off");
        state.apply(uploads(true));
        state.apply(VisitorEvent::Status(StatusChange {
            conversation_id: 4,
            status: ConversationStatus::Active,
            agent_name: Some("Ana".into()),
        }));
        assert!(
            state.can_upload(),
            "a status change keeps the uploads setting"
        );
        state.disconnected();
        assert!(!state.can_upload(), "not while reconnecting");
        state.apply(welcome(None));
        state.apply(VisitorEvent::Status(StatusChange {
            conversation_id: 4,
            status: ConversationStatus::Ended,
            agent_name: None,
        }));
        assert!(!state.can_upload(), "not once the chat ended");
    }

    #[test]
    fn the_queue_banner_shows_place_and_wait_until_an_agent_joins() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(welcome(Some(ConversationState {
            id: 4,
            status: ConversationStatus::Queued,
            agent_name: None,
            last_seq: 0,
            uploads: false,
        })));
        let queue = |position, wait: Option<&str>| {
            VisitorEvent::Queue(QueueInfo {
                conversation_id: 4,
                position,
                wait: wait.map(str::to_owned),
            })
        };
        assert_eq!(state.queue_line(), None);
        state.apply(queue(Some(3), Some("4")));
        assert_eq!(
            state.queue_line().as_deref(),
            Some("You're number 3 in the queue · wait about 4 minutes")
        );
        state.apply(queue(Some(1), Some("< 1")));
        assert_eq!(
            state.queue_line().as_deref(),
            Some("You're number 1 in the queue · wait under a minute")
        );
        state.apply(queue(None, Some("1")));
        assert_eq!(
            state.queue_line().as_deref(),
            Some("Estimated wait: about 1 minute")
        );
        state.apply(VisitorEvent::Status(StatusChange {
            conversation_id: 4,
            status: ConversationStatus::Active,
            agent_name: Some("Ana".into()),
        }));
        assert_eq!(state.queue_line(), None, "an agent joined");
    }

    #[test]
    fn numbers_are_checked_by_shape() {
        for good in ["42", "-3", "+0.5", "3,75", ".5", "5.", "1e3", "2.5E-4"] {
            assert!(looks_like_number(good), "{good}");
        }
        for bad in [
            "", "-", ".", "1.2.3", "12a", "1e", "e5", "inf", "NaN", "1 000", "--1",
        ] {
            assert!(!looks_like_number(bad), "{bad}");
        }
    }

    #[test]
    fn status_and_errors_reach_the_visitor() {
        let mut state = ChatState::new("demo".into(), None, Vec::new());
        state.apply(VisitorEvent::Status(StatusChange {
            conversation_id: 4,
            status: ConversationStatus::Ended,
            agent_name: None,
        }));
        assert!(!state.has_open_conversation());
        assert!(state.status_line().starts_with("Chat ended"));
        state.apply(VisitorEvent::Error(ProtocolError::new(
            ErrorCode::MessageTooLong,
            "Too long.",
        )));
        assert_eq!(state.notice.as_deref(), Some("Too long."));
        assert!(!state.stopped, "a passing error does not stop reconnecting");
        state.apply(VisitorEvent::Error(ProtocolError::new(
            ErrorCode::IdentityRequired,
            "Sign in first.",
        )));
        assert!(state.stopped);
    }
}
