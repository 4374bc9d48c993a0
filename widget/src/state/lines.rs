//! What the widget says about the chat, in the visitor's language: the status line
//! and title, the waiting banner, and hints on a draft that cannot be an answer.

use porchlight_protocol::words::{Text, Words};
use porchlight_protocol::{ConversationStatus, InputKind};

use super::{ChatState, Link};

impl ChatState {
    /// The waiting banner: place in line and estimated wait, as the profile shows them.
    pub fn queue_line(&self) -> Option<String> {
        let waiting = self
            .conversation
            .as_ref()
            .is_some_and(|c| c.status == ConversationStatus::Queued);
        let info = self.queue.as_ref().filter(|_| waiting)?;
        let words = self.words();
        let wait = info.wait.as_deref().map(|minutes| match minutes {
            "< 1" => words.get(Text::WaitUnderMinute).to_owned(),
            "1" => words.get(Text::WaitOneMinute).to_owned(),
            minutes => words.fill(Text::WaitMinutes, &[("minutes", minutes)]),
        });
        let position = info.position.map(|position| position.to_string());
        match (position, wait) {
            (Some(position), Some(wait)) => Some(words.fill(
                Text::QueuePositionWait,
                &[("position", &position), ("wait", &wait)],
            )),
            (Some(position), None) => {
                Some(words.fill(Text::QueuePosition, &[("position", &position)]))
            }
            (None, Some(wait)) => Some(words.fill(Text::QueueWait, &[("wait", &wait)])),
            (None, None) => None,
        }
    }

    /// The line under the title.
    pub fn status_line(&self) -> String {
        let words = self.words();
        if self.link == Link::Reconnecting {
            return words.get(Text::Reconnecting).to_owned();
        }
        let text = match &self.conversation {
            None => self.idle_line(),
            Some(conversation) => match conversation.status {
                ConversationStatus::Bot => self.idle_line(),
                ConversationStatus::Queued => Text::Waiting,
                ConversationStatus::Active => match &conversation.agent_name {
                    Some(name) => return words.fill(Text::ChattingWith, &[("name", name)]),
                    None => Text::AgentJoined,
                },
                ConversationStatus::Ended => Text::ChatEnded,
            },
        };
        words.get(text).to_owned()
    }

    fn idle_line(&self) -> Text {
        match &self.profile {
            Some(profile) if !profile.online => Text::Offline,
            _ => Text::Online,
        }
    }

    /// The header title: the profile's, unless it left the widget's own.
    pub fn title(&self) -> String {
        match &self.profile {
            Some(profile)
                if !profile.title.is_empty()
                    && profile.title != Words::english().get(Text::Title) =>
            {
                profile.title.clone()
            }
            _ => self.words().get(Text::Title).to_owned(),
        }
    }

    /// An inline hint when the draft cannot be a valid answer to the prompt. The
    /// relay checks again; this only saves a round trip.
    pub fn draft_problem(&self, draft: &str) -> Option<&str> {
        let draft = draft.trim();
        let words = self.words();
        match self.prompt.as_ref().and_then(|prompt| prompt.input) {
            Some(InputKind::Email) => {
                let valid = draft.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !draft.contains(' ')
                });
                (!valid).then(|| words.get(Text::EnterEmail))
            }
            Some(InputKind::Number) => {
                (!looks_like_number(draft)).then(|| words.get(Text::EnterNumber))
            }
            Some(InputKind::Date) => {
                let parts: Vec<&str> = draft.split('-').collect();
                let valid = parts.len() == 3
                    && parts[0].len() == 4
                    && parts.iter().all(|part| part.parse::<u32>().is_ok());
                (!valid).then(|| words.get(Text::EnterDate))
            }
            _ => None,
        }
    }
}

/// `[+-]digits[.,digits][e[+-]digits]`, the finite numbers the relay accepts; checked
/// by shape because float parsing would add ~10 KB of tables to the wasm.
pub(super) fn looks_like_number(text: &str) -> bool {
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
