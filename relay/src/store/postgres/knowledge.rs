//! Knowledge on PostgreSQL: documents, passages and their vectors as in SQLite;
//! keyword search through the passages' generated `tsvector` (section weighted over
//! body) instead of FTS5, ranked by `ts_rank`.

use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::PgStore;
use crate::store::knowledge::{DocumentInfo, Hit, NewDocument, PutOutcome};
use crate::store::model::SiteId;
use crate::store::vectors::{VectorCache, Vectors, to_blob};
use crate::store::{KnowledgeStore, StoreError, now_ms};

const HIT_COLUMNS: &str = "c.id, d.title, c.heading, d.source, c.anchor, c.body";

fn hit_from_row(row: &Row, score: f64) -> Hit {
    Hit {
        chunk_id: row.get(0),
        title: row.get(1),
        heading: row.get(2),
        source: row.get(3),
        anchor: row.get(4),
        text: row.get(5),
        score,
    }
}

/// The text-search query for search terms: each kept to its letters and digits (so
/// nothing is read as query syntax) and quoted, joined by `operator` (`&`: every
/// term; `|`: any). Empty when no term is left.
fn ts_query(terms: &[String], operator: &str) -> String {
    terms
        .iter()
        .map(|term| {
            term.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|term| !term.is_empty())
        .map(|term| format!("'{term}'"))
        .collect::<Vec<_>>()
        .join(operator)
}

/// The best `limit` of the site's passages matching `query`, by `ts_rank`.
///
/// The site's documents are named first, so the passages are narrowed by both indexes
/// before any row is read: filtered by site after the join, a query matching nearly
/// every passage of ten sites read them all (kbbench, ten sites: p95 72 ms, now 2.3).
async fn ranked(
    client: &impl GenericClient,
    site: SiteId,
    query: &str,
    limit: usize,
) -> Result<Vec<Hit>, StoreError> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let statement = client
        .prepare_cached(&format!(
            "SELECT {HIT_COLUMNS}, ts_rank(c.search, q)::float8 AS score \
             FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id, \
                  to_tsquery('english', $2) q \
             WHERE c.document_id = ANY(ARRAY(SELECT id FROM kb_documents WHERE site_id = $1)) \
             AND c.search @@ q ORDER BY score DESC, c.id LIMIT $3"
        ))
        .await?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = client.query(&statement, &[&site, &query, &limit]).await?;
    Ok(rows
        .iter()
        .map(|row| hit_from_row(row, row.get(6)))
        .collect())
}

/// As SQLite's keyword search: the passages holding every term, alone, when there are
/// `limit` of them; else every passage holding any term.
async fn keyword(
    client: &impl GenericClient,
    site: SiteId,
    terms: &[String],
    limit: usize,
) -> Result<Vec<Hit>, StoreError> {
    if terms.len() > 1 {
        let every = ranked(client, site, &ts_query(terms, " & "), limit).await?;
        if every.len() >= limit {
            return Ok(every);
        }
    }
    ranked(client, site, &ts_query(terms, " | "), limit).await
}

/// The site's vectors from `model`: the copy in memory unless the knowledge changed
/// (on any node: the generation is in the database).
async fn vectors(
    client: &impl GenericClient,
    cache: &VectorCache,
    site: SiteId,
    model: &str,
) -> Result<Arc<Vectors>, StoreError> {
    let generation: i64 = client
        .query_one("SELECT generation FROM kb_generation", &[])
        .await?
        .get(0);
    if let Some(vectors) = cache.current(site, model, generation) {
        return Ok(vectors);
    }
    let rows = client
        .query(
            "SELECT c.id, CASE WHEN c.embedding_model = $2 THEN c.embedding END \
             FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id WHERE d.site_id = $1",
            &[&site, &model],
        )
        .await?;
    let mut vectors = Vectors::new(generation);
    for row in &rows {
        vectors.push(row.get(0), row.get::<_, Option<&[u8]>>(1));
    }
    Ok(cache.keep(site, model, vectors))
}

