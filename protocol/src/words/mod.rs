//! The widget's words in every language it speaks, and which language a visitor gets.
//!
//! Each [`Text`] has a key (what a profile's `[appearance.strings.LANG]` overrides)
//! and one line per [`Language`]. A line may name placeholders such as `{name}`;
//! every language's line names the same ones.
//!
//! Only English is built into the widget. For any other language, or a profile's own
//! lines, the relay sends the whole table in the welcome ([`Language::table`]), so the
//! widget's download does not grow with each language. The relay writes its chat
//! events ("Ana joined the chat") in English, and the widget reads them back with
//! [`Words::event`] to show them in the visitor's language.

mod ar;
mod de;
mod en;
mod es;
mod fr;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A language the widget speaks.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    De,
    Fr,
    Es,
    Ar,
}

impl Language {
    pub const ALL: [Language; 5] = [Self::En, Self::De, Self::Fr, Self::Es, Self::Ar];

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::Es => "es",
            Self::Ar => "ar",
        }
    }

    /// A BCP 47 tag's language (`de-AT` is German), if the widget speaks it.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|language| language.code().eq_ignore_ascii_case(primary))
    }

    /// The profile's language, else the first of the browser's that the widget
    /// speaks, else English.
    pub fn pick(profile: Option<Language>, browser: &[String]) -> Self {
        profile
            .or_else(|| Self::spoken(browser))
            .unwrap_or(Self::En)
    }

    /// The first of the browser's languages (of its first [`MAX_BROWSER_LANGUAGES`])
    /// that the widget speaks.
    pub fn spoken(browser: &[String]) -> Option<Self> {
        browser
            .iter()
            .take(MAX_BROWSER_LANGUAGES)
            .find_map(|tag| Self::from_tag(tag))
    }

    /// Written right to left.
    pub fn is_rtl(self) -> bool {
        self == Self::Ar
    }

    fn lines(self) -> &'static Lines {
        match self {
            Self::En => &en::LINES,
            Self::De => &de::LINES,
            Self::Fr => &fr::LINES,
            Self::Es => &es::LINES,
            Self::Ar => &ar::LINES,
        }
    }
}

/// Declares the texts in order: each language's `LINES` lists its lines in this order.
macro_rules! texts {
    ($($variant:ident => $key:literal,)*) => {
        /// One thing the widget says.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text { $($variant,)* }

        impl Text {
            pub const ALL: &'static [Text] = &[$(Self::$variant,)*];

            /// The name a profile uses to override it.
            pub fn key(self) -> &'static str {
                match self { $(Self::$variant => $key,)* }
            }
        }
    };
}

texts! {
    Title => "title",
    Chat => "chat",
    CloseChat => "close_chat",
    Reconnecting => "reconnecting",
    Online => "online",
    Offline => "offline",
    Waiting => "waiting",
    ChattingWith => "chatting_with",
    AgentJoined => "agent_joined",
    ChatEnded => "chat_ended",
    QueuePositionWait => "queue_position_wait",
    QueuePosition => "queue_position",
    QueueWait => "queue_wait",
    WaitUnderMinute => "wait_under_minute",
    WaitOneMinute => "wait_one_minute",
    WaitMinutes => "wait_minutes",
    Choices => "choices",
    Yes => "yes",
    No => "no",
    ChooseOption => "choose_option",
    WriteMessage => "write_message",
    Message => "message",
    Send => "send",
    Attach => "attach",
    SendingFile => "sending_file",
    FileNotSent => "file_not_sent",
    EnterEmail => "enter_email",
    EnterNumber => "enter_number",
    EnterDate => "enter_date",
    IsTyping => "is_typing",
    Typing => "typing",
    Sources => "sources",
    ChatOptions => "chat_options",
    EndChat => "end_chat",
    EndQuestion => "end_question",
    EndExplained => "end_explained",
    KeepChatting => "keep_chatting",
    RateChat => "rate_chat",
    HowWasIt => "how_was_it",
    Rating => "rating",
    Stars => "stars",
    ThumbsUp => "thumbs_up",
    ThumbsDown => "thumbs_down",
    Comment => "comment",
    CommentHint => "comment_hint",
    SendRating => "send_rating",
    Thanks => "thanks",
    EmailTranscript => "email_transcript",
    YourEmail => "your_email",
    TranscriptQueued => "transcript_queued",
    Cancel => "cancel",
    Joined => "joined",
    Transferred => "transferred",
    VisitorEnded => "visitor_ended",
    EndedBy => "ended_by",
    NobodyAnswered => "nobody_answered",
    Ended => "ended",
    TooFast => "too_fast",
    TooLong => "too_long",
    WentWrong => "went_wrong",
}

