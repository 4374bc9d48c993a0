//! Canned text in the reply box: a draft that starts with `/` searches the canned
//! texts, and the one picked is posted with its variables filled.

use porchlight_protocol::api::canned::CannedText;

/// How many matches the picker shows.
pub const MAX_MATCHES: usize = 8;

/// The search a draft asks for: the text after a leading `/`, if there is one.
pub fn query(draft: &str) -> Option<&str> {
    draft.strip_prefix('/')
}

/// Canned texts matching every word of `query` (in group, title or body, ignoring
/// case); titles that start with the query come first, then by group and title.
pub fn search<'a>(texts: &'a [CannedText], query: &str) -> Vec<&'a CannedText> {
    let query = query.trim().to_lowercase();
    let words: Vec<&str> = query.split_whitespace().collect();
    let mut found: Vec<(bool, &CannedText)> = texts
        .iter()
        .filter_map(|text| {
            let haystack = format!("{} {} {}", text.group, text.title, text.body).to_lowercase();
            words
                .iter()
                .all(|word| haystack.contains(word))
                .then(|| (!text.title.to_lowercase().starts_with(&query), text))
        })
        .collect();
    found.sort_by(|(a_later, a), (b_later, b)| {
        a_later
            .cmp(b_later)
            .then_with(|| a.group.to_lowercase().cmp(&b.group.to_lowercase()))
            .then_with(|| a.title.to_lowercase().cmp(&b.title.to_lowercase()))
    });
    found
        .into_iter()
        .take(MAX_MATCHES)
        .map(|(_, text)| text)
        .collect()
}

/// The body with `$NAME` (the visitor) and `$AGENT` (the agent posting) filled in.
pub fn fill(body: &str, visitor_name: &str, agent_name: &str) -> String {
    body.replace("$AGENT", agent_name)
        .replace("$NAME", visitor_name)
}

/// Whether the body needs the queue's figures (`$WAITTIME`, `$QUEUEPOSITION`).
pub fn needs_queue(body: &str) -> bool {
    body.contains("$WAITTIME") || body.contains("$QUEUEPOSITION")
}

/// Fills `$WAITTIME` and, while the chat waits, `$QUEUEPOSITION`.
pub fn fill_queue(body: &str, wait: Option<&str>, position: Option<u32>) -> String {
    let mut filled = body.to_owned();
    if let Some(wait) = wait {
        filled = filled.replace("$WAITTIME", wait);
    }
    if let Some(position) = position {
        filled = filled.replace("$QUEUEPOSITION", &position.to_string());
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(id: i64, group: &str, title: &str, body: &str) -> CannedText {
        CannedText {
            id,
            group: group.into(),
            title: title.into(),
            body: body.into(),
        }
    }

    #[test]
    fn a_slash_starts_a_search() {
        assert_eq!(query("/ref"), Some("ref"));
        assert_eq!(query("/"), Some(""));
        assert_eq!(query("hello /ref"), None);
    }

    #[test]
    fn search_matches_every_word_and_puts_title_prefixes_first() {
        let texts = [
            text(1, "Billing", "Refund policy", "Refunds take 5 days, $NAME."),
            text(2, "General", "Greeting", "Hi $NAME, I'm $AGENT."),
            text(3, "Billing", "Invoice copy", "I'll send a refund invoice."),
            text(4, "Account", "Password reset", "Use the reset link."),
        ];
        let ids = |query: &str| {
            search(&texts, query)
                .iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids("ref"),
            [1, 3],
            "title prefix first, then the body match"
        );
        assert_eq!(ids("billing invoice"), [3]);
        assert_eq!(ids("RESET"), [4]);
        assert_eq!(ids("nothing like this"), Vec::<i64>::new());
        assert_eq!(ids(""), [4, 3, 1, 2], "everything, by group and title");
    }

    #[test]
    fn search_shows_a_bounded_list() {
        let texts: Vec<CannedText> = (0..20)
            .map(|id| text(id, "G", &format!("Text {id:02}"), "body"))
            .collect();
        assert_eq!(search(&texts, "text").len(), MAX_MATCHES);
    }

    #[test]
    fn queue_figures_are_filled_when_known() {
        let body = "About $WAITTIME min; you are number $QUEUEPOSITION.";
        assert!(needs_queue(body));
        assert!(!needs_queue("Hi $NAME"));
        assert_eq!(
            fill_queue(body, Some("< 1"), Some(2)),
            "About < 1 min; you are number 2."
        );
        assert_eq!(
            fill_queue(body, Some("4"), None),
            "About 4 min; you are number $QUEUEPOSITION.",
            "no place once the chat is not waiting"
        );
    }

    #[test]
    fn variables_are_filled() {
        assert_eq!(
            fill("Hi $NAME, I'm $AGENT. Bye $NAME!", "Sam", "Ana"),
            "Hi Sam, I'm Ana. Bye Sam!"
        );
        assert_eq!(fill("No variables.", "Sam", "Ana"), "No variables.");
    }
}
