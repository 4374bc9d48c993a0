//! One sanitizer for everything a model writes, whole or streamed piece by piece: no
//! HTML tag survives, a markdown link keeps its target only when it is http(s), and
//! neither a tag nor a link can be put together from pieces that each look harmless
//! (`<<b>img …>`, a tag split across two stream chunks, a tag removed between `]`
//! and `(`).
//!
//! A parser in three stages, each fed the previous one's output one character at a
//! time, so that streaming and whole text go the same way:
//! 1. tags: `<` followed by a letter, `/`, `!` or `?` starts a tag, dropped up to its
//!    `>` (or the end of the line); any other `<` is text.
//! 2. links: `](` starts a link target, kept only when it is http(s); a line that
//!    defines a reference link (`[x]: target`) is dropped unless its target is.
//! 3. the guard: a `<` of the text followed by a letter, `/`, `!` or `?` gets a space
//!    between them, so nothing the stages above let through can read as a tag.
//!
//! The widget and the console show text, never HTML; this keeps the stored messages
//! and frames, which are an API too, just as safe.

use std::collections::VecDeque;
use std::sync::LazyLock;

/// The longest link target or reference line held back before it is let go as text.
const MAX_HELD: usize = 2048;

/// Whether a link target (as written, spaces and all) is one a link may point to.
fn is_web_target(target: &str) -> bool {
    let cleaned: String = target
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .skip_while(|c| *c == '<')
        .take(8)
        .flat_map(char::to_lowercase)
        .collect();
    cleaned.starts_with("http://") || cleaned.starts_with("https://")
}

/// A link target kept as written: a web address and nothing that could hide another
/// link or a tag in it (no space, no `<` or `>`, no `](`).
fn is_kept_target(target: &str) -> bool {
    let url = target.trim();
    is_web_target(url)
        && !url.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && !url.contains("](")
}

/// Whitespace that indents a line (not the line break itself).
fn is_indent(c: char) -> bool {
    c.is_whitespace() && c != '\n'
}

fn starts_tag(c: char) -> bool {
    c.is_alphabetic() || matches!(c, '/' | '!' | '?')
}

/// Stage 1: drops tags.
#[derive(Debug, Default)]
enum Tags {
    #[default]
    Text,
    /// After a `<`: the next character decides.
    AfterLt,
    InTag,
}

impl Tags {
    fn push(&mut self, c: char, out: &mut impl FnMut(char)) {
        *self = match std::mem::take(self) {
            Self::Text if c == '<' => Self::AfterLt,
            Self::Text => {
                out(c);
                Self::Text
            }
            Self::AfterLt if starts_tag(c) => Self::InTag,
            Self::AfterLt if c == '<' => {
                out('<');
                Self::AfterLt
            }
            Self::AfterLt => {
                out('<');
                out(c);
                Self::Text
            }
            Self::InTag if c == '>' => Self::Text,
            // A tag never runs past its line: an unclosed `<` costs one line at most.
            Self::InTag if c == '\n' => {
                out('\n');
                Self::Text
            }
            Self::InTag => Self::InTag,
        };
    }

    fn finish(&mut self, out: &mut impl FnMut(char)) {
        if let Self::AfterLt = std::mem::take(self) {
            out('<');
        }
    }
}

/// Stage 2: keeps only web link targets and drops reference lines that are not.
#[derive(Debug)]
struct Links {
    /// The last character let through (or `\n` at the start).
    prev: char,
    held: Held,
    /// Characters to run through again (a held run that turned out to be text).
    again: VecDeque<char>,
}

#[derive(Debug, Default)]
enum Held {
    #[default]
    Nothing,
    /// A link target after `](`: the text so far and the open parentheses.
    Target { text: String, depth: u32 },
    /// The start of a line that may define a reference link.
    LineStart(String),
    /// A reference line with a target that is not a web address: dropped.
    DroppedLine,
}

impl Default for Links {
    fn default() -> Self {
        Self {
            prev: '\n',
            held: Held::Nothing,
            again: VecDeque::new(),
        }
    }
}

/// What a held line start turned out to be.
enum LineKind {
    Undecided,
    Text,
    WebReference,
    OtherReference,
}

/// `[label]: target` so far: decided once the target shows whether it is http(s).
fn line_kind(line: &str) -> LineKind {
    // Any indentation counts (stricter than markdown's three spaces): the message is
    // trimmed when stored, which could pull an indented line to the margin.
    let trimmed = line.trim_start_matches(is_indent);
    if trimmed.is_empty() {
        return LineKind::Undecided;
    }
    if !trimmed.starts_with('[') {
        return LineKind::Text;
    }
    let Some(close) = trimmed.find(']') else {
        return if trimmed.contains('\n') {
            LineKind::Text
        } else {
            LineKind::Undecided
        };
    };
    let after = &trimmed[close + 1..];
    match after.chars().next() {
        None => LineKind::Undecided,
        Some(':') => {
            let target = after[1..].trim_start();
            let ended = target.contains(char::is_whitespace);
            let word: String = target.chars().take_while(|c| !c.is_whitespace()).collect();
            if is_web_target(&word) {
                LineKind::WebReference
            } else if ended || word.chars().count() >= 8 {
                LineKind::OtherReference
            } else {
                LineKind::Undecided
            }
        }
        Some(_) => LineKind::Text,
    }
}

impl Links {
    fn push(&mut self, c: char, out: &mut impl FnMut(char)) {
        self.again.push_back(c);
        while let Some(c) = self.again.pop_front() {
            self.step(c, out);
        }
    }

    fn pass(&mut self, c: char, out: &mut impl FnMut(char)) {
        self.prev = c;
        out(c);
    }