/// How many texts there are: each language's `LINES` has exactly this many.
const COUNT: usize = Text::ALL.len();
type Lines = [&'static str; COUNT];

impl Text {
    /// A key as a profile writes it.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|text| text.key() == key)
    }

    /// The placeholders its lines name, such as `name` for `{name}`.
    pub fn placeholders(self) -> Vec<&'static str> {
        placeholders(english(self))
    }
}

/// The `{…}` names in `line`.
pub fn placeholders(line: &str) -> Vec<&str> {
    line.split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .collect()
}

/// A profile's own lines, per language and key.
pub type Overrides = BTreeMap<Language, BTreeMap<String, String>>;

/// The most browser languages a hello may list.
pub const MAX_BROWSER_LANGUAGES: usize = 10;

impl Language {
    /// What the relay sends the widget: every line in this language with the profile's
    /// own in their place; nothing for English as built in.
    pub fn table(self, overrides: &Overrides) -> Vec<String> {
        let own = overrides.get(&self);
        if self == Self::En && own.is_none_or(BTreeMap::is_empty) {
            return Vec::new();
        }
        Text::ALL
            .iter()
            .map(|&text| {
                own.and_then(|own| own.get(text.key()))
                    .map_or(self.lines()[text as usize], String::as_str)
                    .to_owned()
            })
            .collect()
    }
}

/// The English line, as built into the widget.
pub fn english(text: Text) -> &'static str {
    en::LINES[text as usize]
}

/// The lines the widget shows: the table the relay sent, else English.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    pub language: Language,
    lines: &'a [String],
}

impl<'a> Words<'a> {
    pub fn new(language: Language, lines: &'a [String]) -> Self {
        Self { language, lines }
    }

    pub const fn english() -> Words<'static> {
        Words {
            language: Language::En,
            lines: &[],
        }
    }

    pub fn get(&self, text: Text) -> &'a str {
        self.lines
            .get(text as usize)
            .map_or(english(text), String::as_str)
    }

    /// The line with its placeholders filled.
    pub fn fill(&self, text: Text, values: &[(&str, &str)]) -> String {
        fill(self.get(text), values)
    }

    /// A chat event the relay wrote in English, in this language (unchanged when it
    /// is not one of the events).
    pub fn event(&self, body: &str) -> String {
        const EVENTS: [Text; 6] = [
            Text::VisitorEnded,
            Text::NobodyAnswered,
            Text::Ended,
            Text::Transferred,
            Text::Joined,
            Text::EndedBy,
        ];
        EVENTS
            .iter()
            .find_map(|&text| {
                let values = read_back(english(text), body)?;
                Some(self.fill(text, &values))
            })
            .unwrap_or_else(|| body.to_owned())
    }
}

fn fill(line: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('{') {
        let Some((name, tail)) = rest[start + 1..].split_once('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        match values.iter().find(|(key, _)| *key == name) {
            Some((_, value)) => out.push_str(value),
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The placeholders' values if `text` is `line` filled in, else `None`.
fn read_back<'t>(line: &'static str, text: &'t str) -> Option<Vec<(&'static str, &'t str)>> {
    let (first, mut rest_of_line) = line.split_once('{').unwrap_or((line, ""));
    let mut text = text.strip_prefix(first)?;
    if rest_of_line.is_empty() {
        return text.is_empty().then(Vec::new);
    }
    let mut values = Vec::new();
    loop {
        let (name, tail) = rest_of_line.split_once('}')?;
        let (literal, next) = tail.split_once('{').unwrap_or((tail, ""));
        let value = if next.is_empty() {
            text.strip_suffix(literal)?
        } else {
            &text[..text.find(literal)?]
        };
        if value.is_empty() {
            return None;
        }
        values.push((name, value));
        if next.is_empty() {
            return Some(values);
        }
        text = &text[value.len() + literal.len()..];
        rest_of_line = next;
    }
}
