//! The site servers' API keys, on PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgStore;
use crate::store::api_keys::{ApiKeyRow, ApiKeyStore, KeyScope, NewApiKey};
use crate::store::{SiteId, StoreError, now_ms};

const KEY_COLUMNS: &str = "id, site_id, name, prefix, scope, created_at, last_used_at, revoked_at";

fn key_from_row(row: &Row) -> ApiKeyRow {
    ApiKeyRow {
        id: row.get(0),
        site_id: row.get(1),
        name: row.get(2),
        prefix: row.get(3),
        scope: KeyScope::parse(row.get(4)).unwrap_or(KeyScope::Read),
        created_at: row.get(5),
        last_used_at: row.get(6),
        revoked_at: row.get(7),
    }
}

#[async_trait]
impl ApiKeyStore for PgStore {
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKeyRow, StoreError> {
        let row = self
            .client()
            .await?
            .query_one(
                &format!(
                    "INSERT INTO api_keys (site_id, name, prefix, key_hash, scope, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {KEY_COLUMNS}"
                ),
                &[
                    &new.site_id,
                    &new.name,
                    &new.prefix,
                    &new.key_hash,
                    &new.scope.as_str(),
                    &now_ms(),
                ],
            )
            .await?;
        Ok(key_from_row(&row))
    }

    async fn api_keys(&self, site_id: SiteId) -> Result<Vec<ApiKeyRow>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE site_id = $1 ORDER BY id DESC"),
                &[&site_id],
            )
            .await?;
        Ok(rows.iter().map(key_from_row).collect())
    }

    async fn revoke_api_key(&self, site_id: SiteId, id: i64) -> Result<ApiKeyRow, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) \
                     WHERE id = $1 AND site_id = $2 RETURNING {KEY_COLUMNS}"
                ),
                &[&id, &site_id, &now_ms()],
            )
            .await?;
        row.as_ref().map(key_from_row).ok_or(StoreError::NotFound)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"),
                &[&key_hash],
            )
            .await?;
        Ok(row.as_ref().map(key_from_row))
    }

    async fn touch_api_key(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "UPDATE api_keys SET last_used_at = $2 WHERE id = $1",
                &[&id, &now],
            )
            .await?;
        Ok(())
    }
}