    /// Lets `run` go as plain text: never as a link target (a space keeps its `(`
    /// from touching the `]` before it) and never again as a line start.
    fn release(&mut self, run: &str, out: &mut impl FnMut(char)) {
        let mut chars = run.chars();
        if let Some(first) = chars.next() {
            if self.prev == ']' && first == '(' {
                self.pass(' ', out);
            }
            self.pass(first, out);
        }
        for c in chars.rev() {
            self.again.push_front(c);
        }
    }

    fn step(&mut self, c: char, out: &mut impl FnMut(char)) {
        match std::mem::take(&mut self.held) {
            Held::Nothing if self.prev == ']' && c == '(' => {
                self.held = Held::Target {
                    text: String::new(),
                    depth: 0,
                };
            }
            Held::Nothing if self.prev == '\n' && (c == '[' || is_indent(c)) => {
                self.held = Held::LineStart(c.to_string());
            }
            Held::Nothing => self.pass(c, out),
            Held::Target { mut text, depth } => match c {
                ')' if depth == 0 => {
                    if is_kept_target(&text) {
                        self.pass('(', out);
                        for kept in text.chars() {
                            self.pass(kept, out);
                        }
                        self.pass(')', out);
                    } else {
                        // A target that is not a web address goes, brackets and all;
                        // a space takes its place, so the `]` cannot meet a `:` or
                        // `(` that follows and make another link.
                        self.pass(' ', out);
                    }
                }
                '\n' => {
                    text.insert(0, '(');
                    text.push('\n');
                    self.release(&text, out);
                }
                _ if text.len() >= MAX_HELD => {
                    text.insert(0, '(');
                    text.push(c);
                    self.release(&text, out);
                }
                _ => {
                    let depth = match c {
                        '(' => depth + 1,
                        ')' => depth - 1,
                        _ => depth,
                    };
                    text.push(c);
                    self.held = Held::Target { text, depth };
                }
            },
            Held::LineStart(mut line) => {
                line.push(c);
                match line_kind(&line) {
                    LineKind::OtherReference => {
                        self.held = if c == '\n' {
                            self.pass('\n', out);
                            Held::Nothing
                        } else {
                            Held::DroppedLine
                        };
                    }
                    LineKind::Undecided if line.len() < MAX_HELD => {
                        self.held = Held::LineStart(line);
                    }
                    // Text, a web reference, or a line too long to be a reference.
                    _ => self.release(&line, out),
                }
            }
            Held::DroppedLine => {
                if c == '\n' {
                    self.pass('\n', out);
                } else {
                    self.held = Held::DroppedLine;
                }
            }
        }
    }

    fn finish(&mut self, out: &mut impl FnMut(char)) {
        loop {
            match std::mem::take(&mut self.held) {
                Held::Target { mut text, .. } => {
                    text.insert(0, '(');
                    self.release(&text, out);
                }
                Held::LineStart(line) => match line_kind(&line) {
                    LineKind::OtherReference | LineKind::Undecided
                        if line.trim_start().starts_with('[') && line.contains("]:") => {}
                    _ => self.release(&line, out),
                },
                Held::Nothing | Held::DroppedLine => {}
            }
            let Some(c) = self.again.pop_front() else {
                break;
            };
            self.step(c, out);
        }
    }
}

/// Stage 3: a `<` never stands right before a letter, `/`, `!` or `?`.
#[derive(Debug, Default)]
struct Guard {
    lt_pending: bool,
}

impl Guard {
    fn push(&mut self, c: char, out: &mut String) {
        if self.lt_pending {
            out.push('<');
            if starts_tag(c) {
                out.push(' ');
            }
            self.lt_pending = false;
        }
        if c == '<' {
            self.lt_pending = true;
        } else {
            out.push(c);
        }
    }

    fn finish(&mut self, out: &mut String) {
        if std::mem::take(&mut self.lt_pending) {
            out.push('<');
        }
    }
}

/// Sanitizes text given piece by piece: each piece's safe part comes out as soon as
/// it is known to be safe (a tag or link target split across pieces is held back
/// until it is whole).
#[derive(Debug, Default)]
pub struct Sanitizer {
    tags: Tags,
    links: Links,
    guard: Guard,
}

impl Sanitizer {
    pub fn feed(&mut self, piece: &str) -> String {
        let mut out = String::with_capacity(piece.len());
        let Self { tags, links, guard } = self;
        for c in piece.chars() {
            tags.push(c, &mut |c| links.push(c, &mut |c| guard.push(c, &mut out)));
        }
        out
    }

    /// What was held back, once the text is whole.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        let Self { tags, links, guard } = self;
        tags.finish(&mut |c| links.push(c, &mut |c| guard.push(c, &mut out)));
        links.finish(&mut |c| guard.push(c, &mut out));
        guard.finish(&mut out);
        out
    }
}

/// `[[92%]]`: compiled once (compiling it took most of a call's 18 µs).
static CONFIDENCE_MARKERS: LazyLock<Result<regex_lite::Regex, regex_lite::Error>> =
    LazyLock::new(|| regex_lite::Regex::new(r"\[\[\s*\d{1,3}\s*%?\s*\]\]"));

/// Model output made safe to show, whole: stray confidence markers dropped first (so
/// their removal cannot join anything), then sanitized, then trimmed.
pub fn sanitize(text: &str) -> String {
    let unmarked = CONFIDENCE_MARKERS
        .as_ref()
        .map(|markers| markers.replace_all(text, "").into_owned())
        .unwrap_or_else(|_| text.to_owned());
    let mut sanitizer = Sanitizer::default();
    let mut out = sanitizer.feed(&unmarked);
    out.push_str(&sanitizer.finish());
    out.trim().to_owned()
}

#[cfg(test)]
mod tests;
