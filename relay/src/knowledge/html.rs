//! Just enough HTML reading for knowledge: the title, text under each heading, and the
//! links (for the crawler). Scripts, styles and page chrome (nav, header, footer) are
//! skipped; nothing here is ever rendered, so a forgiving scan is enough.

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Page {
    pub title: Option<String>,
    pub sections: Vec<HtmlSection>,
    /// `href`s of `<a>` elements, as written.
    pub links: Vec<String>,
    /// `<meta name="robots" content="noindex">`.
    pub noindex: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct HtmlSection {
    /// 1–6 for `h1`–`h6`; 0 for text before the first heading.
    pub level: usize,
    pub heading: String,
    pub anchor: Option<String>,
    pub text: String,
}

/// Elements whose content is never knowledge.
const SKIPPED: [&str; 9] = [
    "script", "style", "noscript", "template", "svg", "nav", "header", "footer", "head",
];
/// Elements that end a line of text.
const BLOCKS: [&str; 16] = [
    "p",
    "div",
    "li",
    "br",
    "tr",
    "section",
    "article",
    "main",
    "table",
    "ul",
    "ol",
    "pre",
    "blockquote",
    "dd",
    "dt",
    "hr",
];

/// The page being read, and where the reader is in it.
#[derive(Default)]
struct Reader {
    page: Page,
    /// Inside an element whose content is not knowledge (`script`, `nav`, …).
    skipping: Option<String>,
    in_title: bool,
    title: String,
    /// The heading being read: its level and id.
    heading: Option<(usize, Option<String>)>,
    heading_text: String,
}

impl Reader {
    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let text = decode_entities(raw);
        if self.in_title {
            self.title.push_str(&text);
        } else if self.skipping.is_none() {
            if self.heading.is_some() {
                self.heading_text.push_str(&text);
            } else if let Some(section) = self.page.sections.last_mut() {
                section.text.push_str(&text);
            }
        }
    }

    /// A tag (what is between `<` and `>`).
    fn tag(&mut self, tag: &str) {
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(skipped) = &self.skipping {
            if closing && *skipped == name {
                self.skipping = None;
            }
            // The title lives in <head>, which is otherwise skipped.
            if name == "title" {
                self.in_title = !closing;
            }
            if name == "meta" && is_noindex(tag) {
                self.page.noindex = true;
            }
            return;
        }
        if SKIPPED.contains(&name.as_str()) && !closing && !tag.ends_with('/') {
            self.skipping = Some(name);
            return;
        }
        match name.as_str() {
            "title" => self.in_title = !closing,
            "meta" if is_noindex(tag) => self.page.noindex = true,
            "a" if !closing => {
                if let Some(href) = attribute(tag, "href") {
                    self.page.links.push(href);
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => self.heading(&name, tag, closing),
            _ if BLOCKS.contains(&name.as_str()) => {
                if let Some(section) = self.page.sections.last_mut() {
                    // Paragraph-like blocks end paragraphs; the rest end lines.
                    section.text.push_str(if name == "p" || name == "div" {
                        "\n\n"
                    } else {
                        "\n"
                    });
                }
            }
            _ => {}
        }
    }

    /// `<hN>` starts a heading; `</hN>` ends it and starts its section.
    fn heading(&mut self, name: &str, tag: &str, closing: bool) {
        if !closing {
            let level = usize::from(name.as_bytes()[1] - b'0');
            let id = attribute(tag, "id").filter(|id| !id.trim().is_empty());
            self.heading = Some((level, id));
            self.heading_text.clear();
        } else if let Some((level, anchor)) = self.heading.take() {
            self.page.sections.push(HtmlSection {
                level,
                heading: tidy(&self.heading_text),
                anchor,
                text: String::new(),
            });
            self.heading_text.clear();
        }
    }

    fn finish(mut self) -> Page {
        let title = tidy(&self.title);
        self.page.title = (!title.is_empty()).then_some(title);
        for section in &mut self.page.sections {
            section.text = section
                .text
                .split("\n\n")
                .map(tidy)
                .filter(|paragraph| !paragraph.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
        }
        self.page
            .sections
            .retain(|section| section.level > 0 || !section.text.is_empty());
        self.page
    }
}

pub fn extract(html: &str) -> Page {
    let mut reader = Reader::default();
    reader.page.sections.push(HtmlSection::default());
    let mut rest = html;
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            reader.text(rest);
            break;
        };
        reader.text(&rest[..open]);
        rest = &rest[open..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(close) = rest.find('>') else {
            break;
        };
        reader.tag(&rest[1..close]);
        rest = &rest[close + 1..];
    }
    reader.finish()
}

/// Collapses runs of spaces within lines and drops blank lines.
fn tidy(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_noindex(tag: &str) -> bool {
    attribute(tag, "name").is_some_and(|name| name.eq_ignore_ascii_case("robots"))
        && attribute(tag, "content")
            .is_some_and(|content| content.to_ascii_lowercase().contains("noindex"))
}

/// An attribute's value (quoted or not), entities decoded.
pub fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let start = from + found;
        from = start + name.len();
        let before_ok = lower[..start]
            .chars()
            .last()
            .is_some_and(char::is_whitespace);
        let after = lower[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - after.len() + 1;
        let value = tag[value_start..].trim_start();
        let parsed = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        return Some(decode_entities(parsed).trim().to_owned());
    }
    None
}

pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_title_headings_text_and_links_and_skips_chrome() {
        let page = extract(
            r#"<!doctype html><html><head><title>Help &amp; FAQ</title>
            <script>var x = "<h1>no</h1>";</script></head>
            <body><nav><a href="/nav">Menu</a></nav>
            <p>Intro text.</p>
            <h2 id="reset">Reset your   password</h2>
            <p>Open <a href='/settings?a=1&amp;b=2'>Settings</a>.</p><p>Then click Reset.</p>
            <!-- <h2>hidden</h2> -->
            <footer>Copyright</footer></body></html>"#,
        );
        assert_eq!(page.title.as_deref(), Some("Help & FAQ"));
        assert_eq!(page.sections.len(), 2);
        assert_eq!(page.sections[0].text, "Intro text.");
        assert_eq!(page.sections[1].heading, "Reset your password");
        assert_eq!(page.sections[1].anchor.as_deref(), Some("reset"));
        assert_eq!(page.sections[1].text, "Open Settings.\n\nThen click Reset.");
        assert_eq!(page.links, vec!["/settings?a=1&b=2".to_owned()]);
        assert!(!page.noindex);
    }

    #[test]
    fn noindex_and_entities() {
        let page = extract(r#"<head><meta name="robots" content="noindex, follow"></head>"#);
        assert!(page.noindex);
        assert_eq!(
            decode_entities("a&#39;b &#x41; &bogus; &"),
            "a'b A &bogus; &"
        );
    }
}
