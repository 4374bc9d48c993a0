//! Chat profiles (their definitions are JSON) and which one a site uses. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::model::{SiteId, StoredProfile};
use crate::store::{ProfileStore, StoreError, now_ms};

use super::{Cached, SqliteStore};

pub(super) const PROFILE_COLUMNS: &str = "id, site_id, name, definition, updated_at";

pub(super) fn profile_from_row(row: &Row<'_>) -> rusqlite::Result<StoredProfile> {
    Ok(StoredProfile {
        id: row.get(0)?,
        site_id: row.get(1)?,
        name: row.get(2)?,
        definition: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

pub(super) fn profile(conn: &Connection, id: i64) -> Result<Option<StoredProfile>, StoreError> {
    Ok(conn
        .cached_row(
            &format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = ?1"),
            [id],
            profile_from_row,
        )
        .optional()?)
}

pub(super) fn all_profiles(conn: &Connection) -> Result<Vec<StoredProfile>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles ORDER BY id"
    ))?;
    let rows = statement.query_map([], profile_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn set_default_profile(
    conn: &Connection,
    site_id: SiteId,
    id: i64,
) -> Result<(), StoreError> {
    let updated = conn.cached_execute(
        "UPDATE sites SET default_profile_id = ?1 WHERE id = ?2 \
         AND EXISTS (SELECT 1 FROM profiles WHERE id = ?1 AND site_id = ?2)",
        params![id, site_id],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn update_profile(
    conn: &Connection,
    id: i64,
    name: &str,
    definition: String,
) -> Result<StoredProfile, StoreError> {
    let now = now_ms();
    let updated = conn.cached_execute(
        "UPDATE OR IGNORE profiles SET name = ?1, definition = ?2, updated_at = ?3 \
         WHERE id = ?4",
        params![name, definition, now, id],
    )?;
    if updated == 0 {
        let exists: bool = conn
            .cached_row("SELECT 1 FROM profiles WHERE id = ?1", [id], |_| Ok(true))
            .optional()?
            .unwrap_or(false);
        return Err(if exists {
            StoreError::Duplicate
        } else {
            StoreError::NotFound
        });
    }
    Ok(conn.cached_row(
        &format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = ?1"),
        [id],
        profile_from_row,
    )?)
}

pub(super) fn save_profile(
    conn: &Connection,
    site_id: SiteId,
    name: &str,
    definition: String,
    make_default: bool,
) -> Result<StoredProfile, StoreError> {
    let now = now_ms();
    let id: i64 = conn.cached_row(
        "INSERT INTO profiles (site_id, name, definition, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?4) \
         ON CONFLICT (site_id, name) DO UPDATE SET definition = excluded.definition, \
         updated_at = excluded.updated_at RETURNING id",
        params![site_id, name, definition, now],
        |row| row.get(0),
    )?;
    if make_default {
        conn.cached_execute(
            "UPDATE sites SET default_profile_id = ?1 WHERE id = ?2",
            params![id, site_id],
        )?;
    }
    Ok(StoredProfile {
        id,
        site_id,
        name: name.to_owned(),
        definition,
        updated_at: now,
    })
}

#[async_trait]
impl ProfileStore for SqliteStore {
    async fn profile(&self, id: i64) -> Result<Option<StoredProfile>, StoreError> {
        self.read(move |conn| profile(conn, id)).await
    }

    async fn all_profiles(&self) -> Result<Vec<StoredProfile>, StoreError> {
        self.read(all_profiles).await
    }

    async fn set_default_profile(&self, site_id: SiteId, id: i64) -> Result<(), StoreError> {
        self.write(move |conn| set_default_profile(conn, site_id, id))
            .await
    }

    async fn update_profile(
        &self,
        id: i64,
        name: &str,
        definition: String,
    ) -> Result<StoredProfile, StoreError> {
        let name = name.to_owned();
        self.write(move |conn| update_profile(conn, id, &name, definition))
            .await
    }

    async fn save_profile(
        &self,
        site_id: SiteId,
        name: &str,
        definition: String,
        make_default: bool,
    ) -> Result<StoredProfile, StoreError> {
        let name = name.to_owned();
        self.write(move |conn| save_profile(conn, site_id, &name, definition, make_default))
            .await
    }
}
