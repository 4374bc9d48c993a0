//! The AI agent's rules, as plain functions: when to hand over, how to answer with no
//! model, how to read the model's confidence, and what of its output may be shown.

use porchlight_protocol::Source;
use serde::{Deserialize, Serialize};

use crate::knowledge::rank::{same_word, search_terms};
use crate::store::knowledge::Hit;

/// Passages quoted when answering without a model.
const QUOTED_PASSAGES: usize = 2;
/// Characters quoted from each passage.
const QUOTE_CHARS: usize = 280;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EscalationMode {
    /// Only the visitor's "Talk to a person" button hands over.
    Off,
    /// Any signal hands over at once.
    Always,
    /// The model's `escalate` call hands over at once; a phrase or low confidence only
    /// once the agent has had `max_attempts` tries.
    #[default]
    Conditional,
}

/// An AI agent, as a flow's `ai_agent` step configures it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Shown as the author of its answers.
    pub name: String,
    /// The agent's own instructions (tone, scope), added to the built-in rules.
    pub instructions: String,
    /// Said when the step starts (variables expand).
    pub greeting: String,
    pub escalation: EscalationMode,
    /// The visitor asking for a person, in their words (case-insensitive).
    pub phrases: Vec<String>,
    /// 0–100: answers the model is less sure of count as failed attempts.
    pub confidence_threshold: u8,
    /// 1–10: failed attempts before a phrase or low confidence hands over.
    pub max_attempts: u8,
    /// The button that always reaches a person.
    pub button: String,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            name: "AI assistant".into(),
            instructions: String::new(),
            greeting: "Hi! I'm an AI assistant. Ask me anything, or choose \"Talk to a person\"."
                .into(),
            escalation: EscalationMode::Conditional,
            phrases: [
                "talk to a person",
                "speak to a person",
                "real person",
                "human",
                "live agent",
                "talk to someone",
            ]
            .map(String::from)
            .to_vec(),
            confidence_threshold: 50,
            max_attempts: 2,
            button: "Talk to a person".into(),
        }
    }
}

/// Why the chat might go to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Button,
    /// The model called `escalate`.
    Tool,
    Phrase,
    LowConfidence,
}

/// Whether `signal` hands the chat over, `failed` being the low-confidence answers
/// so far (this one included).
pub fn hands_over(config: &AgentConfig, signal: Signal, failed: u32) -> bool {
    match (signal, config.escalation) {
        (Signal::Button, _) => true,
        (_, EscalationMode::Off) => false,
        (Signal::Tool, _) | (_, EscalationMode::Always) => true,
        (Signal::Phrase | Signal::LowConfidence, EscalationMode::Conditional) => {
            failed >= u32::from(config.max_attempts)
        }
    }
}

