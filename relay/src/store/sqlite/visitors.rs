//! Visitors and what the site says about them. Plain functions over a connection;
//! `mod.rs` runs them on the writer thread or a reader.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use porchlight_protocol::KnownVisitor;

use crate::store::model::{SiteId, Visitor, VisitorId, json_or_default};
use crate::store::visitors::VisitorStore;
use crate::store::visitors::{ContactRow, IdentityUpdate};
use crate::store::{StoreError, now_ms};

use super::{Cached, SqliteStore};

const VISITOR_COLUMNS: &str = "id, site_id, display_name, language, user_id, verified";

fn visitor_from_row(row: &Row<'_>) -> rusqlite::Result<Visitor> {
    Ok(Visitor {
        id: row.get(0)?,
        site_id: row.get(1)?,
        display_name: row.get(2)?,
        language: row.get(3)?,
        user_id: row.get(4)?,
        verified: row.get(5)?,
    })
}

pub(super) fn create_visitor(
    conn: &Connection,
    site_id: SiteId,
    token_hash: &str,
) -> Result<Visitor, StoreError> {
    conn.cached_execute(
        "INSERT INTO visitors (site_id, token_hash, display_name, created_at) \
         VALUES (?1, ?2, '', ?3)",
        params![site_id, token_hash, now_ms()],
    )?;
    let id = conn.last_insert_rowid();
    let display_name = format!("Visitor {id}");
    conn.cached_execute(
        "UPDATE visitors SET display_name = ?1 WHERE id = ?2",
        params![display_name, id],
    )?;
    Ok(Visitor {
        id,
        site_id,
        display_name,
        language: None,
        user_id: None,
        verified: false,
    })
}

pub(super) fn visitor_by_token(
    conn: &Connection,
    site_id: SiteId,
    token_hash: &str,
) -> Result<Option<Visitor>, StoreError> {
    Ok(conn
        .cached_row(
            &format!(
                "SELECT {VISITOR_COLUMNS} FROM visitors WHERE token_hash = ?1 AND site_id = ?2"
            ),
            params![token_hash, site_id],
            visitor_from_row,
        )
        .optional()?)
}

/// `user_id, email, company, traits, context` from column `first` on.
pub(super) fn known_from(row: &Row<'_>, first: usize) -> rusqlite::Result<KnownVisitor> {
    Ok(KnownVisitor {
        user_id: row.get(first)?,
        email: row.get(first + 1)?,
        company: row.get(first + 2)?,
        traits: json_or_default(row.get(first + 3)?),
        context: json_or_default(row.get(first + 4)?),
    })
}

fn visitor_by_id(conn: &Connection, id: VisitorId) -> Result<Visitor, StoreError> {
    conn.cached_row(
        &format!("SELECT {VISITOR_COLUMNS} FROM visitors WHERE id = ?1"),
        [id],
        visitor_from_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound)
}

/// The open conversation of a visitor, if any.
fn open_conversation(conn: &Connection, visitor: VisitorId) -> rusqlite::Result<Option<i64>> {
    conn.cached_row(
        "SELECT id FROM conversations WHERE visitor_id = ?1 AND status != 'ended' \
         ORDER BY id DESC LIMIT 1",
        [visitor],
        |row| row.get(0),
    )
    .optional()
}

/// The site's visitor proven to be `user_id`.
fn proven_user(
    conn: &Connection,
    site_id: SiteId,
    user_id: Option<&str>,
) -> Result<Option<Visitor>, StoreError> {
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    Ok(conn
        .cached_row(
            &format!(
                "SELECT {VISITOR_COLUMNS} FROM visitors \
                 WHERE site_id = ?1 AND user_id = ?2 AND verified = 1"
            ),
            params![site_id, user_id],
            visitor_from_row,
        )
        .optional()?)
}

