//! Finding chats: by the words of their messages (ranked), the visitor's name or email,
//! the ticket or chat number, and when they started. The query is plain text; each
//! backend turns it into its own full-text syntax.

use std::collections::HashSet;

use async_trait::async_trait;

use super::{Conversation, ConversationId, StoreError};

/// The most chats one search returns, best first (visibility is checked after).
pub const MAX_FOUND: usize = 500;

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct ChatSearch {
    /// The words the agent typed; blank lists every chat in the range, newest first.
    pub text: String,
    /// Chats started in `[from, to)`, milliseconds since the Unix epoch.
    pub from: i64,
    pub to: i64,
}

/// A chat found, with the words of its best-matching message.
#[derive(Debug, Clone)]
pub struct Found {
    pub conversation: Conversation,
    pub snippet: Option<String>,
}

#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Chats matching `search`: those whose visitor, email, ticket or number match come
    /// first (newest first), then those whose messages match, best match first. At
    /// most [`MAX_FOUND`].
    async fn search_chats(&self, search: ChatSearch) -> Result<Vec<Found>, StoreError>;
}

/// The words an agent typed, each to be found as a prefix: split at anything but
/// letters, digits and the `@ . '` of addresses and names (trimmed of the last two).
pub(crate) fn typed_words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '\'')
        .map(|word| word.trim_matches(['.', '\'']))
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .collect()
}

/// `%text%` for LIKE, with LIKE's own wildcards escaped (`ESCAPE '\'`).
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The chat or ticket number typed, if the text is one (`42`, `#42`).
pub(crate) fn typed_number(text: &str) -> Option<i64> {
    text.trim().trim_start_matches('#').parse().ok()
}

/// Whether the words are worth looking for in messages: "#42" names a chat or ticket
/// only, while "42" may also be words in a message.
pub(crate) fn search_messages(text: &str) -> bool {
    let number_only = text
        .trim()
        .strip_prefix('#')
        .is_some_and(|rest| rest.parse::<i64>().is_ok());
    !number_only && !typed_words(text).is_empty()
}

/// The chats found by their details first, then those found by their messages (each
/// chat once, with its best message's words), at most [`MAX_FOUND`].
pub(crate) fn ranked(
    by_details: Vec<ConversationId>,
    by_messages: Vec<(ConversationId, String)>,
) -> Vec<(ConversationId, Option<String>)> {
    let mut seen = HashSet::new();
    let mut ranked: Vec<(ConversationId, Option<String>)> = by_details
        .into_iter()
        .filter(|id| seen.insert(*id))
        .map(|id| (id, None))
        .collect();
    ranked.extend(
        by_messages
            .into_iter()
            .filter(|(id, _)| seen.insert(*id))
            .map(|(id, snippet)| (id, Some(snippet))),
    );
    ranked.truncate(MAX_FOUND);
    ranked
}
