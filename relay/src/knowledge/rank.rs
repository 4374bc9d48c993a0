//! Turning a visitor's words into search terms, and blending keyword and vector
//! search into one ranking. How a backend searches for the terms is its own business.

/// Words too common to say anything about a question.
const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "do", "does",
    "for", "from", "get", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of",
    "on", "or", "our", "please", "so", "that", "the", "their", "there", "this", "to", "was", "we",
    "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
];

/// The words of free text worth searching for: lower-case, no stopwords, no
/// duplicates, at most 16. Empty when nothing is left to search for.
pub fn search_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() < 2 || STOPWORDS.contains(&word.as_str()) {
            continue;
        }
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == 16 {
            break;
        }
    }
    terms
}

/// Whether `word` (lower-case) is `term` or a form of it ("refunds" for "refund",
/// "payment" for "pay"): the same first five letters, or for a short term, `word`
/// starting with it.
pub fn same_word(word: &str, term: &str) -> bool {
    let stem = |text: &str| text.chars().take(5).collect::<String>();
    if term.chars().count() < 5 {
        word.starts_with(term)
    } else {
        stem(word) == stem(term)
    }
}

/// The share of `terms` that `text` holds, 0 to 1.
pub fn coverage(terms: &[String], text: &str) -> f64 {
    if terms.is_empty() {
        return 0.0;
    }
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    let held = terms
        .iter()
        .filter(|term| words.iter().any(|word| same_word(word, term)))
        .count();
    held as f64 / terms.len() as f64
}

/// The most a passage holding every search term adds to its cosine similarity.
/// Small on purpose: meaning ranks; a passage with all the visitor's words (a product
/// name, an error code) wins among passages about as near, and a shared common word
/// ("add", "send") moves nothing (the coverage is squared).
pub const KEYWORD_BONUS: f64 = 0.1;

/// Vector and keyword search in one ranking: each passage's cosine similarity to the
/// question (`nearest`) plus [`KEYWORD_BONUS`] × its keyword coverage squared
/// (`covered`: the candidates of both searches). A keyword hit the vector search did
/// not return counts the lowest similarity it did return. Best first.
pub fn blend(nearest: &[(i64, f32)], covered: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let floor = nearest
        .last()
        .map_or(0.0, |(_, similarity)| f64::from(*similarity));
    let mut scores: Vec<(i64, f64)> = nearest
        .iter()
        .map(|(id, similarity)| (*id, f64::from(*similarity)))
        .collect();
    for (id, share) in covered {
        let bonus = KEYWORD_BONUS * share * share;
        match scores.iter_mut().find(|(seen, _)| seen == id) {
            Some((_, score)) => *score += bonus,
            None => scores.push((*id, floor + bonus)),
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_the_meaningful_words_without_syntax() {
        assert_eq!(
            search_terms("How do I reset my password?"),
            ["reset", "password"]
        );
        assert_eq!(
            search_terms("NEAR(a b) AND \"x\" refund* refund"),
            ["near", "refund"]
        );
        assert!(search_terms("how do I ?").is_empty());
    }

    #[test]
    fn coverage_counts_the_terms_a_text_holds_in_any_form() {
        let terms = search_terms("refund my gift card");
        assert_eq!(terms, ["refund", "gift", "card"]);
        assert!((coverage(&terms, "Refunds for gifts") - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(coverage(&terms, "Cards, gifts and refunding"), 1.0);
        assert_eq!(coverage(&terms, "nothing here"), 0.0);
        assert_eq!(coverage(&[], "anything"), 0.0);
    }

    #[test]
    fn meaning_ranks_and_full_keyword_coverage_breaks_near_ties() {
        // 2 is nearest; 3 is almost as near and holds every term; 1 holds one of two.
        let blended = blend(&[(2, 0.50), (3, 0.47), (1, 0.30)], &[(3, 1.0), (1, 0.5)]);
        let order: Vec<i64> = blended.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, [3, 2, 1], "{blended:?}");
        assert!((blended[0].1 - 0.57).abs() < 1e-6);
        assert!((blended[2].1 - 0.325).abs() < 1e-6);
        // A shared common word does not lift a far passage over a near one.
        let blended = blend(&[(2, 0.45), (1, 0.30)], &[(1, 0.5)]);
        assert_eq!(blended[0].0, 2);
    }

    #[test]
    fn a_keyword_hit_the_vectors_missed_starts_from_the_lowest_similarity() {
        let blended = blend(&[(2, 0.40), (3, 0.20)], &[(9, 1.0)]);
        assert_eq!(blended.len(), 3);
        let nine = blended.iter().find(|(id, _)| *id == 9).unwrap().1;
        assert!((nine - 0.30).abs() < 1e-6, "{blended:?}");
    }
}
