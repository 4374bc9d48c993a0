//! Whether the knowledge answers a question when no model reads the passages (no
//! provider): the best passage must be near the question in meaning, the question must
//! name nothing the knowledge never mentions, and the passage must not leave out a word
//! the question turns on. With a provider, the model reads the passages and says how
//! sure it is instead.

use futures_util::future::try_join_all;

use super::embedder::Embedder;
use crate::knowledge::rank::search_terms;
use crate::knowledge::{self, QueryVector};
use crate::store::knowledge::Hit;
use crate::store::{KnowledgeStore, SiteId, StoreError};

/// The least relevance ([`knowledge::search_judged`]: the best passage's cosine
/// similarity with a little for holding the question's words) for the knowledge to
/// answer at all; below it the question is not one the knowledge covers. Tuned on
/// `examples/knowledge-eval` (`kbeval`) for the built-in model.
pub const RELEVANT_ENOUGH: f64 = 0.34;

/// How much nearer to the best passage the question may come without one of its words
/// before that word counts as left out by the passage. Tuned with [`RELEVANT_ENOUGH`]:
/// dropping a word a passage is about moves the question away from it or barely
/// (at most +0.04 on the evaluation's answerable questions); dropping the thing a
/// passage does not mention brings it nearer (+0.06 to +0.15 on its out-of-scope ones).
pub const LEFT_OUT: f32 = 0.05;

/// At most this many words are tried: each costs embedding the question once more.
const WORDS_TRIED: usize = 4;

/// Candidates among which a passage's similarity is looked up.
const NEAREST: usize = 20;

/// Why the knowledge does or does not answer a question.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Answers,
    /// The best passage is not near enough: its relevance.
    Far(f64),
    /// The question names something the knowledge never mentions.
    UnknownName(String),
    /// The best passage leaves out a word the question turns on.
    LeftOut(String),
}

/// With no provider: the best `limit` passages for `question` when the knowledge
/// answers it, none when it does not, and why. Searched with the built-in model's
/// vector and keywords; keywords alone when there is no vector (the passages are still
/// being embedded), and then the keyword search decides.
pub async fn passages_answering(
    store: &dyn KnowledgeStore,
    site: SiteId,
    question: &str,
    limit: usize,
) -> Result<(Vec<Hit>, Verdict), StoreError> {
    let embedder = Embedder::BuiltIn;
    let vector = embedder.query_vector(question).await;
    let (hits, relevance) =
        knowledge::search_judged(store, site, question, limit, vector.clone()).await?;
    let verdict = match (relevance, vector, hits.first()) {
        (Some(relevance), _, _) if relevance < RELEVANT_ENOUGH => Verdict::Far(relevance),
        (Some(_), Some(vector), Some(best)) => {
            if let Some(name) = unknown_name(store, site, question).await? {
                Verdict::UnknownName(name)
            } else if let Some(word) =
                left_out_word(store, site, &embedder, question, &vector, best).await?
            {
                Verdict::LeftOut(word)
            } else {
                Verdict::Answers
            }
        }
        _ => Verdict::Answers,
    };
    let hits = if verdict == Verdict::Answers {
        hits
    } else {
        Vec::new()
    };
    Ok((hits, verdict))
}

/// The first word of `question` that the passage `best` leaves out: one that nothing in
/// the knowledge holds, and without which the question comes nearer to the passage by
/// more than [`LEFT_OUT`]. Such a word asks for something beside the passage's subject
/// ("colour" in "Can I change the colour of my invoices?" against a passage on
/// downloading invoices), while dropping a word the passage answers in its own terms
/// takes the question away from it ("cash" in "Can I get my cash back?" against the
/// refunds). A word the knowledge uses somewhere ("work", "post") is never one: light
/// words that the passage happens not to use move a question too.
pub async fn left_out_word(
    store: &dyn KnowledgeStore,
    site: SiteId,
    embedder: &Embedder,
    question: &str,
    vector: &QueryVector,
    best: &Hit,
) -> Result<Option<String>, StoreError> {
    let mut unheld: Vec<String> = Vec::new();
    for term in search_terms(question) {
        if unheld.len() == WORDS_TRIED {
            break;
        }
        if !knowledge_holds(store, site, &term).await? {
            unheld.push(term);
        }
    }
    if unheld.is_empty() {
        return Ok(None);
    }
    let similarity = async |vector: Vec<f32>| -> Result<Option<f32>, StoreError> {
        let nearest = store
            .kb_nearest(site, embedder.model(), vector, NEAREST)
            .await?;
        Ok(nearest
            .into_iter()
            .find(|(id, _)| *id == best.chunk_id)
            .map(|(_, similarity)| similarity))
    };
    let Some(base) = similarity(vector.vector.clone()).await? else {
        return Ok(None);
    };
    // One text each, so the two cores embed them side by side.
    let embedded = try_join_all(
        unheld
            .iter()
            .map(|term| embedder.embed(vec![without_word(question, term)])),
    )
    .await;
    let vectors = match embedded {
        Ok(vectors) => vectors,
        Err(err) => {
            tracing::warn!(error = %err, "cannot judge the question's words; answering");
            return Ok(None);
        }
    };
    for (term, mut vector) in unheld.into_iter().zip(vectors) {
        let Some(vector) = vector.pop() else { continue };
        if similarity(vector)
            .await?
            .is_some_and(|nearer| nearer - base > LEFT_OUT)
        {
            return Ok(Some(term));
        }
    }
    Ok(None)
}

