//! The knowledge tables' rows: documents, their passages, and a passage found by a
//! search. Plain data; parsing and ranking live in `crate::knowledge`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    Markdown,
    Html,
    Text,
}

impl DocFormat {
    /// By file extension; `None` for files that are not knowledge.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "md" | "markdown" => Some(Self::Markdown),
            "html" | "htm" => Some(Self::Html),
            "txt" | "text" => Some(Self::Text),
            _ => None,
        }
    }

    /// By a response's content type (crawled pages).
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "text/html" | "application/xhtml+xml" => Some(Self::Html),
            "text/markdown" => Some(Self::Markdown),
            "text/plain" => Some(Self::Text),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Html => "html",
            Self::Text => "text",
        }
    }
}

/// One passage, under the heading it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The heading path, "Billing › Refunds"; empty before the first heading.
    pub heading: String,
    /// The fragment that links to the heading (`refunds`), when there is one.
    pub anchor: Option<String>,
    pub text: String,
}

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

pub use porchlight_protocol::api::knowledge::{DocumentInfo, PutOutcome};

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
    /// Higher is better; bm25 alone, or the blended score with vectors.
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
