//! Relay-wide settings on PostgreSQL, one row a key, as in SQLite; canned texts.

use async_trait::async_trait;
use porchlight_protocol::api::canned::CannedText;

use super::{PgStore, unique_as_duplicate};
use crate::store::settings::{AbandonRules, ChatRules};
use crate::store::{CannedStore, SettingStore, StoreError, now_ms};

const UPSERT: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
                      ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// The chat rules by key, each `"true"` or `"false"`.
const RULES: [&str; 4] = [
    "prevent_multiple_agents",
    "one_chat_per_agent",
    "through_tickets",
    "ticket_agent_only",
];

#[async_trait]
impl SettingStore for PgStore {
    async fn chat_rules(&self) -> Result<ChatRules, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT key, value FROM settings WHERE key = ANY($1)",
                &[&RULES.as_slice()],
            )
            .await?;
        let stored = |key: &str, default: bool| {
            rows.iter()
                .find(|row| row.get::<_, &str>(0) == key)
                .map_or(default, |row| row.get::<_, &str>(1) == "true")
        };
        let defaults = ChatRules::default();
        Ok(ChatRules {
            prevent_multiple_agents: stored(RULES[0], defaults.prevent_multiple_agents),
            one_chat_per_agent: stored(RULES[1], defaults.one_chat_per_agent),
            through_tickets: stored(RULES[2], defaults.through_tickets),
            ticket_agent_only: stored(RULES[3], defaults.ticket_agent_only),
        })
    }

    async fn set_chat_rules(&self, rules: ChatRules) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let values = [
            rules.prevent_multiple_agents,
            rules.one_chat_per_agent,
            rules.through_tickets,
            rules.ticket_agent_only,
        ];
        for (key, value) in RULES.iter().zip(values) {
            transaction
                .execute(UPSERT, &[key, &value.to_string()])
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn abandon_rules(&self) -> Result<AbandonRules, StoreError> {
        Ok(self
            .setting("abandon")
            .await?
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default())
    }

    async fn set_abandon_rules(&self, rules: AbandonRules) -> Result<(), StoreError> {
        let text = serde_json::to_string(&rules).unwrap_or_default();
        self.set_setting("abandon", text).await
    }

    async fn setting(&self, key: &'static str) -> Result<Option<String>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
            .await?;
        Ok(row.map(|row| row.get(0)))
    }

    async fn set_setting(&self, key: &'static str, value: String) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(UPSERT, &[&key, &value])
            .await?;
        Ok(())
    }
}

#[async_trait]
impl CannedStore for PgStore {
    async fn canned_texts(&self) -> Result<Vec<CannedText>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, group_name, title, body FROM canned_texts \
                 ORDER BY lower(group_name), lower(title)",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| CannedText {
                id: row.get(0),
                group: row.get(1),
                title: row.get(2),
                body: row.get(3),
            })
            .collect())
    }

    async fn save_canned(&self, text: CannedText) -> Result<CannedText, StoreError> {
        let now = now_ms();
        let client = self.client().await?;
        // A title its group already has is refused by the unique index, whichever
        // node writes it first.
        if text.id == 0 {
            let row = client
                .query_one(
                    "INSERT INTO canned_texts (group_name, title, body, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $4) RETURNING id",
                    &[&text.group, &text.title, &text.body, &now],
                )
                .await
                .map_err(unique_as_duplicate)?;
            return Ok(CannedText {
                id: row.get(0),
                ..text
            });
        }
        let updated = client
            .execute(
                "UPDATE canned_texts SET group_name = $1, title = $2, body = $3, updated_at = $4 \
                 WHERE id = $5",
                &[&text.group, &text.title, &text.body, &now, &text.id],
            )
            .await
            .map_err(unique_as_duplicate)?;
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(text)
    }

    async fn delete_canned(&self, id: i64) -> Result<(), StoreError> {
        let deleted = self
            .client()
            .await?
            .execute("DELETE FROM canned_texts WHERE id = $1", &[&id])
            .await?;
        match deleted {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
}
