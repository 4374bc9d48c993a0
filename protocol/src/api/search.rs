//! The body of `GET /api/conversations/search`: chats an agent may see, found by
//! their text, the visitor's name or email, the ticket or chat number, and a date range.

use serde::{Deserialize, Serialize};

use crate::ChatSummary;

/// One chat found.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub chat: ChatSummary,
    /// When the chat started (milliseconds since the Unix epoch).
    pub started_at: i64,
    /// The best-matching words of its messages, when the text matched them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// A page of hits, best first.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Hits in all (up to the relay's cap); ask again with `offset` for the next page.
    pub total: usize,
    pub offset: usize,
}
