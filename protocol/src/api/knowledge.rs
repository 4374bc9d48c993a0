//! The AI page's knowledge bodies (`/api/admin/knowledge`): the documents listed,
//! a file uploaded, a help site crawled.

use serde::{Deserialize, Serialize};

/// One document of a site's knowledge, as the list shows it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentInfo {
    pub id: i64,
    /// Where it came from: `upload:NAME`, a file path, or the page's URL.
    pub source: String,
    pub title: String,
    /// `markdown`, `html` or `text`.
    pub format: String,
    /// Its passages.
    pub chunks: i64,
    pub updated_at: i64,
}

/// What storing a document did: same source and text again changes nothing.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PutOutcome {
    Added,
    Updated,
    Unchanged,
}

impl PutOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
        }
    }
}

/// `POST /api/admin/knowledge`: a file's name (its extension says the format; the
/// same name again replaces the document) and its text.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    pub name: String,
    pub text: String,
}

/// The answer to an upload.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uploaded {
    pub outcome: PutOutcome,
    /// The passages the document was split into.
    pub chunks: usize,
}

/// `POST /api/admin/knowledge/crawl`: a start page or a sitemap, and optional bounds.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CrawlRequest {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pages: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<usize>,
}

/// What a crawl did.
#[derive(Serialize, Deserialize, Debug, Default, Clone, PartialEq, Eq)]
pub struct CrawlReport {
    pub pages: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Pages not stored, with why (robots.txt, not found, not text...).
    pub skipped: Vec<String>,
}
