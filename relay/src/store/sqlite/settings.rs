//! Relay-wide settings, one row a key. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::settings::{AbandonRules, ChatRules};
use crate::store::{SettingStore, StoreError};

use super::{Cached, SqliteStore};

pub(super) fn chat_rules(conn: &Connection) -> Result<ChatRules, StoreError> {
    let setting = |key: &str, default: bool| -> rusqlite::Result<bool> {
        Ok(conn
            .cached_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get::<_, String>(0)
            })
            .optional()?
            .map_or(default, |value| value == "true"))
    };
    let defaults = ChatRules::default();
    Ok(ChatRules {
        prevent_multiple_agents: setting(
            "prevent_multiple_agents",
            defaults.prevent_multiple_agents,
        )?,
        one_chat_per_agent: setting("one_chat_per_agent", defaults.one_chat_per_agent)?,
        through_tickets: setting("through_tickets", defaults.through_tickets)?,
        ticket_agent_only: setting("ticket_agent_only", defaults.ticket_agent_only)?,
    })
}

pub(super) fn set_chat_rules(conn: &Connection, rules: ChatRules) -> Result<(), StoreError> {
    for (key, value) in [
        ("prevent_multiple_agents", rules.prevent_multiple_agents),
        ("one_chat_per_agent", rules.one_chat_per_agent),
        ("through_tickets", rules.through_tickets),
        ("ticket_agent_only", rules.ticket_agent_only),
    ] {
        conn.cached_execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value.to_string()],
        )?;
    }
    Ok(())
}

pub(super) fn abandon_rules(conn: &Connection) -> Result<AbandonRules, StoreError> {
    let text: Option<String> = conn
        .cached_row(
            "SELECT value FROM settings WHERE key = 'abandon'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    Ok(text
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

pub(super) fn set_abandon_rules(conn: &Connection, rules: AbandonRules) -> Result<(), StoreError> {
    conn.cached_execute(
        "INSERT INTO settings (key, value) VALUES ('abandon', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [serde_json::to_string(&rules).unwrap_or_default()],
    )?;
    Ok(())
}

pub(super) fn setting(conn: &Connection, key: &'static str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .cached_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

pub(super) fn set_setting(
    conn: &Connection,
    key: &'static str,
    value: String,
) -> Result<(), StoreError> {
    conn.cached_execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[async_trait]
impl SettingStore for SqliteStore {
    async fn chat_rules(&self) -> Result<ChatRules, StoreError> {
        self.read(chat_rules).await
    }

    async fn set_chat_rules(&self, rules: ChatRules) -> Result<(), StoreError> {
        self.write(move |conn| set_chat_rules(conn, rules)).await
    }

    async fn abandon_rules(&self) -> Result<AbandonRules, StoreError> {
        self.read(abandon_rules).await
    }

    async fn set_abandon_rules(&self, rules: AbandonRules) -> Result<(), StoreError> {
        self.write(move |conn| set_abandon_rules(conn, rules)).await
    }

    async fn setting(&self, key: &'static str) -> Result<Option<String>, StoreError> {
        self.read(move |conn| setting(conn, key)).await
    }

    async fn set_setting(&self, key: &'static str, value: String) -> Result<(), StoreError> {
        self.write(move |conn| set_setting(conn, key, value)).await
    }
}
