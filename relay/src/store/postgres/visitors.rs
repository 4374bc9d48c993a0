//! Visitors and what the site says about them, on PostgreSQL. An identify runs in one
//! transaction; the unique index on proven users keeps one visitor per proven user
//! however many nodes identify them at once.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use porchlight_protocol::KnownVisitor;
use tokio_postgres::Row;

use super::{PgStore, unique_as_duplicate};
use crate::store::model::{SiteId, Visitor, VisitorId, json_or_default};
use crate::store::visitors::{ContactRow, IdentityUpdate, VisitorStore};
use crate::store::{StoreError, now_ms};

const VISITOR_COLUMNS: &str = "id, site_id, display_name, language, user_id, verified";

fn visitor_from_row(row: &Row) -> Visitor {
    Visitor {
        id: row.get(0),
        site_id: row.get(1),
        display_name: row.get(2),
        language: row.get(3),
        user_id: row.get(4),
        verified: row.get::<_, i64>(5) != 0,
    }
}

/// `user_id, email, company, traits, context` from column `first` on.
pub(super) fn known_from(row: &Row, first: usize) -> KnownVisitor {
    KnownVisitor {
        user_id: row.get(first),
        email: row.get(first + 1),
        company: row.get(first + 2),
        traits: json_or_default(row.get(first + 3)),
        context: json_or_default(row.get(first + 4)),
    }
}

async fn create_visitor(
    client: &impl GenericClient,
    site_id: SiteId,
    token_hash: &str,
) -> Result<Visitor, StoreError> {
    let row = client
        .query_one(
            &format!(
                "INSERT INTO visitors (id, site_id, token_hash, display_name, created_at) \
                 SELECT id, $1, $2, 'Visitor ' || id, $3 \
                 FROM (SELECT nextval(pg_get_serial_sequence('visitors', 'id')) AS id) next \
                 RETURNING {VISITOR_COLUMNS}"
            ),
            &[&site_id, &token_hash, &now_ms()],
        )
        .await?;
    Ok(visitor_from_row(&row))
}

async fn visitor_by_id(client: &impl GenericClient, id: VisitorId) -> Result<Visitor, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {VISITOR_COLUMNS} FROM visitors WHERE id = $1"),
            &[&id],
        )
        .await?;
    row.as_ref()
        .map(visitor_from_row)
        .ok_or(StoreError::NotFound)
}

/// The open conversation of a visitor, if any.
async fn open_conversation(
    client: &impl GenericClient,
    visitor: VisitorId,
) -> Result<Option<i64>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id FROM conversations WHERE visitor_id = $1 AND status <> 'ended' \
             ORDER BY id DESC LIMIT 1",
            &[&visitor],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}

/// The site's visitor proven to be `user_id`.
async fn proven_user(
    client: &impl GenericClient,
    site_id: SiteId,
    user_id: Option<&str>,
) -> Result<Option<Visitor>, StoreError> {
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let row = client
        .query_opt(
            &format!(
                "SELECT {VISITOR_COLUMNS} FROM visitors \
                 WHERE site_id = $1 AND user_id = $2 AND verified = 1"
            ),
            &[&site_id, &user_id],
        )
        .await?;
    Ok(row.as_ref().map(visitor_from_row))
}

/// Who the identify is about: the proven user's visitor if the site knows them,
/// else this browser's (a new one if it belongs to another proven user).
async fn target_of(
    client: &impl GenericClient,
    here: &Visitor,
    update: &IdentityUpdate,
) -> Result<Visitor, StoreError> {
    if !update.verified {
        return Ok(here.clone());
    }
    match proven_user(client, here.site_id, update.user_id.as_deref()).await? {
        Some(known) if known.id == here.id => Ok(known),
        Some(known) => {
            // The anonymous chat on this browser becomes the user's, unless they
            // have one going elsewhere (one open chat per visitor).
            if !here.verified
                && open_conversation(client, known.id).await?.is_none()
                && let Some(chat) = open_conversation(client, here.id).await?
            {
                client
                    .execute(
                        "UPDATE conversations SET visitor_id = $1 WHERE id = $2",
                        &[&known.id, &chat],
                    )
                    .await?;
            }
            Ok(known)
        }
        None if here.verified => {
            create_visitor(client, here.site_id, &update.spare_token_hash).await
        }
        None => Ok(here.clone()),
    }
}

