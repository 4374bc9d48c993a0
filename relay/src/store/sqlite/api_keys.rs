//! The site servers' API keys. Plain functions over a connection; `mod.rs` runs them
//! on the writer thread or a reader.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::api_keys::{ApiKeyRow, ApiKeyStore, KeyScope, NewApiKey};
use crate::store::{SiteId, StoreError, now_ms};

use super::{Cached, SqliteStore};

const KEY_COLUMNS: &str = "id, site_id, name, prefix, scope, created_at, last_used_at, revoked_at";

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: row.get(0)?,
        site_id: row.get(1)?,
        name: row.get(2)?,
        prefix: row.get(3)?,
        scope: KeyScope::parse(&row.get::<_, String>(4)?).unwrap_or(KeyScope::Read),
        created_at: row.get(5)?,
        last_used_at: row.get(6)?,
        revoked_at: row.get(7)?,
    })
}

fn key_by_id(conn: &Connection, id: i64) -> Result<Option<ApiKeyRow>, StoreError> {
    Ok(conn
        .cached_row(
            &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"),
            [id],
            key_from_row,
        )
        .optional()?)
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKeyRow, StoreError> {
        self.write(move |conn| {
            conn.cached_execute(
                "INSERT INTO api_keys (site_id, name, prefix, key_hash, scope, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    new.site_id,
                    new.name,
                    new.prefix,
                    new.key_hash,
                    new.scope.as_str(),
                    now_ms()
                ],
            )?;
            key_by_id(conn, conn.last_insert_rowid())?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn api_keys(&self, site_id: SiteId) -> Result<Vec<ApiKeyRow>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE site_id = ?1 ORDER BY id DESC"
            ))?;
            let rows = statement.query_map([site_id], key_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn revoke_api_key(&self, site_id: SiteId, id: i64) -> Result<ApiKeyRow, StoreError> {
        self.write(move |conn| {
            conn.cached_execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?3) \
                 WHERE id = ?1 AND site_id = ?2",
                params![id, site_id, now_ms()],
            )?;
            key_by_id(conn, id)?
                .filter(|key| key.site_id == site_id)
                .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        let key_hash = key_hash.to_owned();
        self.read(move |conn| {
            Ok(conn
                .cached_row(
                    &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1"),
                    [key_hash],
                    key_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn touch_api_key(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.cached_execute(
                "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            Ok(())
        })
        .await
    }
}
