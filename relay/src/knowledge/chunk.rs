//! Documents into passages: split at headings, then at paragraphs so that no passage
//! is too long to quote or to fit several into a prompt.

use super::html;
use crate::store::knowledge::{Chunk, DocFormat};

/// A passage longer than this is split at paragraph breaks.
const MAX_CHUNK_CHARS: usize = 1200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub title: String,
    pub chunks: Vec<Chunk>,
}

/// A heading and the text under it, before splitting by length.
struct Section {
    level: usize,
    heading: String,
    anchor: Option<String>,
    text: String,
}

/// Splits a document into passages. `fallback_title` (usually the file name) is used
/// when the document names no title of its own.
pub fn parse(format: DocFormat, text: &str, fallback_title: &str) -> Parsed {
    let (title, sections) = match format {
        DocFormat::Markdown => markdown_sections(text),
        DocFormat::Html => {
            let page = html::extract(text);
            let sections = page
                .sections
                .into_iter()
                .map(|section| Section {
                    level: section.level,
                    heading: section.heading,
                    anchor: section.anchor,
                    text: section.text,
                })
                .collect();
            (page.title, sections)
        }
        DocFormat::Text => (
            None,
            vec![Section {
                level: 0,
                heading: String::new(),
                anchor: None,
                text: text.to_owned(),
            }],
        ),
    };
    let title = title
        .filter(|title| !title.trim().is_empty())
        .or_else(|| {
            sections
                .iter()
                .find(|section| section.level == 1 && !section.heading.trim().is_empty())
                .map(|section| section.heading.clone())
        })
        .unwrap_or_else(|| fallback_title.to_owned());
    Parsed {
        title: title.trim().to_owned(),
        chunks: into_chunks(sections),
    }
}

/// Joins each section's heading with its parents' and splits long text.
fn into_chunks(sections: Vec<Section>) -> Vec<Chunk> {
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut chunks = Vec::new();
    for section in sections {
        if section.level > 0 {
            path.retain(|(level, _)| *level < section.level);
            path.push((section.level, section.heading.clone()));
        }
        let heading = path
            .iter()
            .map(|(_, heading)| heading.as_str())
            .collect::<Vec<_>>()
            .join(" › ");
        for text in split_long(&section.text) {
            chunks.push(Chunk {
                heading: heading.clone(),
                anchor: section.anchor.clone(),
                text,
            });
        }
    }
    chunks
}

