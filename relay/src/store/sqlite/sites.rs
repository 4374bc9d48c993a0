//! Sites and the first start's seed. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::store::model::{NewSiteRow, Seed, Site, SiteChange, SiteId};
use crate::store::settings::AbandonRules;
use crate::store::{SiteStore, StoreError, now_ms};

use super::{Cached, SqliteStore};

pub(super) const SITE_COLUMNS: &str = "id, key, name, allowed_origins, default_profile_id, secret, retention_days, \
     require_verified_identity";

pub(super) fn site_from_row(row: &Row<'_>) -> rusqlite::Result<Site> {
    let origins: String = row.get(3)?;
    Ok(Site {
        id: row.get(0)?,
        key: row.get(1)?,
        name: row.get(2)?,
        allowed_origins: serde_json::from_str(&origins).unwrap_or_default(),
        default_profile_id: row.get(4)?,
        secret: row.get(5)?,
        retention_days: row.get(6)?,
        require_verified_identity: row.get(7)?,
    })
}

pub(super) fn seed_if_empty(conn: &Connection, seed: Seed) -> Result<bool, StoreError> {
    let sites: i64 = conn.cached_row("SELECT COUNT(*) FROM sites", [], |row| row.get(0))?;
    if sites > 0 {
        return Ok(false);
    }
    let now = now_ms();
    conn.cached_execute(
        "INSERT INTO sites (key, name, created_at, secret) \
         VALUES (?1, ?2, ?3, lower(hex(randomblob(32))))",
        params![seed.site_key, seed.site_name, now],
    )?;
    let site_id = conn.last_insert_rowid();
    conn.cached_execute(
        "INSERT INTO profiles (site_id, name, definition, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![site_id, seed.profile_name, seed.profile_definition, now],
    )?;
    let profile_id = conn.last_insert_rowid();
    conn.cached_execute(
        "UPDATE sites SET default_profile_id = ?1 WHERE id = ?2",
        params![profile_id, site_id],
    )?;
    conn.cached_execute(
        "INSERT INTO teams (name, created_at) VALUES (?1, ?2)",
        params![seed.team_name, now],
    )?;
    let team_id = conn.last_insert_rowid();
    conn.execute_batch(
        "INSERT INTO statuses (name, counts_online) VALUES \
         ('Available', 1), ('Busy', 0), ('Away', 0)",
    )?;
    // The demo shows the whole waiting experience: abandoned chats end by
    // themselves (admins can switch it off on the People page).
    let abandon = AbandonRules {
        enabled: true,
        close_ticket: true,
        ..AbandonRules::default()
    };
    conn.cached_execute(
        "INSERT INTO settings (key, value) VALUES ('abandon', ?1)",
        [serde_json::to_string(&abandon).unwrap_or_default()],
    )?;
    conn.cached_execute(
        "INSERT INTO agents (email, name, role, password_hash, status_id, created_at) \
         VALUES (?1, ?2, 'admin', ?3, \
         (SELECT MIN(id) FROM statuses WHERE counts_online = 1), ?4)",
        params![
            seed.admin_email,
            seed.admin_name,
            seed.admin_password_hash,
            now
        ],
    )?;
    let agent_id = conn.last_insert_rowid();
    conn.cached_execute(
        "INSERT INTO team_members (team_id, agent_id) VALUES (?1, ?2)",
        params![team_id, agent_id],
    )?;
    Ok(true)
}

pub(super) fn site_by_key(conn: &Connection, key: &str) -> Result<Option<Site>, StoreError> {
    Ok(conn
        .cached_row(
            &format!("SELECT {SITE_COLUMNS} FROM sites WHERE key = ?1"),
            [key],
            site_from_row,
        )
        .optional()?)
}

pub(super) fn sites(conn: &Connection) -> Result<Vec<Site>, StoreError> {
    let mut statement =
        conn.prepare_cached(&format!("SELECT {SITE_COLUMNS} FROM sites ORDER BY id"))?;
    let rows = statement.query_map([], site_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(super) fn create_site(conn: &Connection, new: NewSiteRow) -> Result<Site, StoreError> {
    let now = now_ms();
    let origins = serde_json::to_string(&new.allowed_origins).unwrap_or_else(|_| "[]".into());
    let inserted = conn.cached_execute(
        "INSERT INTO sites (key, name, allowed_origins, created_at, secret) \
         VALUES (?1, ?2, ?3, ?4, lower(hex(randomblob(32)))) ON CONFLICT (key) DO NOTHING",
        params![new.key, new.name, origins, now],
    )?;
    if inserted == 0 {
        return Err(StoreError::Duplicate);
    }
    let site_id = conn.last_insert_rowid();
    conn.cached_execute(
        "INSERT INTO profiles (site_id, name, definition, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![site_id, new.profile_name, new.profile_definition, now],
    )?;
    conn.cached_execute(
        "UPDATE sites SET default_profile_id = ?1 WHERE id = ?2",
        params![conn.last_insert_rowid(), site_id],
    )?;
    site_by_id(conn, site_id)?.ok_or(StoreError::NotFound)
}

/// `NotFound` when the site does not exist or the profile is not one of its own.
pub(super) fn update_site(
    conn: &Connection,
    id: SiteId,
    change: SiteChange,
) -> Result<Site, StoreError> {
    let origins = serde_json::to_string(&change.allowed_origins).unwrap_or_else(|_| "[]".into());
    let updated = conn.cached_execute(
        "UPDATE sites SET name = ?1, allowed_origins = ?2, default_profile_id = ?3, \
         retention_days = ?4, require_verified_identity = ?6 WHERE id = ?5 \
         AND (?3 IS NULL OR EXISTS (SELECT 1 FROM profiles WHERE id = ?3 AND site_id = ?5))",
        params![
            change.name,
            origins,
            change.default_profile_id,
            change.retention_days,
            id,
            change.require_verified_identity
        ],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    site_by_id(conn, id)?.ok_or(StoreError::NotFound)
}

fn site_by_id(conn: &Connection, id: SiteId) -> Result<Option<Site>, StoreError> {
    Ok(conn
        .cached_row(
            &format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = ?1"),
            [id],
            site_from_row,
        )
        .optional()?)
}

#[async_trait]
impl SiteStore for SqliteStore {
    async fn seed_if_empty(&self, seed: Seed) -> Result<bool, StoreError> {
        self.write(move |conn| seed_if_empty(conn, seed)).await
    }

    async fn site_by_key(&self, key: &str) -> Result<Option<Site>, StoreError> {
        let key = key.to_owned();
        self.read(move |conn| site_by_key(conn, &key)).await
    }

    async fn site(&self, id: SiteId) -> Result<Option<Site>, StoreError> {
        self.read(move |conn| site_by_id(conn, id)).await
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(sites).await
    }

    async fn create_site(&self, new: NewSiteRow) -> Result<Site, StoreError> {
        self.write(move |conn| create_site(conn, new)).await
    }

    async fn update_site(&self, id: SiteId, change: SiteChange) -> Result<Site, StoreError> {
        self.write(move |conn| update_site(conn, id, change)).await
    }
}
