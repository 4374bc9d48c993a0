//! Chat profiles (their definitions are JSON) and which one a site uses, on PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{PgStore, unique_as_duplicate};
use crate::store::model::{SiteId, StoredProfile};
use crate::store::{ProfileStore, StoreError, now_ms};

const PROFILE_COLUMNS: &str = "id, site_id, name, definition, updated_at";

fn profile_from_row(row: &Row) -> StoredProfile {
    StoredProfile {
        id: row.get(0),
        site_id: row.get(1),
        name: row.get(2),
        definition: row.get(3),
        updated_at: row.get(4),
    }
}

#[async_trait]
impl ProfileStore for PgStore {
    async fn profile(&self, id: i64) -> Result<Option<StoredProfile>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = $1"),
                &[&id],
            )
            .await?;
        Ok(row.as_ref().map(profile_from_row))
    }

    async fn all_profiles(&self) -> Result<Vec<StoredProfile>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {PROFILE_COLUMNS} FROM profiles ORDER BY id"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(profile_from_row).collect())
    }

    async fn set_default_profile(&self, site_id: SiteId, id: i64) -> Result<(), StoreError> {
        let updated = self
            .client()
            .await?
            .execute(
                "UPDATE sites SET default_profile_id = $1 WHERE id = $2 \
                 AND EXISTS (SELECT 1 FROM profiles WHERE id = $1 AND site_id = $2)",
                &[&id, &site_id],
            )
            .await?;
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn update_profile(
        &self,
        id: i64,
        name: &str,
        definition: String,
    ) -> Result<StoredProfile, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "UPDATE profiles SET name = $1, definition = $2, updated_at = $3 \
                     WHERE id = $4 RETURNING {PROFILE_COLUMNS}"
                ),
                &[&name, &definition, &now_ms(), &id],
            )
            .await
            .map_err(unique_as_duplicate)?;
        row.as_ref()
            .map(profile_from_row)
            .ok_or(StoreError::NotFound)
    }

    async fn save_profile(
        &self,
        site_id: SiteId,
        name: &str,
        definition: String,
        make_default: bool,
    ) -> Result<StoredProfile, StoreError> {
        let now = now_ms();
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let id: i64 = transaction
            .query_one(
                "INSERT INTO profiles (site_id, name, definition, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (site_id, name) DO UPDATE SET definition = excluded.definition, \
                 updated_at = excluded.updated_at RETURNING id",
                &[&site_id, &name, &definition, &now],
            )
            .await?
            .get(0);
        if make_default {
            transaction
                .execute(
                    "UPDATE sites SET default_profile_id = $1 WHERE id = $2",
                    &[&id, &site_id],
                )
                .await?;
        }
        transaction.commit().await?;
        Ok(StoredProfile {
            id,
            site_id,
            name: name.to_owned(),
            definition,
            updated_at: now,
        })
    }
}
