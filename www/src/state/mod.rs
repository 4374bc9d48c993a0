//! What the console knows: the chat list, one transcript per opened chat, and which
//! chat is on screen. Notes and typing are in `notes.rs`.

mod assigned;
mod erasure;
mod notes;

pub use notes::Row;

use std::collections::{BTreeMap, HashMap};

use porchlight_protocol::sync::{Outgoing, Transcript};
use porchlight_protocol::{
    AgentEvent, AgentInfo, AgentRequest, Author, ChatMessage, ChatSummary, ConversationId,
    ConversationStatus, Note, PROTOCOL_VERSION, StatusInfo,
};

/// A message older than this when it arrives (a replay after a reconnect) alerts no one.
const ALERT_WITHIN_MS: i64 = 60_000;
/// How much of a message a desktop notification shows.
const ALERT_BODY_CHARS: usize = 80;

/// Which chats the list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Filter {
    /// Waiting and ongoing chats.
    #[default]
    Active,
    /// Chats this agent is in.
    Mine,
    /// Chats routed to one of this agent's teams.
    MyTeams,
    /// Everything this agent may see.
    All,
    /// Ended chats.
    Closed,
}

impl Filter {
    pub const ALL: [Filter; 5] = [
        Filter::Active,
        Filter::Mine,
        Filter::MyTeams,
        Filter::All,
        Filter::Closed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Filter::Active => "Active",
            Filter::Mine => "Mine",
            Filter::MyTeams => "My teams",
            Filter::All => "All",
            Filter::Closed => "Closed",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsoleState {
    pub me: Option<AgentInfo>,
    pub online: bool,
    pub chats: BTreeMap<ConversationId, ChatSummary>,
    pub transcripts: HashMap<ConversationId, Transcript>,
    pub unread: HashMap<ConversationId, u32>,
    pub selected: Option<ConversationId>,
    /// Unacknowledged replies, resent after a reconnect.
    pub outbox: Vec<(ConversationId, Outgoing)>,
    pub notice: Option<String>,
    /// Waiting chats ringing for this agent now.
    pub ringing: BTreeMap<ConversationId, ChatSummary>,
    pub statuses: Vec<StatusInfo>,
    pub status_id: Option<i64>,
    /// Where a chat can be transferred.
    pub teams: Vec<String>,
    pub agents: Vec<AgentInfo>,
    pub my_teams: Vec<String>,
    pub filter: Filter,
    /// This agent may switch visitor uploads (in chats whose profile allows it).
    pub can_toggle_uploads: bool,
    /// Counts the relay's "tickets changed" frames: the Tickets page reloads on each.
    pub tickets_changed: u64,
    /// Private notes per chat, by id.
    pub notes: HashMap<ConversationId, Vec<Note>>,
    /// Notes written but not yet stored; resent after a reconnect.
    pub note_outbox: Vec<(ConversationId, Outgoing)>,
    /// Chats whose visitor is typing, with the latest pulse's number.
    pub typing: HashMap<ConversationId, u32>,
    typing_pulses: u32,
    /// This agent's last typing pulse: to which chat, and when (ms since the epoch).
    typing_sent: Option<(ConversationId, f64)>,
}

impl ConsoleState {
    pub fn hello() -> AgentRequest {
        AgentRequest::Hello {
            v: PROTOCOL_VERSION,
        }
    }

    /// The chats the filter shows, in the order an agent works them: waiting first
    /// (oldest first), then the rest.
    pub fn chat_list(&self) -> Vec<ChatSummary> {
        let me = self.me.as_ref().map(|me| me.id);
        let mine = |chat: &ChatSummary| chat.agent.as_ref().map(|agent| agent.id) == me;
        let my_team = |chat: &ChatSummary| {
            chat.teams.iter().any(|team| {
                self.my_teams
                    .iter()
                    .any(|own| own.eq_ignore_ascii_case(team))
            })
        };
        let open = |chat: &ChatSummary| chat.status != ConversationStatus::Ended;
        let mut chats: Vec<ChatSummary> = self
            .chats
            .values()
            .filter(|chat| match self.filter {
                Filter::Active => open(chat),
                Filter::Mine => mine(chat),
                Filter::MyTeams => my_team(chat),
                Filter::All => true,
                Filter::Closed => !open(chat),
            })
            .cloned()
            .collect();
        chats.sort_by_key(|chat| (chat.status != ConversationStatus::Queued, chat.queued_at));
        chats
    }

    pub fn selected_chat(&self) -> Option<&ChatSummary> {
        self.selected.and_then(|id| self.chats.get(&id))
    }

    /// The selected chat came to people from the bot or the AI agent (it has their
    /// messages and the visitor's): worth a summary for whoever picks it up.
    pub fn selected_was_handed_over(&self) -> Option<ConversationId> {
        let id = self.selected?;
        let chat = self.chats.get(&id)?;
        let entries = self.transcripts.get(&id)?.entries();
        let has = |author: Author| entries.iter().any(|entry| entry.author == author);
        (chat.status != ConversationStatus::Bot && has(Author::Bot) && has(Author::Visitor))
            .then_some(id)
    }

    /// True when the selected chat is held by this agent (the composer is enabled).
    pub fn holds_selected(&self) -> bool {
        match (self.selected_chat(), &self.me) {
            (Some(chat), Some(me)) => {
                chat.status == ConversationStatus::Active
                    && chat.agent.as_ref().map(|agent| agent.id) == Some(me.id)
            }
            _ => false,
        }
    }

    /// The selected chat's visitor-uploads switch, if this agent may use it: whether
    /// uploads are on now.
    pub fn uploads_switch(&self) -> Option<bool> {
        let chat = self.selected_chat()?;
        (self.holds_selected() && self.can_toggle_uploads && chat.uploads_switchable)
            .then_some(chat.visitor_uploads)
    }

    /// Shows a chat; returns the frame that subscribes to it.
    pub fn select(&mut self, id: ConversationId) -> AgentRequest {
        self.selected = Some(id);
        self.unread.remove(&id);
        let last_seq = self
            .transcripts
            .get(&id)
            .map_or(0, |transcript| transcript.last_seq(id));
        AgentRequest::Open {
            conversation_id: id,
            last_seq,
        }
    }

    /// Shows a chat found by a search (the list may not hold it: it can be older than
    /// the closed chats listed); returns the frame that subscribes to it.
    pub fn open_found(&mut self, chat: ChatSummary) -> AgentRequest {
        let id = chat.conversation_id;
        self.chats.entry(id).or_insert(chat);
        self.select(id)
    }

    pub fn write(
        &mut self,
        id: ConversationId,
        client_msg_id: String,
        body: String,
    ) -> AgentRequest {
        let outgoing = Outgoing {
            client_msg_id,
            body,
        };
        self.transcripts
            .entry(id)
            .or_default()
            .push_pending(Author::Agent, &outgoing);
        self.outbox.push((id, outgoing.clone()));
        self.notice = None;
        AgentRequest::Send {
            conversation_id: id,
            client_msg_id: outgoing.client_msg_id,
            body: outgoing.body,
        }
    }

    pub fn disconnected(&mut self) {
        self.online = false;
        // Rings are sent afresh after the reconnect.
        self.ringing.clear();
    }

    pub fn is_ringing(&self, id: ConversationId) -> bool {
        self.ringing.contains_key(&id)
    }

    /// The chat before (`step = -1`) or after (`step = 1`) the selected one in the
    /// list; the first one when nothing is selected.
    pub fn neighbour(&self, step: isize) -> Option<ConversationId> {
        let list = self.chat_list();
        let here = self
            .selected
            .and_then(|id| list.iter().position(|chat| chat.conversation_id == id));
        let index = match here {
            Some(index) => index.checked_add_signed(step)?,
            None => 0,
        };
        list.get(index).map(|chat| chat.conversation_id)
    }

    /// The chat to join from the keyboard: the selected one if it waits, else the
    /// oldest ringing one.
    pub fn to_join(&self) -> Option<ConversationId> {
        let selected_waits = self
            .selected_chat()
            .is_some_and(|chat| chat.status == ConversationStatus::Queued);
        if selected_waits {
            return self.selected;
        }
        self.chat_list()
            .iter()
            .find(|chat| self.is_ringing(chat.conversation_id))
            .map(|chat| chat.conversation_id)
    }

    /// Transfer choices for the chat on screen: `(value, label)`, where the value is
    /// `team:NAME` or `agent:ID`; the agent themself is left out.
    pub fn transfer_choices(&self) -> Vec<(String, String)> {
        let me = self.me.as_ref().map(|me| me.id);
        self.teams
            .iter()
            .map(|team| (format!("team:{team}"), format!("Team {team}")))
            .chain(
                self.agents
                    .iter()
                    .filter(|agent| Some(agent.id) != me)
                    .map(|agent| (format!("agent:{}", agent.id), agent.name.clone())),
            )
            .collect()
    }

    /// The frame for a transfer choice.
    pub fn transfer(&self, choice: &str) -> Option<AgentRequest> {
        let conversation_id = self.selected?;
        let (to_team, to_agent) = match choice.split_once(':')? {
            ("team", team) => (Some(team.to_owned()), None),
            ("agent", id) => (None, Some(id.parse().ok()?)),
            _ => return None,
        };
        Some(AgentRequest::Transfer {
            conversation_id,
            to_team,
            to_agent,
        })
    }

    /// What to say when `message` arrives at `now` (ms since the epoch) while the
    /// console is hidden: a visitor's new, recent message in a chat this agent holds.
    /// `(title, body)`, the body cut to a line.
    pub fn message_alert(&self, message: &ChatMessage, now: i64) -> Option<(String, String)> {
        let chat = self.chats.get(&message.conversation_id)?;
        let mine = chat.status == ConversationStatus::Active
            && chat.agent.as_ref().map(|agent| agent.id) == self.me.as_ref().map(|me| me.id);
        let seen = self
            .transcripts
            .get(&message.conversation_id)
            .is_some_and(|transcript| {
                transcript
                    .entries()
                    .iter()
                    .any(|entry| entry.seq == Some(message.seq))
            });
        let recent = now - message.at < ALERT_WITHIN_MS;
        (mine && !seen && recent && message.author == Author::Visitor).then(|| {
            let mut body: String = message.body.chars().take(ALERT_BODY_CHARS).collect();
            if message.body.chars().count() > ALERT_BODY_CHARS {
                body.push('…');
            }
            (chat.visitor_name.clone(), body)
        })
    }

    /// Whether the current status makes chats ring.
    pub fn available(&self) -> bool {
        self.statuses
            .iter()
            .find(|status| Some(status.id) == self.status_id)
            .is_some_and(|status| status.online)
    }

    /// Applies a relay frame; returns frames to send in answer.
    /// After a (re)connect: each open transcript resumes from its first gap, and what
    /// was not yet stored is sent again.
    fn resume_frames(&self) -> Vec<AgentRequest> {
        let mut frames: Vec<AgentRequest> = self
            .transcripts
            .iter()
            .map(|(id, transcript)| AgentRequest::Open {
                conversation_id: *id,
                last_seq: transcript.last_seq(*id),
            })
            .collect();
        frames.extend(self.outbox.iter().map(|(id, outgoing)| AgentRequest::Send {
            conversation_id: *id,
            client_msg_id: outgoing.client_msg_id.clone(),
            body: outgoing.body.clone(),
        }));
        frames.extend(self.unsent_notes());
        frames
    }

    pub fn apply(&mut self, event: AgentEvent) -> Vec<AgentRequest> {
        match event {
            AgentEvent::Welcome {
                agent,
                chats,
                statuses,
                status_id,
                teams,
                agents,
                my_teams,
                can_toggle_uploads,
                ..
            } => {
                self.can_toggle_uploads = can_toggle_uploads;
                self.teams = teams;
                self.agents = agents;
                self.my_teams = my_teams;
                self.me = Some(agent);
                self.online = true;
                self.statuses = statuses;
                self.status_id = status_id;
                self.ringing.clear();
                self.chats = chats
                    .into_iter()
                    .map(|chat| (chat.conversation_id, chat))
                    .collect();
                self.resume_frames()
            }
            AgentEvent::Chat(chat) => {
                if chat.status != ConversationStatus::Queued {
                    self.ringing.remove(&chat.conversation_id);
                }
                self.chats.insert(chat.conversation_id, chat);
                Vec::new()
            }
            AgentEvent::Ring(chat) => {
                self.chats.insert(chat.conversation_id, chat.clone());
                self.ringing.insert(chat.conversation_id, chat);
                Vec::new()
            }
            AgentEvent::TicketsChanged => {
                self.tickets_changed += 1;
                Vec::new()
            }
            AgentEvent::RingStop { conversation_id } => {
                self.ringing.remove(&conversation_id);
                Vec::new()
            }
            AgentEvent::MyStatus { status_id } => {
                self.status_id = Some(status_id);
                Vec::new()
            }
            // The chat just joined goes on screen, with its history.
            AgentEvent::Joined { conversation_id } => vec![self.select(conversation_id)],
            AgentEvent::Assigned { conversation_id } => self.assigned(conversation_id),
            AgentEvent::Ack(ack) => {
                self.outbox
                    .retain(|(_, outgoing)| outgoing.client_msg_id != ack.client_msg_id);
                self.transcripts
                    .entry(ack.conversation_id)
                    .or_default()
                    .ack(&ack);
                Vec::new()
            }
            AgentEvent::Message(message) => {
                let id = message.conversation_id;
                let from_visitor = message.author == Author::Visitor;
                if from_visitor {
                    self.typing.remove(&id);
                }
                let new = self.transcripts.entry(id).or_default().receive(message);
                if new && from_visitor && self.selected != Some(id) {
                    *self.unread.entry(id).or_default() += 1;
                }
                Vec::new()
            }
            AgentEvent::Note(note) => {
                self.note_stored(note);
                Vec::new()
            }
            AgentEvent::Typing { conversation_id } => {
                self.visitor_typing(conversation_id);
                Vec::new()
            }
            AgentEvent::Error(error) => {
                self.notice = Some(error.message);
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests;
