//! Web addresses in a message, for the widget and the console to show as links. Only
//! `http://` and `https://` addresses become links; the punctuation that usually ends
//! a sentence after an address (and a closing bracket it did not open) stays text.

/// A run of a message: plain text, or a web address to link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// `text` cut into plain runs and links, in order; joined they give `text` back.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some((start, end)) = next_link(rest) {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Link(&rest[start..end]));
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// Where the first link in `text` starts and ends.
fn next_link(text: &str) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("http") {
        let start = from + found;
        from = start + 4;
        let after_scheme = ["https://", "http://"]
            .iter()
            .find(|scheme| lower[start..].starts_with(*scheme))
            .map(|scheme| start + scheme.len());
        // A link starts a word: not `xhttp://`.
        let starts_word = text[..start]
            .chars()
            .next_back()
            .is_none_or(|before| !before.is_alphanumeric());
        let (Some(after_scheme), true) = (after_scheme, starts_word) else {
            continue;
        };
        let end = text[after_scheme..]
            .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
            .map_or(text.len(), |at| after_scheme + at);
        let end = trim_end(text, start, end);
        if end > after_scheme {
            return Some((start, end));
        }
    }
    None
}

/// Drops sentence punctuation and an unopened closing bracket from the link's end.
fn trim_end(text: &str, start: usize, mut end: usize) -> usize {
    loop {
        let link = &text[start..end];
        let Some(last) = link.chars().next_back() else {
            return end;
        };
        let unbalanced = last == ')' && link.matches(')').count() > link.matches('(').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '_') || unbalanced {
            end -= last.len_utf8();
        } else {
            return end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Piece::{Link, Text};
    use super::*;

    #[test]
    fn web_addresses_become_links_and_their_sentence_stays_text() {
        assert_eq!(
            pieces("See https://x.test/a?b=1. Or (http://y.test/wiki/Foo_(bar)), ok"),
            vec![
                Text("See "),
                Link("https://x.test/a?b=1"),
                Text(". Or ("),
                Link("http://y.test/wiki/Foo_(bar)"),
                Text("), ok"),
            ]
        );
        assert_eq!(
            pieces("HTTPS://X.TEST/Up!"),
            vec![Link("HTTPS://X.TEST/Up"), Text("!")]
        );
        assert_eq!(
            pieces("line one\nhttps://x.test"),
            vec![Text("line one\n"), Link("https://x.test")]
        );
    }

    #[test]
    fn nothing_else_is_a_link() {
        for text in [
            "javascript:alert(1)",
            "data:text/html,<b>x</b>",
            "ftp://x.test/file",
            "https://",
            "https://.",
            "xhttps://x.test",
            "www.example.com",
            "http:/x.test",
            "",
        ] {
            assert!(
                pieces(text).iter().all(|piece| matches!(piece, Text(_))),
                "{text:?}"
            );
        }
        assert_eq!(
            pieces("<https://x.test/a>\"https://y.test\""),
            vec![
                Text("<"),
                Link("https://x.test/a"),
                Text(">\""),
                Link("https://y.test"),
                Text("\""),
            ]
        );
    }

    #[test]
    fn the_pieces_always_join_back_into_the_text() {
        for text in [
            "a https://x.test/é. b",
            "https://x.test/(((",
            "😀https://x.test 😀",
            "http://http://x",
        ] {
            let joined: String = pieces(text)
                .iter()
                .map(|piece| match piece {
                    Text(text) | Link(text) => *text,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }
}
