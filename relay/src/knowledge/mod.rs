//! The site's knowledge: documents split into passages, indexed for keyword search
//! (SQLite FTS5, bm25 with stemming) and for vector search (the provider's
//! embeddings or the built-in model's); the two are blended into one ranking.

pub mod chunk;
pub mod crawl;
pub mod html;
pub mod import;
pub mod rank;

use sha2::{Digest, Sha256};

pub use chunk::{Parsed, parse};

use crate::store::knowledge::{DocFormat, Hit, NewDocument};
use crate::store::{KnowledgeStore, SiteId, StoreError};

/// Candidates taken from each search before blending.
const CANDIDATES: usize = 20;

/// A document parsed into passages, ready to store; its hash tells an unchanged
/// document from a changed one.
pub fn document(source: &str, format: DocFormat, text: &str, fallback_title: &str) -> NewDocument {
    let parsed = parse(format, text, fallback_title);
    let hash = Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    NewDocument {
        source: source.to_owned(),
        title: parsed.title,
        format,
        hash,
        chunks: parsed.chunks,
    }
}

/// The query's vector, from the model the stored vectors were made with.
#[derive(Clone)]
pub struct QueryVector {
    pub model: String,
    pub vector: Vec<f32>,
}

/// The best passages for `query`: keyword search, blended with vector search when a
/// query vector is given.
pub async fn search(
    store: &dyn KnowledgeStore,
    site: SiteId,
    query: &str,
    limit: usize,
    vector: Option<QueryVector>,
) -> Result<Vec<Hit>, StoreError> {
    Ok(search_judged(store, site, query, limit, vector).await?.0)
}

/// [`search`], and how relevant the best passage is (`None` without a query vector,
/// or before any passage has one): its cosine similarity to the question, plus a little
/// when it holds the question's words ([`rank::blend`]). Keyword search alone
/// without vectors.
pub async fn search_judged(
    store: &dyn KnowledgeStore,
    site: SiteId,
    query: &str,
    limit: usize,
    vector: Option<QueryVector>,
) -> Result<(Vec<Hit>, Option<f64>), StoreError> {
    let terms = rank::search_terms(query);
    let keyword = if terms.is_empty() {
        Vec::new()
    } else {
        store
            .kb_keyword(site, terms.clone(), limit.max(CANDIDATES))
            .await?
    };
    let nearest = match vector {
        Some(vector) => {
            store
                .kb_nearest(site, vector.model, vector.vector, CANDIDATES)
                .await?
        }
        None => Vec::new(),
    };
    if nearest.is_empty() {
        let mut hits = keyword;
        hits.truncate(limit);
        return Ok((hits, None));
    }
    // The vector search's passages count their words too, not only bm25's first few:
    // a near passage holding every term gets its bonus wherever bm25 put it.
    let unread: Vec<i64> = nearest
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !keyword.iter().any(|hit| hit.chunk_id == *id))
        .collect();
    let mut candidates = keyword;
    candidates.extend(store.kb_hits(unread).await?);
    let covered: Vec<(i64, f64)> = candidates
        .iter()
        .map(|hit| {
            let text = format!("{}\n{}", hit.heading, hit.text);
            (hit.chunk_id, rank::coverage(&terms, &text))
        })
        .collect();
    let blended = rank::blend(&nearest, &covered);
    let hits = blended
        .iter()
        .take(limit)
        .filter_map(|(id, score)| {
            let hit = candidates.iter().find(|hit| hit.chunk_id == *id)?;
            Some(Hit {
                score: *score,
                ..hit.clone()
            })
        })
        .collect();
    let best = blended.first().map(|(_, score)| *score);
    Ok((hits, best))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(source: &str, anchor: Option<&str>) -> Hit {
        Hit {
            chunk_id: 1,
            title: "Billing".into(),
            heading: "Billing › Refunds".into(),
            source: source.into(),
            anchor: anchor.map(Into::into),
            score: 1.0,
            text: String::new(),
        }
    }

    #[test]
    fn only_web_sources_are_links() {
        assert_eq!(
            hit("https://help.test/billing", Some("refunds"))
                .link()
                .as_deref(),
            Some("https://help.test/billing#refunds")
        );
        assert_eq!(hit("docs/billing.md", Some("refunds")).link(), None);
        assert_eq!(hit("javascript:alert(1)", None).link(), None);
        assert_eq!(hit("x", None).label(), "Billing › Refunds");
    }

    #[test]
    fn the_same_text_hashes_the_same() {
        let a = document("a.md", DocFormat::Markdown, "# A\ntext", "a");
        let b = document("b.md", DocFormat::Markdown, "# A\ntext", "b");
        let c = document("a.md", DocFormat::Markdown, "# A\ntext!", "a");
        assert_eq!(a.hash, b.hash);
        assert_ne!(a.hash, c.hash);
        assert_eq!(a.hash.len(), 64);
    }
}
