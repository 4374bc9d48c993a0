//! Turning a visitor's words into search terms, and fusing keyword and vector
//! rankings. How a backend searches for the terms is its own business.

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

/// Reciprocal rank fusion: each ranking (best first) adds `1 / (K + rank)` to an
/// item's score. Robust to the rankings' scores being on different scales.
pub fn fuse(rankings: &[Vec<i64>]) -> Vec<(i64, f64)> {
    const K: f64 = 60.0;
    let mut scores: Vec<(i64, f64)> = Vec::new();
    for ranking in rankings {
        for (rank, id) in ranking.iter().enumerate() {
            let add = 1.0 / (K + rank as f64 + 1.0);
            match scores.iter_mut().find(|(seen, _)| seen == id) {
                Some((_, score)) => *score += add,
                None => scores.push((*id, add)),
            }
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
    fn fusion_rewards_items_both_rankings_agree_on() {
        let fused = fuse(&[vec![1, 2, 3], vec![2, 9, 1]]);
        let order: Vec<i64> = fused.iter().map(|(id, _)| *id).collect();
        assert_eq!(order[..2], [2, 1], "{fused:?}");
        assert_eq!(order.len(), 4);
        assert!(order.contains(&9));
    }
}