/// Paragraphs (blank-line separated, whitespace tidied), grouped up to the limit; a
/// single paragraph over the limit is cut at sentence or word boundaries.
fn split_long(text: &str) -> Vec<String> {
    let paragraphs = text
        .split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|paragraph| !paragraph.is_empty());
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for paragraph in paragraphs {
        for piece in cut(&paragraph) {
            if !current.is_empty() && current.len() + piece.len() + 2 > MAX_CHUNK_CHARS {
                out.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push_str("\n\n");
            }
            current.push_str(piece);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Cuts one paragraph into pieces no longer than the limit.
fn cut(paragraph: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = paragraph;
    while rest.len() > MAX_CHUNK_CHARS {
        let mut end = MAX_CHUNK_CHARS;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let window = &rest[..end];
        let at = window
            .rfind(". ")
            .map(|index| index + 1)
            .or_else(|| window.rfind(char::is_whitespace))
            .filter(|&index| index > 0)
            .unwrap_or(end);
        pieces.push(rest[..at].trim());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

/// Markdown: ATX headings outside code fences start sections; YAML front matter may
/// give the title.
fn markdown_sections(text: &str) -> (Option<String>, Vec<Section>) {
    let mut title = None;
    let mut body = text;
    if let Some(after) = text.strip_prefix("---\n")
        && let Some(end) = after.find("\n---")
    {
        for line in after[..end].lines() {
            if let Some(value) = line.strip_prefix("title:") {
                title = Some(value.trim().trim_matches(['"', '\'']).to_owned());
            }
        }
        body = after[end + 4..].trim_start_matches(['-', '\n']);
    }
    let mut sections = vec![Section {
        level: 0,
        heading: String::new(),
        anchor: None,
        text: String::new(),
    }];
    let mut in_fence = false;
    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        let heading = (!in_fence).then(|| atx_heading(trimmed)).flatten();
        match heading {
            Some((level, heading)) => sections.push(Section {
                level,
                anchor: Some(slug(&heading)).filter(|slug| !slug.is_empty()),
                heading,
                text: String::new(),
            }),
            None => {
                if let Some(section) = sections.last_mut() {
                    section.text.push_str(&markdown_line(line));
                    section.text.push('\n');
                }
            }
        }
    }
    (title, sections)
}

fn atx_heading(line: &str) -> Option<(usize, String)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let heading = rest.trim().trim_end_matches('#').trim();
    Some((level, markdown_line(heading)))
}

/// Inline Markdown to plain text: `[label](url)` keeps the label, emphasis and code
/// marks go.
fn markdown_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("](") {
            Some(close) if !after[..close].contains('[') => {
                let label = &after[..close];
                let target = &after[close + 2..];
                match target.find(')') {
                    Some(end) => {
                        out.push_str(label);
                        rest = &target[end + 1..];
                    }
                    None => {
                        out.push('[');
                        rest = after;
                    }
                }
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace("**", "").replace('`', "")
}

/// A heading's link fragment, as GitHub and most site generators make it.
pub fn slug(heading: &str) -> String {
    let mut slug = String::with_capacity(heading.len());
    for c in heading.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            slug.push(c);
        } else if c == ' ' {
            slug.push('-');
        }
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_splits_at_headings_and_keeps_the_heading_path() {
        let parsed = parse(
            DocFormat::Markdown,
            "# Billing\nHow we bill.\n\n## Refunds\nRefunds take **5 days**. See [the policy](https://x.test/p).\n\n```\n# not a heading\n```\n",
            "billing.md",
        );
        assert_eq!(parsed.title, "Billing");
        assert_eq!(parsed.chunks.len(), 2);
        assert_eq!(parsed.chunks[0].heading, "Billing");
        assert_eq!(parsed.chunks[1].heading, "Billing › Refunds");
        assert_eq!(parsed.chunks[1].anchor.as_deref(), Some("refunds"));
        assert!(
            parsed.chunks[1]
                .text
                .starts_with("Refunds take 5 days. See the policy.")
        );
        assert!(parsed.chunks[1].text.contains("# not a heading"));
    }

    #[test]
    fn front_matter_gives_the_title_and_plain_text_falls_back_to_the_file_name() {
        let parsed = parse(
            DocFormat::Markdown,
            "---\ntitle: \"Getting started\"\n---\nWelcome.\n",
            "start.md",
        );
        assert_eq!(parsed.title, "Getting started");
        assert_eq!(parsed.chunks[0].text, "Welcome.");
        let text = parse(DocFormat::Text, "Line one\n\nLine two", "notes.txt");
        assert_eq!(text.title, "notes.txt");
        assert_eq!(text.chunks[0].text, "Line one\n\nLine two");
    }

    #[test]
    fn long_sections_are_split_at_paragraphs_and_sentences() {
        let sentence = "This sentence is about shipping times and costs. ";
        let long = sentence.repeat(60);
        let doc = format!("# Shipping\n{long}\n\nShort closing paragraph.\n");
        let parsed = parse(DocFormat::Markdown, &doc, "x");
        assert!(parsed.chunks.len() >= 3, "{}", parsed.chunks.len());
        for chunk in &parsed.chunks {
            assert!(chunk.text.len() <= MAX_CHUNK_CHARS, "{}", chunk.text.len());
            assert_eq!(chunk.heading, "Shipping");
        }
        assert!(parsed.chunks[0].text.ends_with("costs."));
    }

    #[test]
    fn formats_come_from_extensions_and_content_types() {
        assert_eq!(
            DocFormat::from_path(std::path::Path::new("a/B.MD")),
            Some(DocFormat::Markdown)
        );
        assert_eq!(DocFormat::from_path(std::path::Path::new("a.pdf")), None);
        assert_eq!(
            DocFormat::from_content_type("text/html; charset=utf-8"),
            Some(DocFormat::Html)
        );
        assert_eq!(DocFormat::from_content_type("image/png"), None);
        assert_eq!(slug("Refunds & Returns 2"), "refunds--returns-2");
    }
}