/// Whether the visitor's message is the button or asks for a person.
pub fn asks_for_person(config: &AgentConfig, text: &str) -> Option<Signal> {
    let text = text.trim();
    if text.eq_ignore_ascii_case(config.button.trim()) {
        return Some(Signal::Button);
    }
    let words: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let padded = format!(
        " {} ",
        words.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    config
        .phrases
        .iter()
        .map(|phrase| phrase.trim().to_lowercase())
        .filter(|phrase| !phrase.is_empty())
        .any(|phrase| padded.contains(&format!(" {phrase} ")))
        .then_some(Signal::Phrase)
}

/// What the agent says when it has nothing to go on: plainly, offering a person.
pub fn no_answer(config: &AgentConfig) -> String {
    format!(
        "I couldn't find anything about that in our help articles. Try other words, or choose \"{}\" and someone from the team will help.",
        config.button
    )
}

/// The answer with no model: the best passages, quoted briefly (the sentences that
/// match the question best) and cited; or a plain "nothing found" that offers a person.
pub fn from_passages(config: &AgentConfig, question: &str, hits: &[Hit]) -> (String, Vec<Source>) {
    if hits.is_empty() {
        return (no_answer(config), Vec::new());
    }
    let terms = search_terms(question);
    let quoted = &hits[..hits.len().min(QUOTED_PASSAGES)];
    let mut body = String::from("Here's what I found in our help articles:");
    for hit in quoted {
        body.push_str(&format!(
            "\n\n{}: \"{}\"",
            hit.label(),
            best_sentences(&hit.text, &terms, QUOTE_CHARS)
        ));
    }
    body.push_str(&format!(
        "\n\nIf that doesn't answer it, choose \"{}\".",
        config.button
    ));
    (body, sources(quoted))
}

pub fn sources(hits: &[Hit]) -> Vec<Source> {
    let mut sources: Vec<Source> = Vec::new();
    for hit in hits {
        let source = Source {
            title: hit.label(),
            url: hit.link(),
        };
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    sources
}

/// The sentences of `text` that hold the most of `terms` (the best, and the next best
/// when it fits), in their own order, within `limit` characters; the opening when none
/// holds any.
pub fn best_sentences(text: &str, terms: &[String], limit: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut sentences: Vec<&str> = Vec::new();
    let mut start = 0;
    for (at, c) in flat.char_indices() {
        let end = at + c.len_utf8();
        if matches!(c, '.' | '!' | '?') && flat[end..].starts_with(' ') {
            sentences.push(flat[start..end].trim());
            start = end;
        }
    }
    sentences.push(flat[start..].trim());
    sentences.retain(|sentence| !sentence.is_empty());
    let held = |sentence: &str| {
        let words: Vec<String> = sentence
            .split(|c: char| !c.is_alphanumeric())
            .map(str::to_lowercase)
            .collect();
        terms
            .iter()
            .filter(|term| words.iter().any(|word| same_word(word, term)))
            .count()
    };
    let mut ranked: Vec<(usize, usize)> = sentences
        .iter()
        .enumerate()
        .map(|(index, sentence)| (index, held(sentence)))
        .filter(|(_, held)| *held > 0)
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let Some(&(best, _)) = ranked.first() else {
        return excerpt(&flat, limit);
    };
    let mut chosen = vec![best];
    if let Some(&(next, _)) = ranked.get(1)
        && sentences[best].chars().count() + sentences[next].chars().count() < limit
    {
        chosen.push(next);
    }
    chosen.sort_unstable();
    let mut quote = String::new();
    for (at, index) in chosen.iter().enumerate() {
        if at > 0 {
            // Sentences apart in the passage are marked as such.
            quote.push_str(if *index == chosen[at - 1] + 1 {
                " "
            } else {
                " … "
            });
        }
        quote.push_str(sentences[*index]);
    }
    excerpt(&quote, limit)
}

/// The start of `text`, cut at a word and marked when cut.
pub fn excerpt(text: &str, limit: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= limit {
        return flat;
    }
    let cut: String = flat.chars().take(limit).collect();
    let at = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", cut[..at].trim_end_matches([',', ';', ':']))
}

/// Reads the confidence the model puts first, `[[NN]]`, before any text is shown.
#[derive(Debug, Default)]
pub struct ConfidenceGate {
    head: String,
    confidence: Option<Option<u8>>,
}

/// The longest marker waited for.
const MARKER_CHARS: usize = 10;

impl ConfidenceGate {
    /// Feeds a piece; returns the text to show once the marker is read (or known to be
    /// absent). `confidence()` is known from the first `Some`.
    pub fn feed(&mut self, piece: &str) -> Option<String> {
        if self.confidence.is_some() {
            return Some(piece.to_owned());
        }
        self.head.push_str(piece);
        let trimmed = self.head.trim_start();
        if trimmed.is_empty() {
            return None;
        }
        if !trimmed.starts_with('[') {
            self.confidence = Some(None);
            return Some(std::mem::take(&mut self.head));
        }
        if let Some(end) = trimmed.find("]]") {
            let value = trimmed[..end]
                .trim_start_matches('[')
                .trim()
                .trim_end_matches('%');
            self.confidence = Some(value.parse::<u8>().ok().map(|value| value.min(100)));
            let rest = trimmed[end + 2..].trim_start().to_owned();
            self.head.clear();
            return Some(rest);
        }
        if trimmed.chars().count() > MARKER_CHARS {
            self.confidence = Some(None);
            return Some(std::mem::take(&mut self.head));
        }
        None
    }

    /// The text held back when the stream ended before the marker was decided.
    pub fn finish(&mut self) -> String {
        if self.confidence.is_none() {
            self.confidence = Some(None);
        }
        std::mem::take(&mut self.head)
    }

    pub fn confidence(&self) -> Option<u8> {
        self.confidence.flatten()
    }
}

/// The passage numbers an answer cites as `[n]` (1-based, in range).
pub fn cited(text: &str, passages: usize) -> Vec<usize> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty()
            && rest[digits.len()..].starts_with(']')
            && let Ok(number) = digits.parse::<usize>()
            && (1..=passages).contains(&number)
            && !found.contains(&number)
        {
            found.push(number);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(title: &str, heading: &str, source: &str, text: &str) -> Hit {
        Hit {
            chunk_id: 1,
            title: title.into(),
            heading: heading.into(),
            source: source.into(),
            anchor: None,
            score: 1.0,
            text: text.into(),
        }
    }

    #[test]
    fn escalation_follows_the_mode_and_the_attempts() {
        let mut config = AgentConfig::default();
        assert!(hands_over(&config, Signal::Button, 0));
        assert!(hands_over(&config, Signal::Tool, 0));
        assert!(!hands_over(&config, Signal::Phrase, 1));
        assert!(hands_over(&config, Signal::LowConfidence, 2));
        config.escalation = EscalationMode::Always;
        assert!(hands_over(&config, Signal::Phrase, 0));
        config.escalation = EscalationMode::Off;
        assert!(!hands_over(&config, Signal::Tool, 9));
        assert!(!hands_over(&config, Signal::LowConfidence, 9));
        assert!(
            hands_over(&config, Signal::Button, 0),
            "the button always works"
        );
    }

    #[test]
    fn phrases_match_whole_words_and_the_button_matches_exactly() {
        let config = AgentConfig::default();
        assert_eq!(
            asks_for_person(&config, " talk to a person "),
            Some(Signal::Button)
        );
        assert_eq!(
            asks_for_person(&config, "Can I talk to someone, please?"),
            Some(Signal::Phrase)
        );
        assert_eq!(
            asks_for_person(&config, "I want a HUMAN!"),
            Some(Signal::Phrase)
        );
        assert_eq!(asks_for_person(&config, "is this humane?"), None);
        assert_eq!(asks_for_person(&config, "how do refunds work"), None);
    }

    #[test]
    fn the_quote_is_the_sentences_that_answer_the_question() {
        let text = "We bill monthly. Refunds go back to the card you paid with and usually \
                    arrive in 5 to 10 working days. Annual plans are refunded pro rata.";
        let terms = search_terms("How long until my refund arrives?");
        assert_eq!(
            best_sentences(text, &terms, 280),
            "Refunds go back to the card you paid with and usually arrive in 5 to 10 \
             working days. Annual plans are refunded pro rata."
        );
        let terms = search_terms("monthly or annual?");
        assert_eq!(
            best_sentences(text, &terms, 280),
            "We bill monthly. … Annual plans are refunded pro rata."
        );
        assert_eq!(
            best_sentences(text, &search_terms("gift cards"), 20),
            "We bill monthly.…"
        );
    }

    #[test]
    fn without_a_model_answers_quote_and_cite_or_offer_a_person() {
        let config = AgentConfig::default();
        let (body, sources) = from_passages(&config, "refunds?", &[]);
        assert!(body.contains("couldn't find anything"));
        assert!(body.contains("\"Talk to a person\""));
        assert!(sources.is_empty());
        let long = "Refunds go back to the card you paid with. ".repeat(20);
        let hits = [
            hit(
                "Billing",
                "Billing › Refunds",
                "https://help.test/billing",
                &long,
            ),
            hit(
                "Billing",
                "Billing › Refunds",
                "https://help.test/billing",
                "again",
            ),
            hit("FAQ", "", "/srv/faq.md", "third"),
        ];
        let (body, sources) = from_passages(&config, "", &hits);
        assert!(body.starts_with(
            "Here's what I found in our help articles:\n\nBilling › Refunds: \"Refunds go back"
        ));
        assert!(body.contains("…\""));
        assert!(!body.contains("third"), "only the best passages are quoted");
        assert_eq!(
            sources,
            [Source {
                title: "Billing › Refunds".into(),
                url: Some("https://help.test/billing".into())
            }]
        );
    }

    #[test]
    fn the_confidence_marker_is_read_and_never_shown() {
        let mut gate = ConfidenceGate::default();
        assert_eq!(gate.feed("[["), None);
        assert_eq!(gate.feed("8"), None);
        assert_eq!(gate.feed("5]] Refunds"), Some("Refunds".into()));
        assert_eq!(gate.confidence(), Some(85));
        assert_eq!(gate.feed(" take"), Some(" take".into()));

        let mut plain = ConfidenceGate::default();
        assert_eq!(plain.feed("Hello"), Some("Hello".into()));
        assert_eq!(plain.confidence(), None);

        let mut cut = ConfidenceGate::default();
        assert_eq!(cut.feed("[[4"), None);
        assert_eq!(cut.finish(), "[[4");
        assert_eq!(cut.confidence(), None);
    }

    #[test]
    fn model_output_loses_tags_unsafe_links_and_markers() {
        assert_eq!(
            cited("As [2] and [1] say, not [9] or [x]; [2] again", 3),
            [2, 1]
        );
    }
}
