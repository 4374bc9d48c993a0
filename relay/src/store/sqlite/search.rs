//! Finding chats. Plain functions over a connection; `mod.rs` runs them on a reader.

use std::collections::HashSet;

use async_trait::async_trait;
use rusqlite::{Connection, params};

use crate::store::search::{ChatSearch, Found, MAX_FOUND, SearchStore};
use crate::store::{ConversationId, StoreError};

use super::SqliteStore;
use super::conversations::conversation;

/// Matching messages read before they are grouped into chats.
const MAX_MESSAGES: i64 = 5000;

/// The FTS5 query for what an agent typed: every word must appear, each as a prefix
/// (so "refun" finds "refund"); quotes keep FTS5's operators out. `None`: no words.
pub(super) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '\'')
        .map(|word| word.trim_matches(['.', '\'']))
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// `%text%` for LIKE, with LIKE's own wildcards escaped.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Chats whose visitor name or answers to the flow (an email, say: the values of its
/// variables, not their names), ticket or number match; the visitor named exactly so
/// first.
fn by_details(conn: &Connection, search: &ChatSearch) -> Result<Vec<ConversationId>, StoreError> {
    let text = search.text.trim();
    let number: Option<i64> = text.trim_start_matches('#').parse().ok();
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
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for row in rows {
        let (id, snippet): (ConversationId, String) = row?;
        if seen.insert(id) {
            found.push((id, snippet));
        }
    }
    Ok(found)
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
    let mut ranked: Vec<(ConversationId, Option<String>)> = Vec::new();
    if search.text.trim().is_empty() {
        ranked.extend(in_range(conn, search)?.into_iter().map(|id| (id, None)));
    } else {
        ranked.extend(by_details(conn, search)?.into_iter().map(|id| (id, None)));
        // "#42" names a chat or ticket; "42" may also be words in a message.
        let number_only = search
            .text
            .trim()
            .strip_prefix('#')
            .is_some_and(|rest| rest.parse::<i64>().is_ok());
        if let Some(query) = fts_query(&search.text).filter(|_| !number_only) {
            let listed: HashSet<ConversationId> = ranked.iter().map(|(id, _)| *id).collect();
            ranked.extend(
                by_messages(conn, search, &query)?
                    .into_iter()
                    .filter(|(id, _)| !listed.contains(id))
                    .map(|(id, snippet)| (id, Some(snippet))),
            );
        }
    }
    ranked.truncate(MAX_FOUND);
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
