//! Finding chats on PostgreSQL: the words of their messages through the messages'
//! `tsvector` (every word, each as a prefix, ranked by `ts_rank`), the visitor's name
//! or answers to the flow, the ticket or chat number, and when they started.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::PgStore;
use super::conversations::load_conversation;
use crate::store::search::{
    ChatSearch, Found, MAX_FOUND, SearchStore, like_pattern, ranked, search_messages, typed_number,
    typed_words,
};
use crate::store::{ConversationId, StoreError};

/// Matching messages read before they are grouped into chats.
const MAX_MESSAGES: i64 = 5000;

const MOST: i64 = MAX_FOUND as i64;

/// Chats whose visitor name or answers to the flow, ticket or number match; the
/// visitor named exactly so first.
async fn by_details(
    client: &impl GenericClient,
    search: &ChatSearch,
) -> Result<Vec<ConversationId>, StoreError> {
    let text = search.text.trim();
    let rows = client
        .query(
            "SELECT c.id FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
             WHERE c.created_at >= $1 AND c.created_at < $2 \
             AND (v.display_name ILIKE $3 ESCAPE '\\' OR c.ticket_id = $4 OR c.id = $4 \
                  OR EXISTS (SELECT 1 FROM unnest(flow_values(c.flow_state)) answer \
                             WHERE answer ILIKE $3 ESCAPE '\\')) \
             ORDER BY lower(v.display_name) = lower($6) DESC, c.id DESC LIMIT $5",
            &[
                &search.from,
                &search.to,
                &like_pattern(text),
                &typed_number(text),
                &MOST,
                &text,
            ],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Chats whose messages hold every word (each as a prefix), best message first, with
/// its matching words.
async fn by_messages(
    client: &impl GenericClient,
    search: &ChatSearch,
) -> Result<Vec<(ConversationId, String)>, StoreError> {
    let words: Vec<&str> = typed_words(&search.text);
    let rows = client
        .query(
            "WITH typed AS (SELECT to_tsquery('simple', string_agg(quote_literal(word) || ':*', \
             ' & ')) AS query FROM unnest($1::TEXT[]) word) \
             SELECT m.conversation_id, ts_headline('simple', m.body, typed.query, \
             'StartSel=\"\", StopSel=\"\", MaxWords=16, MinWords=4') \
             FROM typed, messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.search @@ typed.query AND c.created_at >= $2 AND c.created_at < $3 \
             ORDER BY ts_rank(m.search, typed.query) DESC, m.id LIMIT $4",
            &[&words, &search.from, &search.to, &MAX_MESSAGES],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Every chat started in the range, newest first.
async fn in_range(
    client: &impl GenericClient,
    search: &ChatSearch,
) -> Result<Vec<ConversationId>, StoreError> {
    let rows = client
        .query(
            "SELECT id FROM conversations WHERE created_at >= $1 AND created_at < $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3",
            &[&search.from, &search.to, &MOST],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

#[async_trait]
impl SearchStore for PgStore {
    async fn search_chats(&self, search: ChatSearch) -> Result<Vec<Found>, StoreError> {
        let client = self.client().await?;
        let ranked = if search.text.trim().is_empty() {
            ranked(in_range(&client, &search).await?, Vec::new())
        } else {
            let messages = if search_messages(&search.text) {
                by_messages(&client, &search).await?
            } else {
                Vec::new()
            };
            ranked(by_details(&client, &search).await?, messages)
        };
        let mut found = Vec::with_capacity(ranked.len());
        for (id, snippet) in ranked {
            if let Some(conversation) = load_conversation(&client, id).await? {
                found.push(Found {
                    conversation,
                    snippet,
                });
            }
        }
        Ok(found)
    }
}