/// Who the identify is about: the proven user's visitor if the site knows them,
/// else this browser's (a new one if it belongs to another proven user).
fn target_of(
    conn: &Connection,
    here: &Visitor,
    update: &IdentityUpdate,
) -> Result<Visitor, StoreError> {
    if !update.verified {
        return Ok(here.clone());
    }
    match proven_user(conn, here.site_id, update.user_id.as_deref())? {
        Some(known) if known.id == here.id => Ok(known),
        Some(known) => {
            // The anonymous chat on this browser becomes the user's, unless they
            // have one going elsewhere (one open chat per visitor).
            if !here.verified
                && open_conversation(conn, known.id)?.is_none()
                && let Some(chat) = open_conversation(conn, here.id)?
            {
                conn.cached_execute(
                    "UPDATE conversations SET visitor_id = ?1 WHERE id = ?2",
                    params![known.id, chat],
                )?;
            }
            Ok(known)
        }
        None if here.verified => create_visitor(conn, here.site_id, &update.spare_token_hash),
        None => Ok(here.clone()),
    }
}

/// One job on the writer: all of it commits, or (on an error) none of it.
fn identify_visitor(
    tx: &Connection,
    id: VisitorId,
    update: &IdentityUpdate,
) -> Result<Visitor, StoreError> {
    let here = visitor_by_id(tx, id)?;
    let target = target_of(tx, &here, update)?;
    let (traits, context) = update.stored_json(tx.cached_row(
        "SELECT traits FROM visitors WHERE id = ?1",
        [target.id],
        |row| row.get(0),
    )?);
    // A proven user id is never replaced by an unproven one.
    tx.cached_execute(
        "UPDATE visitors SET \
         user_id = CASE WHEN verified = 1 THEN user_id ELSE coalesce(?2, user_id) END, \
         verified = max(verified, ?3), \
         display_name = coalesce(?4, display_name), email = coalesce(?5, email), \
         company = coalesce(?6, company), traits = ?7, context = coalesce(?8, context), \
         identified_at = ?9 \
         WHERE id = ?1",
        params![
            target.id,
            update.user_id,
            update.verified,
            update.name,
            update.email,
            update.company,
            traits,
            context,
            now_ms()
        ],
    )?;
    visitor_by_id(tx, target.id)
}

fn contact(conn: &Connection, id: VisitorId) -> Result<Option<ContactRow>, StoreError> {
    Ok(conn
        .cached_row(
            "SELECT id, display_name, user_id, email, company, traits, context, verified \
             FROM visitors WHERE id = ?1",
            [id],
            |row| {
                Ok(ContactRow {
                    visitor_id: row.get(0)?,
                    name: row.get(1)?,
                    verified: row.get(7)?,
                    known: known_from(row, 2)?,
                })
            },
        )
        .optional()?)
}

#[async_trait]
impl VisitorStore for SqliteStore {
    async fn create_visitor(
        &self,
        site_id: SiteId,
        token_hash: String,
    ) -> Result<Visitor, StoreError> {
        self.write(move |conn| create_visitor(conn, site_id, &token_hash))
            .await
    }

    async fn visitor_by_token(
        &self,
        site_id: SiteId,
        token_hash: &str,
    ) -> Result<Option<Visitor>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| visitor_by_token(conn, site_id, &token_hash))
            .await
    }

    async fn set_visitor_language(
        &self,
        id: VisitorId,
        language: Option<String>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.cached_execute(
                "UPDATE visitors SET language = ?1 WHERE id = ?2",
                params![language, id],
            )?;
            Ok(())
        })
        .await
    }

    async fn identify_visitor(
        &self,
        id: VisitorId,
        update: IdentityUpdate,
    ) -> Result<Visitor, StoreError> {
        self.write(move |conn| identify_visitor(conn, id, &update))
            .await
    }

    async fn identify_user(
        &self,
        site_id: SiteId,
        update: IdentityUpdate,
    ) -> Result<Visitor, StoreError> {
        self.write(move |conn| {
            let visitor = match proven_user(conn, site_id, update.user_id.as_deref())? {
                Some(known) => known,
                None => create_visitor(conn, site_id, &update.spare_token_hash)?,
            };
            identify_visitor(conn, visitor.id, &update)
        })
        .await
    }

    async fn contact(&self, id: VisitorId) -> Result<Option<ContactRow>, StoreError> {
        self.read(move |conn| contact(conn, id)).await
    }
}