/// Applies `update` to visitor `id` (or whoever the identify is about), inside the
/// caller's transaction.
async fn identify(
    client: &impl GenericClient,
    id: VisitorId,
    update: &IdentityUpdate,
) -> Result<Visitor, StoreError> {
    let here = visitor_by_id(client, id).await?;
    let target = target_of(client, &here, update).await?;
    let (traits, context) = update.stored_json(
        client
            .query_one("SELECT traits FROM visitors WHERE id = $1", &[&target.id])
            .await?
            .get(0),
    );
    // A proven user id is never replaced by an unproven one.
    client
        .execute(
            "UPDATE visitors SET \
             user_id = CASE WHEN verified = 1 THEN user_id ELSE coalesce($2, user_id) END, \
             verified = greatest(verified, $3), \
             display_name = coalesce($4, display_name), email = coalesce($5, email), \
             company = coalesce($6, company), traits = $7, context = coalesce($8, context), \
             identified_at = $9 \
             WHERE id = $1",
            &[
                &target.id,
                &update.user_id,
                &i64::from(update.verified),
                &update.name,
                &update.email,
                &update.company,
                &traits,
                &context,
                &now_ms(),
            ],
        )
        .await
        .map_err(unique_as_duplicate)?;
    visitor_by_id(client, target.id).await
}

#[async_trait]
impl VisitorStore for PgStore {
    async fn create_visitor(
        &self,
        site_id: SiteId,
        token_hash: String,
    ) -> Result<Visitor, StoreError> {
        create_visitor(&self.client().await?, site_id, &token_hash).await
    }

    async fn visitor_by_token(
        &self,
        site_id: SiteId,
        token_hash: &str,
    ) -> Result<Option<Visitor>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {VISITOR_COLUMNS} FROM visitors WHERE token_hash = $1 \
                     AND site_id = $2"
                ),
                &[&token_hash, &site_id],
            )
            .await?;
        Ok(row.as_ref().map(visitor_from_row))
    }

    async fn set_visitor_language(
        &self,
        id: VisitorId,
        language: Option<String>,
    ) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "UPDATE visitors SET language = $1 WHERE id = $2",
                &[&language, &id],
            )
            .await?;
        Ok(())
    }

    async fn identify_visitor(
        &self,
        id: VisitorId,
        update: IdentityUpdate,
    ) -> Result<Visitor, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let visitor = identify(&transaction, id, &update).await?;
        transaction.commit().await?;
        Ok(visitor)
    }

    async fn identify_user(
        &self,
        site_id: SiteId,
        update: IdentityUpdate,
    ) -> Result<Visitor, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let visitor = match proven_user(&transaction, site_id, update.user_id.as_deref()).await? {
            Some(known) => known,
            None => create_visitor(&transaction, site_id, &update.spare_token_hash).await?,
        };
        let visitor = identify(&transaction, visitor.id, &update).await?;
        transaction.commit().await?;
        Ok(visitor)
    }

    async fn contact(&self, id: VisitorId) -> Result<Option<ContactRow>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT id, display_name, user_id, email, company, traits, context, verified \
                 FROM visitors WHERE id = $1",
                &[&id],
            )
            .await?;
        Ok(row.map(|row| ContactRow {
            visitor_id: row.get(0),
            name: row.get(1),
            verified: row.get::<_, i64>(7) != 0,
            known: known_from(&row, 2),
        }))
    }
}