#[async_trait]
impl KnowledgeStore for PgStore {
    async fn kb_put(&self, site: SiteId, document: NewDocument) -> Result<PutOutcome, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let now = now_ms();
        let existing = transaction
            .query_opt(
                "SELECT id, content_hash FROM kb_documents WHERE site_id = $1 AND source = $2 \
                 FOR UPDATE",
                &[&site, &document.source],
            )
            .await?;
        let format = document.format.as_str();
        let (id, outcome): (i64, PutOutcome) =
            match existing {
                Some(row) if row.get::<_, &str>(1) == document.hash => {
                    return Ok(PutOutcome::Unchanged);
                }
                Some(row) => {
                    let id: i64 = row.get(0);
                    transaction
                        .execute("DELETE FROM kb_chunks WHERE document_id = $1", &[&id])
                        .await?;
                    transaction
                        .execute(
                            "UPDATE kb_documents SET title = $2, format = $3, content_hash = $4, \
                         updated_at = $5 WHERE id = $1",
                            &[&id, &document.title, &format, &document.hash, &now],
                        )
                        .await?;
                    (id, PutOutcome::Updated)
                }
                None => {
                    let row = transaction
                    .query_one(
                        "INSERT INTO kb_documents (site_id, source, title, format, content_hash, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                        &[&site, &document.source, &document.title, &format, &document.hash, &now],
                    )
                    .await?;
                    (row.get(0), PutOutcome::Added)
                }
            };
        let insert = transaction
            .prepare_cached(
                "INSERT INTO kb_chunks (document_id, position, heading, section, anchor, body) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?;
        for (position, chunk) in document.chunks.iter().enumerate() {
            let section = chunk.heading.rsplit(" › ").next().unwrap_or_default();
            let position = i64::try_from(position).unwrap_or(i64::MAX);
            transaction
                .execute(
                    &insert,
                    &[
                        &id,
                        &position,
                        &chunk.heading,
                        &section,
                        &chunk.anchor,
                        &chunk.text,
                    ],
                )
                .await?;
        }
        transaction.commit().await?;
        Ok(outcome)
    }

    async fn kb_documents(&self, site: SiteId) -> Result<Vec<DocumentInfo>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT d.id, d.source, d.title, d.format, d.updated_at, \
                        (SELECT count(*) FROM kb_chunks c WHERE c.document_id = d.id) \
                 FROM kb_documents d WHERE d.site_id = $1 ORDER BY lower(d.title), d.id",
                &[&site],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| DocumentInfo {
                id: row.get(0),
                source: row.get(1),
                title: row.get(2),
                format: row.get(3),
                updated_at: row.get(4),
                chunks: row.get(5),
            })
            .collect())
    }

    async fn kb_delete(&self, site: SiteId, id: i64) -> Result<bool, StoreError> {
        // The passages go with their document (ON DELETE CASCADE).
        let deleted = self
            .client()
            .await?
            .execute(
                "DELETE FROM kb_documents WHERE id = $1 AND site_id = $2",
                &[&id, &site],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn kb_keyword(
        &self,
        site: SiteId,
        terms: Vec<String>,
        limit: usize,
    ) -> Result<Vec<Hit>, StoreError> {
        keyword(&self.client().await?, site, &terms, limit).await
    }

    async fn kb_nearest(
        &self,
        site: SiteId,
        model: String,
        vector: Vec<f32>,
        limit: usize,
    ) -> Result<Vec<(i64, f32)>, StoreError> {
        let client = self.client().await?;
        let vectors = vectors(&client, &self.vectors, site, &model).await?;
        Ok(vectors.nearest(&vector, limit))
    }

    async fn kb_hits(&self, ids: Vec<i64>) -> Result<Vec<Hit>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {HIT_COLUMNS} FROM kb_chunks c JOIN kb_documents d \
                     ON d.id = c.document_id WHERE c.id = ANY($1)"
                ),
                &[&ids],
            )
            .await?;
        let found: Vec<Hit> = rows.iter().map(|row| hit_from_row(row, 0.0)).collect();
        // In the order asked for.
        Ok(ids
            .iter()
            .filter_map(|id| found.iter().find(|hit| hit.chunk_id == *id).cloned())
            .collect())
    }

    async fn kb_unembedded(
        &self,
        model: String,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, heading || E'\\n' || body FROM kb_chunks \
                 WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM $1 \
                 ORDER BY id LIMIT $2",
                &[&model, &limit],
            )
            .await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    async fn kb_set_embeddings(
        &self,
        model: String,
        vectors: Vec<(i64, Vec<f32>)>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let update = transaction
            .prepare_cached(
                "UPDATE kb_chunks SET embedding = $2, embedding_model = $3 WHERE id = $1",
            )
            .await?;
        for (id, vector) in &vectors {
            transaction
                .execute(&update, &[id, &to_blob(vector), &model])
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }
}
