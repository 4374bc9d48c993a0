//! The site's knowledge: documents split into passages, indexed for keyword search
//! (SQLite FTS5, bm25 with stemming) and, with an embedding-capable provider, for
//! vector search; the two rankings are fused.

pub mod chunk;
pub mod crawl;
pub mod html;
pub mod http;
pub mod import;
pub mod rank;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use chunk::{Chunk, DocFormat, Parsed, parse};

use crate::store::{SiteId, Store, StoreError};

/// Candidates taken from each ranking before fusion.
const CANDIDATES: usize = 20;

/// A parsed document, ready to store.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// The file path or URL it came from; importing the same source again replaces it.
    pub source: String,
    pub title: String,
    pub format: DocFormat,
    /// Of the raw text: an unchanged document is not re-indexed.
    pub hash: String,
    pub chunks: Vec<Chunk>,
}

impl NewDocument {
    pub fn parse(source: &str, format: DocFormat, text: &str, fallback_title: &str) -> Self {
        let parsed = parse(format, text, fallback_title);
        let hash = Sha256::digest(text.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self {
            source: source.to_owned(),
            title: parsed.title,
            format,
            hash,
            chunks: parsed.chunks,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PutOutcome {
    Added,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentInfo {
    pub id: i64,
    pub source: String,
    pub title: String,
    pub format: String,
    pub chunks: i64,
    pub updated_at: i64,
}

/// A passage that matched, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    #[serde(skip)]
    pub chunk_id: i64,
    /// The document's title.
    pub title: String,
    pub heading: String,
    /// The document's path or URL.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// Higher is better; bm25 alone, or the fused score with vectors.
    pub score: f64,
    pub text: String,
}

impl Hit {
    /// A link for citing the passage: only for web pages (a file path is no link).
    pub fn link(&self) -> Option<String> {
        let web = self.source.starts_with("https://") || self.source.starts_with("http://");
        web.then(|| match &self.anchor {
            Some(anchor) if !self.source.contains('#') => format!("{}#{anchor}", self.source),
            _ => self.source.clone(),
        })
    }

    /// The passage's name in a citation: "Title › Heading".
    pub fn label(&self) -> String {
        let last = self.heading.rsplit(" › ").next().unwrap_or_default();
        if last.is_empty() || last == self.title {
            self.title.clone()
        } else {
            format!("{} › {last}", self.title)
        }
    }
}

/// The query's vector, from the model the stored vectors were made with.
pub struct QueryVector {
    pub model: String,
    pub vector: Vec<f32>,
}

/// The best passages for `query`: keyword search, fused with vector search when a
/// query vector is given.
pub async fn search(
    store: &dyn Store,
    site: SiteId,
    query: &str,
    limit: usize,
    vector: Option<QueryVector>,
) -> Result<Vec<Hit>, StoreError> {
    let keyword = match rank::fts_query(query) {
        Some(fts) => store.kb_keyword(site, fts, limit.max(CANDIDATES)).await?,
        None => Vec::new(),
    };
    let Some(vector) = vector else {
        let mut hits = keyword;
        hits.truncate(limit);
        return Ok(hits);
    };
    let nearest = store
        .kb_nearest(site, vector.model, vector.vector, CANDIDATES)
        .await?;
    let keyword_ids: Vec<i64> = keyword.iter().map(|hit| hit.chunk_id).collect();
    let fused = rank::fuse(&[keyword_ids, nearest]);
    let ids: Vec<i64> = fused.iter().take(limit).map(|(id, _)| *id).collect();
    let mut hits = store.kb_hits(ids.clone()).await?;
    hits.sort_by_key(|hit| ids.iter().position(|id| *id == hit.chunk_id));
    for hit in &mut hits {
        if let Some((_, score)) = fused.iter().find(|(id, _)| *id == hit.chunk_id) {
            hit.score = *score;
        }
    }
    Ok(hits)
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
        let a = NewDocument::parse("a.md", DocFormat::Markdown, "# A\ntext", "a");
        let b = NewDocument::parse("b.md", DocFormat::Markdown, "# A\ntext", "b");
        let c = NewDocument::parse("a.md", DocFormat::Markdown, "# A\ntext!", "a");
        assert_eq!(a.hash, b.hash);
        assert_ne!(a.hash, c.hash);
        assert_eq!(a.hash.len(), 64);
    }
}
