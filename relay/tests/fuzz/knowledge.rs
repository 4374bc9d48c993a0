//! The knowledge readers: Markdown, HTML and text into passages, robots.txt and
//! sitemaps. Any text gives a titled document whose passages are non-empty, tidy and
//! within the length limit; robots.txt rules match as the standard says (checked
//! against a plain backtracking matcher).

use porchlight_relay::knowledge::crawl::{Robots, sitemap_locations};
use porchlight_relay::knowledge::{self, html};
use porchlight_relay::store::knowledge::DocFormat;

use crate::engine::Fuzzer;

/// The chunker's promise on passage length (bytes).
const MAX_CHUNK_BYTES: usize = 1200;

const DICTIONARY: &[&str] = &[
    "# ",
    "## ",
    "###### ",
    "####### ",
    "#",
    "---\n",
    "title:",
    "```",
    "~~~",
    "**",
    "`",
    "[",
    "](",
    ")",
    "](https://x.test/a)",
    "\n\n",
    "\n",
    "  ",
    ". ",
    "<h1>",
    "</h1>",
    "<h2 id=\"a\">",
    "</h2>",
    "<title>",
    "</title>",
    "<p>",
    "</p>",
    "<br>",
    "<script>",
    "</script>",
    "<nav>",
    "</nav>",
    "<a href=\"/b\">",
    "</a>",
    "<meta name=\"robots\" content=\"noindex\">",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&lt;",
    "&#x1F600;",
    "&#9999999999;",
    "&#;",
    "&",
    "<",
    ">",
    "=",
    "\"",
    "'",
    "User-agent: *\n",
    "User-agent: porchlight\n",
    "Disallow: ",
    "Allow: ",
    "/*",
    "*",
    "$",
    "<loc>",
    "</loc>",
    "é",
    "😀",
    "\u{200b}",
    "\r\n",
    "\t",
];

fn check_document(format: DocFormat, text: &str) -> usize {
    let parsed = knowledge::parse(format, text, "Fallback");
    assert!(
        !parsed.title.is_empty(),
        "{format:?}: every document has a title"
    );
    assert_eq!(
        parsed.title,
        parsed.title.trim(),
        "{format:?}: a tidy title"
    );
    for chunk in &parsed.chunks {
        assert!(!chunk.text.is_empty(), "{format:?}: an empty passage");
        assert_eq!(
            chunk.text,
            chunk.text.trim(),
            "{format:?}: an untidy passage"
        );
        assert!(
            chunk.text.len() <= MAX_CHUNK_BYTES,
            "{format:?}: a passage of {} bytes",
            chunk.text.len()
        );
        if let Some(anchor) = &chunk.anchor {
            assert!(!anchor.is_empty(), "{format:?}: an empty anchor");
        }
    }
    parsed.chunks.len()
}

/// `*` matches any run, `$` at the end anchors, anything else is itself.
fn reference_match(rule: &[char], path: &[char]) -> bool {
    match rule.split_first() {
        None => true,
        Some(('$', [])) => path.is_empty(),
        Some(('*', rest)) => (0..=path.len()).any(|skip| reference_match(rest, &path[skip..])),
        Some((c, rest)) => path.first() == Some(c) && reference_match(rest, &path[1..]),
    }
}

/// The input's first two lines as a rule and a path (short: the reference backtracks).
fn check_robots_rule(text: &str) -> Option<bool> {
    let mut lines = text.lines();
    let rule: String = lines
        .next()?
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '#')
        .take(24)
        .collect();
    let path: String = lines
        .next()?
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(40)
        .collect();
    if rule.is_empty() {
        return None;
    }
    let robots = Robots::parse(&format!("User-agent: *\nDisallow: {rule}\n"));
    let rule: Vec<char> = rule.chars().collect();
    let path_chars: Vec<char> = path.chars().collect();
    let expected = !reference_match(&rule, &path_chars);
    assert_eq!(
        robots.allows(&path),
        expected,
        "Disallow: {} for {path}",
        rule.iter().collect::<String>()
    );
    Some(expected)
}

fn knowledge_input(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let counts = [DocFormat::Markdown, DocFormat::Html, DocFormat::Text]
        .map(|format| check_document(format, &text).min(4));
    let page = html::extract(&text);
    let robots = Robots::parse(&text);
    let _ = robots.allows("/docs/a.html");
    let locations = sitemap_locations(&text).len().min(2);
    format!(
        "passages {counts:?}, links {}, noindex {}, locations {locations}, rule {:?}",
        page.links.len().min(2),
        page.noindex,
        check_robots_rule(&text),
    )
}

fn seeds() -> Vec<Vec<u8>> {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/knowledge");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(folder)
        .expect("the example knowledge")
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn knowledge() {
    Fuzzer::new("knowledge", seeds(), DICTIONARY).run(Fuzzer::budget(2_000), knowledge_input);
}
