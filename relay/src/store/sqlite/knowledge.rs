//! Knowledge tables: documents, their passages (indexed by the `kb_fts` triggers) and
//! the passages' vectors. Plain functions over a connection; `mod.rs` runs them on
//! the writer thread or a reader.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::knowledge::{DocumentInfo, Hit, NewDocument, PutOutcome};
use crate::store::model::SiteId;
use crate::store::vectors::{VectorCache, Vectors, to_blob};
use crate::store::{KnowledgeStore, StoreError, now_ms};

use super::{Cached, SqliteStore};

/// Stores a document, replacing the one from the same source; an unchanged one is
/// left alone (and keeps its vectors).
pub(super) fn put(
    conn: &Connection,
    site: SiteId,
    document: &NewDocument,
) -> Result<PutOutcome, StoreError> {
    let now = now_ms();
    let existing: Option<(i64, String)> = conn
        .cached_row(
            "SELECT id, content_hash FROM kb_documents WHERE site_id = ?1 AND source = ?2",
            params![site, document.source],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (id, outcome) = match existing {
        Some((_, hash)) if hash == document.hash => return Ok(PutOutcome::Unchanged),
        Some((id, _)) => {
            conn.cached_execute("DELETE FROM kb_chunks WHERE document_id = ?1", [id])?;
            conn.cached_execute(
                "UPDATE kb_documents SET title = ?2, format = ?3, content_hash = ?4, updated_at = ?5 \
                 WHERE id = ?1",
                params![id, document.title, document.format.as_str(), document.hash, now],
            )?;
            (id, PutOutcome::Updated)
        }
        None => {
            conn.cached_execute(
                "INSERT INTO kb_documents (site_id, source, title, format, content_hash, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![site, document.source, document.title, document.format.as_str(), document.hash, now],
            )?;
            (conn.last_insert_rowid(), PutOutcome::Added)
        }
    };
    let mut insert = conn.prepare_cached(
        "INSERT INTO kb_chunks (document_id, position, heading, section, anchor, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (position, chunk) in document.chunks.iter().enumerate() {
        let section = chunk.heading.rsplit(" › ").next().unwrap_or_default();
        insert.execute(params![
            id,
            position as i64,
            chunk.heading,
            section,
            chunk.anchor,
            chunk.text
        ])?;
    }
    Ok(outcome)
}

pub(super) fn documents(conn: &Connection, site: SiteId) -> Result<Vec<DocumentInfo>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT d.id, d.source, d.title, d.format, d.updated_at, \
                (SELECT COUNT(*) FROM kb_chunks c WHERE c.document_id = d.id) \
         FROM kb_documents d WHERE d.site_id = ?1 ORDER BY d.title COLLATE NOCASE, d.id",
    )?;
    let rows = statement.query_map([site], |row| {
        Ok(DocumentInfo {
            id: row.get(0)?,
            source: row.get(1)?,
            title: row.get(2)?,
            format: row.get(3)?,
            updated_at: row.get(4)?,
            chunks: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn delete(conn: &Connection, site: SiteId, id: i64) -> Result<bool, StoreError> {
    let found: Option<i64> = conn
        .cached_row(
            "SELECT id FROM kb_documents WHERE id = ?1 AND site_id = ?2",
            params![id, site],
            |row| row.get(0),
        )
        .optional()?;
    if found.is_none() {
        return Ok(false);
    }
    conn.cached_execute("DELETE FROM kb_chunks WHERE document_id = ?1", [id])?;
    conn.cached_execute("DELETE FROM kb_documents WHERE id = ?1", [id])?;
    Ok(true)
}

const HIT_COLUMNS: &str = "c.id, d.title, c.heading, d.source, c.anchor, c.body";

fn hit_from_row(row: &rusqlite::Row<'_>, score: f64) -> rusqlite::Result<Hit> {
    Ok(Hit {
        chunk_id: row.get(0)?,
        title: row.get(1)?,
        heading: row.get(2)?,
        source: row.get(3)?,
        anchor: row.get(4)?,
        text: row.get(5)?,
        score,
    })
}

/// The FTS5 query for search terms: each quoted (so no word is read as FTS syntax),
/// joined by `operator` (`AND`: every term; `OR`: any of them).
fn fts_query(terms: &[String], operator: &str) -> String {
    terms
        .iter()
        .map(|term| format!("\"{}\"", term.replace('"', "")))
        .collect::<Vec<_>>()
        .join(operator)
}

/// bm25 ranking (section headings weigh double), best first, of the passages holding
/// any of the terms.
///
/// Passages holding every term are ranked first, alone, when there are `limit` of
/// them: bm25 scores every match, and with common words nearly every passage holds
/// one of them (kbbench: 3 words of an 80-word vocabulary, 10,000 passages), while
/// the passages holding all of them are a few and nearly always the best anyway. With
/// fewer, the ranking is over every passage holding any term.
pub(super) fn keyword(
    conn: &Connection,
    site: SiteId,
    terms: &[String],
    limit: usize,
) -> Result<Vec<Hit>, StoreError> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    if terms.len() > 1 {
        let every = ranked(conn, site, &fts_query(terms, " AND "), limit)?;
        if every.len() >= limit {
            return Ok(every);
        }
    }
    ranked(conn, site, &fts_query(terms, " OR "), limit)
}

/// The best `limit` of the site's passages matching `fts`.
///
/// The ranking runs on the FTS table alone (joining first made every match read its
/// passage: 3x slower over 10,000 passages). Other sites' passages are dropped after
/// ranking, and the window widens until there are enough of this site's.
fn ranked(
    conn: &Connection,
    site: SiteId,
    fts: &str,
    limit: usize,
) -> Result<Vec<Hit>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {HIT_COLUMNS}, f.score, d.site_id \
         FROM (SELECT rowid, bm25(kb_fts, 2.0, 1.0) AS score FROM kb_fts \
               WHERE kb_fts MATCH ?1 ORDER BY score LIMIT ?2) f \
         JOIN kb_chunks c ON c.id = f.rowid JOIN kb_documents d ON d.id = c.document_id \
         ORDER BY f.score"
    ))?;
    let mut window = limit.max(1);
    loop {
        let mut ranked = 0;
        let mut hits = Vec::new();
        let rows = statement.query_map(params![fts, window as i64], |row| {
            let score: f64 = row.get(6)?;
            Ok((hit_from_row(row, -score)?, row.get::<_, SiteId>(7)?))
        })?;
        for row in rows {
            let (hit, owner) = row?;
            ranked += 1;
            if owner == site && hits.len() < limit {
                hits.push(hit);
            }
        }
        if hits.len() >= limit || ranked < window {
            return Ok(hits);
        }
        window = window.saturating_mul(4);
    }
}

