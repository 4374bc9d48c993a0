use super::*;

/// What the sanitizer promises of its output: no `<` right before a letter, `/`, `!`
/// or `?`; every `](` followed by an http(s) target; every reference line's target
/// http(s).
fn broken_promise(out: &str) -> Option<String> {
    let chars: Vec<char> = out.chars().collect();
    for (index, pair) in chars.windows(2).enumerate() {
        if pair[0] == '<' && starts_tag(pair[1]) {
            return Some(format!("a tag at {index}"));
        }
        if pair[0] == ']' && pair[1] == '(' {
            let target: String = chars[index + 2..].iter().collect();
            if !is_web_target(&target) {
                return Some(format!("a link to {target:?}"));
            }
        }
    }
    let lines: Vec<&str> = out.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start_matches(' ');
        // A reference line: `[label]:` with the label's first `]` right before `:`;
        // its target may stand on the next line.
        if line.len() - trimmed.len() <= 3
            && trimmed.starts_with('[')
            && let Some(close) = trimmed.find(']')
            && trimmed[close + 1..].starts_with(':')
        {
            let mut target = trimmed[close + 2..].trim();
            if target.is_empty() {
                target = lines.get(index + 1).copied().unwrap_or_default();
            }
            if !target.trim().is_empty() && !is_web_target(target) {
                return Some(format!("a reference line {line:?}"));
            }
        }
    }
    None
}

fn streamed(pieces: &[&str]) -> String {
    let mut sanitizer = Sanitizer::default();
    let mut out: String = pieces.iter().map(|piece| sanitizer.feed(piece)).collect();
    out.push_str(&sanitizer.finish());
    out
}

#[test]
fn tags_go_and_text_stays() {
    assert_eq!(
        sanitize(
            "<script>alert(1)</script>See [docs](https://x.test/a) or [this](javascript:alert(1)) [[90]] <b>now</b> 2 < 3"
        ),
        "alert(1)See [docs](https://x.test/a) or [this]   now 2 < 3"
    );
    assert_eq!(
        sanitize("a <= b and c<3 and x <\n y"),
        "a <= b and c<3 and x <\n y"
    );
    assert_eq!(
        sanitize("Plain answer, nothing to do."),
        "Plain answer, nothing to do."
    );
}

#[test]
fn a_tag_put_together_from_harmless_pieces_is_still_no_tag() {
    assert_eq!(
        sanitize("<<b>img src=x onerror=alert(1)>"),
        "< img src=x onerror=alert(1)>"
    );
    assert_eq!(sanitize("<<<b>/b>"), "<< /b>");
    assert_eq!(sanitize("<[[90]]img src=x>"), "");
    assert_eq!(sanitize("<!-- hidden -->shown"), "shown");
    assert_eq!(
        sanitize("unclosed <img src=x onerror=alert(1)\nnext line"),
        "unclosed \nnext line"
    );
}

#[test]
fn links_keep_only_web_targets_however_written() {
    for unsafe_link in [
        "[x](javascript:alert(1))",
        "[x]( javascript:alert(1))",
        "[x](<javascript:alert(1)>)",
        "[x](java\tscript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html,<script>)",
        "[x](vbscript:msgbox)",
        "[x]<b></b>(javascript:alert(1))",
    ] {
        let out = sanitize(unsafe_link);
        assert_eq!(broken_promise(&out), None, "{unsafe_link} -> {out}");
        assert!(
            !out.to_lowercase().contains("script:"),
            "{unsafe_link} -> {out}"
        );
    }
    assert_eq!(
        sanitize("[a](https://x.test/a_(b))"),
        "[a](https://x.test/a_(b))"
    );
    assert_eq!(sanitize("[a]( HTTP://x.test )"), "[a]( HTTP://x.test )");
    // A web address that hides another link or a tag is no target either.
    assert_eq!(
        sanitize("[a](https://x.test/](javascript:alert(1)))"),
        "[a]"
    );
    assert_eq!(
        sanitize("[a](https://x.test/<script>)"),
        "[a](https://x.test/)"
    );
    // A reference-style link: the definition goes unless it is a web address.
    assert_eq!(
        sanitize("Click [here][1].\n\n[1]: javascript:alert(1)\n[2]: https://x.test\n"),
        "Click [here][1].\n\n\n[2]: https://x.test"
    );
    assert_eq!(sanitize("   [1]:   JavaScript:alert(1)"), "");
    assert_eq!(
        sanitize("[not a reference] just text"),
        "[not a reference] just text"
    );
}

#[test]
fn a_stream_split_anywhere_shows_the_same_safe_text() {
    let text =
        "Hi <b>there</b>, see [docs](https://x.test/a) not [x](javascript:alert(1)) <<b>img src=x>";
    let whole = streamed(&[text]);
    assert_eq!(broken_promise(&whole), None, "{whole}");
    let chars: Vec<char> = text.chars().collect();
    for cut in 0..=chars.len() {
        let (a, b): (String, String) =
            (chars[..cut].iter().collect(), chars[cut..].iter().collect());
        assert_eq!(streamed(&[&a, &b]), whole, "cut at {cut}");
    }
    // A tag split across pieces never shows, even in part.
    let mut sanitizer = Sanitizer::default();
    assert_eq!(sanitizer.feed("Refunds <scr"), "Refunds ");
    assert_eq!(sanitizer.feed("ipt>take"), "take");
    assert_eq!(sanitizer.feed(" 5 days <"), " 5 days ");
    assert_eq!(sanitizer.feed("/b>."), ".");
    assert_eq!(sanitizer.finish(), "");
}

/// A small deterministic generator (xorshift64*), for the property test.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Fragments an attacker (or a confused model) would mix.
const FRAGMENTS: &[&str] = &[
    "<",
    ">",
    "<<",
    "</",
    "<!",
    "<?",
    "b",
    "img",
    "script",
    " ",
    "\n",
    "  ",
    "[",
    "]",
    "](",
    "(",
    ")",
    "]:",
    "javascript:",
    "JavaScript:",
    "https://",
    "http://",
    "x.test",
    "\t",
    ":",
    "[[90]]",
    "=",
    "\"",
    "a",
    "é",
    "/",
    "!",
    "?",
    "data:",
    "<b>",
    "</b>",
    "[1]",
    "\u{0}",
];

#[test]
fn no_mix_of_fragments_breaks_the_promise_whole_or_streamed() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..20_000 {
        let length = 1 + rng.below(24);
        let text: String = (0..length)
            .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
            .collect();
        let whole = sanitize(&text);
        assert_eq!(
            broken_promise(&whole),
            None,
            "case {case}: {text:?} -> {whole:?}"
        );
        // The same text in random pieces, as a stream delivers it.
        let chars: Vec<char> = text.chars().collect();
        let mut pieces = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let end = (start + 1 + rng.below(6)).min(chars.len());
            pieces.push(chars[start..end].iter().collect::<String>());
            start = end;
        }
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let out = streamed(&pieces);
        assert_eq!(
            broken_promise(&out),
            None,
            "case {case}: {pieces:?} -> {out:?}"
        );
        assert_eq!(
            out,
            streamed(&[&text]),
            "case {case}: pieces change nothing"
        );
    }
}