/// The first name in `question` that nothing in the site's knowledge holds: a country,
/// a product, a day ("Do you deliver to Australia?", "Can I export invoices to
/// QuickBooks?"). The knowledge cannot answer for what it never mentions, however
/// near the rest of the question is to one of its passages.
pub async fn unknown_name(
    store: &dyn KnowledgeStore,
    site: SiteId,
    question: &str,
) -> Result<Option<String>, StoreError> {
    for name in names(question).into_iter().take(WORDS_TRIED) {
        if !knowledge_holds(store, site, &name.to_lowercase()).await? {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Whether any passage of the site's knowledge holds `word` (lower-case), in any form
/// the keyword search matches.
async fn knowledge_holds(
    store: &dyn KnowledgeStore,
    site: SiteId,
    word: &str,
) -> Result<bool, StoreError> {
    Ok(!store
        .kb_keyword(site, vec![word.to_owned()], 1)
        .await?
        .is_empty())
}

/// The words of `text` written as names: with a capital letter where no sentence
/// starts ("Australia", "QuickBooks", "iPhone", "US"), not "I". None when the text is
/// written in capitals throughout, where a capital says nothing.
fn names(text: &str) -> Vec<String> {
    let letters = text.chars().filter(|c| c.is_alphabetic());
    let capitals = letters.clone().filter(|c| c.is_uppercase()).count();
    if capitals * 2 > letters.count() {
        return Vec::new();
    }
    let mut names: Vec<String> = Vec::new();
    let mut word = String::new();
    // Whether the next word starts a sentence.
    let mut sentence_starts = true;
    for c in text.chars().chain([' ']) {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            let named = word.chars().count() > 1 && word.chars().any(char::is_uppercase);
            if named && !sentence_starts && !names.contains(&word) {
                names.push(word.clone());
            }
            sentence_starts = false;
            word.clear();
        }
        if matches!(c, '.' | '!' | '?' | '\n') {
            sentence_starts = true;
        }
    }
    names
}

/// `text` without the word `term` (lower-case) wherever it stands alone between spaces,
/// in any case, with the punctuation around it ("QuickBooks?"): a question mark left
/// dangling moved the question as much as some words.
fn without_word(text: &str, term: &str) -> String {
    text.split_whitespace()
        .filter(|token| {
            let core: String = token.chars().filter(|c| c.is_alphanumeric()).collect();
            core.to_lowercase() != term
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_capitalised_words_where_no_sentence_starts() {
        assert_eq!(names("Do you deliver to Australia?"), ["Australia"]);
        assert_eq!(
            names("Hi. Can I export to QuickBooks from my iPhone in the US? Thanks"),
            ["QuickBooks", "iPhone", "US"]
        );
        assert_eq!(names("I'd like the Business plan, I think"), ["Business"]);
        assert!(names("can i get my cash back").is_empty());
        assert!(
            names("WHERE IS MY ORDER FROM AMAZON").is_empty(),
            "capitals throughout say nothing"
        );
    }

    #[test]
    fn a_word_goes_with_its_punctuation_and_nothing_else_does() {
        assert_eq!(
            without_word("Can I export invoices to QuickBooks?", "quickbooks"),
            "Can I export invoices to"
        );
        assert_eq!(
            without_word("Post it by post, postage paid", "post"),
            "it by postage paid"
        );
        assert_eq!(without_word("second-hand", "second"), "second-hand");
        assert_eq!(without_word("nothing here", "absent"), "nothing here");
    }
}