pub(super) fn hits(conn: &Connection, ids: &[i64]) -> Result<Vec<Hit>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {HIT_COLUMNS} FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id WHERE c.id = ?1"
    ))?;
    let mut found = Vec::new();
    for id in ids {
        if let Some(hit) = statement
            .query_row([id], |row| hit_from_row(row, 0.0))
            .optional()?
        {
            found.push(hit);
        }
    }
    Ok(found)
}

/// Passages with no vector from `model` yet.
pub(super) fn unembedded(
    conn: &Connection,
    model: &str,
    limit: usize,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, heading || '\n' || body FROM kb_chunks \
         WHERE embedding IS NULL OR embedding_model IS NOT ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = statement.query_map(params![model, limit as i64], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn set_embeddings(
    conn: &Connection,
    model: &str,
    vectors: &[(i64, Vec<f32>)],
) -> Result<(), StoreError> {
    let mut update = conn.prepare_cached(
        "UPDATE kb_chunks SET embedding = ?2, embedding_model = ?3 WHERE id = ?1",
    )?;
    for (id, vector) in vectors {
        update.execute(params![id, to_blob(vector), model])?;
    }
    Ok(())
}

/// The site's vectors from `model`: the copy in memory unless the knowledge changed.
fn vectors(
    conn: &Connection,
    cache: &VectorCache,
    site: SiteId,
    model: &str,
) -> Result<Arc<Vectors>, StoreError> {
    let generation: i64 =
        conn.cached_row("SELECT generation FROM kb_generation", [], |row| row.get(0))?;
    if let Some(vectors) = cache.current(site, model, generation) {
        return Ok(vectors);
    }
    let mut statement = conn.prepare_cached(
        "SELECT c.id, CASE WHEN c.embedding_model = ?2 THEN c.embedding END \
         FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id WHERE d.site_id = ?1",
    )?;
    let mut vectors = Vectors::new(generation);
    let mut rows = statement.query(params![site, model])?;
    while let Some(row) = rows.next()? {
        vectors.push(row.get(0)?, row.get::<_, Option<Vec<u8>>>(1)?.as_deref());
    }
    Ok(cache.keep(site, model, vectors))
}

#[async_trait]
impl KnowledgeStore for SqliteStore {
    async fn kb_put(&self, site: SiteId, document: NewDocument) -> Result<PutOutcome, StoreError> {
        self.write(move |conn| put(conn, site, &document)).await
    }

    async fn kb_documents(&self, site: SiteId) -> Result<Vec<DocumentInfo>, StoreError> {
        self.read(move |conn| documents(conn, site)).await
    }

    async fn kb_delete(&self, site: SiteId, id: i64) -> Result<bool, StoreError> {
        self.write(move |conn| delete(conn, site, id)).await
    }

    async fn kb_keyword(
        &self,
        site: SiteId,
        terms: Vec<String>,
        limit: usize,
    ) -> Result<Vec<Hit>, StoreError> {
        self.read(move |conn| keyword(conn, site, &terms, limit))
            .await
    }

    async fn kb_nearest(
        &self,
        site: SiteId,
        model: String,
        vector: Vec<f32>,
        limit: usize,
    ) -> Result<Vec<(i64, f32)>, StoreError> {
        let cache = Arc::clone(&self.vectors);
        self.read(move |conn| Ok(vectors(conn, &cache, site, &model)?.nearest(&vector, limit)))
            .await
    }

    async fn kb_hits(&self, ids: Vec<i64>) -> Result<Vec<Hit>, StoreError> {
        self.read(move |conn| hits(conn, &ids)).await
    }

    async fn kb_unembedded(
        &self,
        model: String,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.read(move |conn| unembedded(conn, &model, limit)).await
    }

    async fn kb_set_embeddings(
        &self,
        model: String,
        vectors: Vec<(i64, Vec<f32>)>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| set_embeddings(conn, &model, &vectors))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_quote_every_term() {
        let terms = ["near".to_owned(), "re\"fund".to_owned()];
        assert_eq!(fts_query(&terms, " OR "), "\"near\" OR \"refund\"");
    }
}
