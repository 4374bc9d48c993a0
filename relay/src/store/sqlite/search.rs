//! Finding chats. Plain functions over a connection; `mod.rs` runs them on a reader.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crate::store::search::{
    ChatSearch, Found, MAX_FOUND, SearchStore, like_pattern, ranked, search_messages, typed_number,
    typed_words,
};
use crate::store::{ConversationId, StoreError};

use super::SqliteStore;
use super::conversations::conversation;

/// Matching messages read before they are grouped into chats.
const MAX_MESSAGES: i64 = 5000;

/// The FTS5 query for what an agent typed: every word must appear, each as a prefix
/// (so "refun" finds "refund"); quotes keep FTS5's operators out. `None`: no words.
pub(super) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = typed_words(text)
        .into_iter()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Chats whose visitor name or answers to the flow (an email, say: the values of its
/// variables, not their names), ticket or number match; the visitor named exactly so
/// first.
fn by_details(conn: &Connection, search: &ChatSearch) -> Result<Vec<ConversationId>, StoreError> {
    let text = search.text.trim();
    let number = typed_number(text);
    let mut statement = conn.prepare_cached(
        "SELECT c.id FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
         WHERE c.created_at >= ?1 AND c.created_at < ?2 \
         AND (v.display_name LIKE ?3 ESCAPE '\\' OR c.ticket_id = ?4 OR c.id = ?4 \
              OR CASE WHEN json_valid(c.flow_state) THEN EXISTS (SELECT 1 FROM \
                 json_each(c.flow_state, '$.variables') WHERE value LIKE ?3 ESCAPE '\\') \
                 ELSE 0 END) \
         ORDER BY v.display_name = ?6 COLLATE NOCASE DESC, c.id DESC LIMIT ?5",
    )?;
    let rows = statement.query_map(
        params![
            search.from,
            search.to,
            like_pattern(text),
            number,
            MAX_FOUND as i64,
            text
        ],
        |row| row.get(0),
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Chats whose messages match, best first, with the best message's matching words.
fn by_messages(
    conn: &Connection,
    search: &ChatSearch,
    query: &str,
) -> Result<Vec<(ConversationId, String)>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT m.conversation_id, snippet(messages_fts, 0, '', '', '…', 16) \
         FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid \
         JOIN conversations c ON c.id = m.conversation_id \
         WHERE messages_fts MATCH ?1 AND c.created_at >= ?2 AND c.created_at < ?3 \
         ORDER BY bm25(messages_fts) LIMIT ?4",
    )?;
    let rows = statement.query_map(
        params![query, search.from, search.to, MAX_MESSAGES],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Every chat started in the range, newest first.
fn in_range(conn: &Connection, search: &ChatSearch) -> Result<Vec<ConversationId>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id FROM conversations WHERE created_at >= ?1 AND created_at < ?2 \
         ORDER BY created_at DESC, id DESC LIMIT ?3",
    )?;
    let rows = statement.query_map(params![search.from, search.to, MAX_FOUND as i64], |row| {
        row.get(0)
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn search_chats(
    conn: &Connection,
    search: &ChatSearch,
) -> Result<Vec<Found>, StoreError> {
    let ranked = if search.text.trim().is_empty() {
        ranked(in_range(conn, search)?, Vec::new())
    } else {
        let messages = match fts_query(&search.text).filter(|_| search_messages(&search.text)) {
            Some(query) => by_messages(conn, search, &query)?,
            None => Vec::new(),
        };
        ranked(by_details(conn, search)?, messages)
    };
    let mut found = Vec::with_capacity(ranked.len());
    for (id, snippet) in ranked {
        if let Some(conversation) = conversation(conn, id)? {
            found.push(Found {
                conversation,
                snippet,
            });
        }
    }
    Ok(found)
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search_chats(&self, search: ChatSearch) -> Result<Vec<Found>, StoreError> {
        self.read(move |conn| search_chats(conn, &search)).await
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_words_become_a_safe_prefix_query() {
        assert_eq!(
            fts_query("refund  Policy").as_deref(),
            Some("\"refund\"* \"Policy\"*")
        );
        assert_eq!(
            fts_query("ana@example.com").as_deref(),
            Some("\"ana@example.com\"*")
        );
        assert_eq!(
            fts_query("NOT \"x\" OR y*").as_deref(),
            Some("\"NOT\"* \"x\"* \"OR\"* \"y\"*"),
            "FTS5's operators are only words"
        );
        assert_eq!(fts_query(" -- * ").as_deref(), None);
    }
}
