//! Canned texts. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use porchlight_protocol::api::canned::CannedText;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{CannedStore, StoreError, now_ms};

use super::{Cached, SqliteStore};

pub(super) fn canned_texts(conn: &Connection) -> Result<Vec<CannedText>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, group_name, title, body FROM canned_texts \
         ORDER BY group_name COLLATE NOCASE, title COLLATE NOCASE",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(CannedText {
            id: row.get(0)?,
            group: row.get(1)?,
            title: row.get(2)?,
            body: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn save_canned(conn: &Connection, text: CannedText) -> Result<CannedText, StoreError> {
    let now = now_ms();
    let taken = conn
        .cached_row(
            "SELECT 1 FROM canned_texts WHERE group_name = ?1 AND title = ?2 AND id <> ?3",
            params![text.group, text.title, text.id],
            |_| Ok(()),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Duplicate);
    }
    if text.id == 0 {
        conn.cached_execute(
            "INSERT INTO canned_texts (group_name, title, body, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![text.group, text.title, text.body, now],
        )?;
        return Ok(CannedText {
            id: conn.last_insert_rowid(),
            ..text
        });
    }
    let updated = conn.cached_execute(
        "UPDATE canned_texts SET group_name = ?1, title = ?2, body = ?3, updated_at = ?4 \
         WHERE id = ?5",
        params![text.group, text.title, text.body, now, text.id],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(text)
}

pub(super) fn delete_canned(conn: &Connection, id: i64) -> Result<(), StoreError> {
    match conn.cached_execute("DELETE FROM canned_texts WHERE id = ?1", [id])? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

#[async_trait]
impl CannedStore for SqliteStore {
    async fn canned_texts(&self) -> Result<Vec<CannedText>, StoreError> {
        self.read(canned_texts).await
    }

    async fn save_canned(&self, text: CannedText) -> Result<CannedText, StoreError> {
        self.write(move |conn| save_canned(conn, text)).await
    }

    async fn delete_canned(&self, id: i64) -> Result<(), StoreError> {
        self.write(move |conn| delete_canned(conn, id)).await
    }
}
