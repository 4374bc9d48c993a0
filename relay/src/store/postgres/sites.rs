//! Sites and the first start's seed, on PostgreSQL.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::{PgStore, unique_as_duplicate};
use crate::auth::random_token;
use crate::store::model::{NewSiteRow, Seed, Site, SiteChange, SiteId};
use crate::store::settings::AbandonRules;
use crate::store::{SiteStore, StoreError, now_ms};

const SITE_COLUMNS: &str = "id, key, name, allowed_origins, default_profile_id, secret, \
     retention_days, require_verified_identity";

/// Taken by the node seeding an empty database: another starting at the same moment
/// waits, then finds the seed there.
const SEED_LOCK: i64 = 0x0073_6565_6473;

fn site_from_row(row: &Row) -> Site {
    let origins: &str = row.get(3);
    Site {
        id: row.get(0),
        key: row.get(1),
        name: row.get(2),
        allowed_origins: serde_json::from_str(origins).unwrap_or_default(),
        default_profile_id: row.get(4),
        secret: row.get(5),
        retention_days: row
            .get::<_, Option<i64>>(6)
            .and_then(|days| u32::try_from(days).ok()),
        require_verified_identity: row.get::<_, i64>(7) != 0,
    }
}

async fn site_where(
    client: &impl GenericClient,
    condition: &str,
    value: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Option<Site>, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {SITE_COLUMNS} FROM sites WHERE {condition} = $1"),
            &[value],
        )
        .await?;
    Ok(row.as_ref().map(site_from_row))
}

/// Adds the site's first profile and makes it the site's default.
async fn first_profile(
    client: &impl GenericClient,
    site: SiteId,
    name: &str,
    definition: &str,
    now: i64,
) -> Result<(), StoreError> {
    client
        .execute(
            "WITH profile AS (INSERT INTO profiles (site_id, name, definition, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id) \
             UPDATE sites SET default_profile_id = (SELECT id FROM profile) WHERE id = $1",
            &[&site, &name, &definition, &now],
        )
        .await?;
    Ok(())
}

fn origins_json(origins: &[String]) -> String {
    serde_json::to_string(origins).unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl SiteStore for PgStore {
    async fn seed_if_empty(&self, seed: Seed) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&SEED_LOCK])
            .await?;
        let sites: i64 = transaction
            .query_one("SELECT count(*) FROM sites", &[])
            .await?
            .get(0);
        if sites > 0 {
            return Ok(false);
        }
        let now = now_ms();
        let site: i64 = transaction
            .query_one(
                "INSERT INTO sites (key, name, created_at, secret) VALUES ($1, $2, $3, $4) \
                 RETURNING id",
                &[&seed.site_key, &seed.site_name, &now, &random_token()],
            )
            .await?
            .get(0);
        first_profile(
            &transaction,
            site,
            &seed.profile_name,
            &seed.profile_definition,
            now,
        )
        .await?;
        // The demo shows the whole waiting experience: abandoned chats end by
        // themselves (admins can switch it off on the People page).
        let abandon = AbandonRules {
            enabled: true,
            close_ticket: true,
            ..AbandonRules::default()
        };
        transaction
            .batch_execute(
                "INSERT INTO statuses (name, counts_online) VALUES \
                 ('Available', 1), ('Busy', 0), ('Away', 0)",
            )
            .await?;
        transaction
            .execute(
                "INSERT INTO settings (key, value) VALUES ('abandon', $1)",
                &[&serde_json::to_string(&abandon).unwrap_or_default()],
            )
            .await?;
        transaction
            .execute(
                "WITH team AS (INSERT INTO teams (name, created_at) VALUES ($1, $5) RETURNING id), \
                 agent AS (INSERT INTO agents (email, name, role, password_hash, status_id, \
                     created_at) VALUES ($2, $3, 'admin', $4, \
                     (SELECT min(id) FROM statuses WHERE counts_online = 1), $5) RETURNING id) \
                 INSERT INTO team_members (team_id, agent_id) \
                     SELECT team.id, agent.id FROM team, agent",
                &[
                    &seed.team_name,
                    &seed.admin_email,
                    &seed.admin_name,
                    &seed.admin_password_hash,
                    &now,
                ],
            )
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn site_by_key(&self, key: &str) -> Result<Option<Site>, StoreError> {
        site_where(&self.client().await?, "key", &key).await
    }

    async fn site(&self, id: SiteId) -> Result<Option<Site>, StoreError> {
        site_where(&self.client().await?, "id", &id).await
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {SITE_COLUMNS} FROM sites ORDER BY id"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(site_from_row).collect())
    }

    async fn create_site(&self, new: NewSiteRow) -> Result<Site, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let now = now_ms();
        let site: i64 = transaction
            .query_one(
                "INSERT INTO sites (key, name, allowed_origins, created_at, secret) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &new.key,
                    &new.name,
                    &origins_json(&new.allowed_origins),
                    &now,
                    &random_token(),
                ],
            )
            .await
            .map_err(unique_as_duplicate)?
            .get(0);
        first_profile(
            &transaction,
            site,
            &new.profile_name,
            &new.profile_definition,
            now,
        )
        .await?;
        let created = site_where(&transaction, "id", &site).await?;
        transaction.commit().await?;
        created.ok_or(StoreError::NotFound)
    }

    async fn update_site(&self, id: SiteId, change: SiteChange) -> Result<Site, StoreError> {
        let client = self.client().await?;
        let retention = change.retention_days.map(i64::from);
        let verified = i64::from(change.require_verified_identity);
        let updated = client
            .execute(
                "UPDATE sites SET name = $1, allowed_origins = $2, default_profile_id = $3, \
                 retention_days = $4, require_verified_identity = $6 WHERE id = $5 \
                 AND ($3::bigint IS NULL OR EXISTS \
                     (SELECT 1 FROM profiles WHERE id = $3 AND site_id = $5))",
                &[
                    &change.name,
                    &origins_json(&change.allowed_origins),
                    &change.default_profile_id,
                    &retention,
                    &id,
                    &verified,
                ],
            )
            .await?;
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        site_where(&client, "id", &id)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
