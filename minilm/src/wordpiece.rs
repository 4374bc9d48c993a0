//! BERT's uncased tokenizer: lower-case, accents stripped, punctuation split off, then
//! each word as the longest vocabulary pieces from its start (`##` marks a piece that
//! continues a word).

use std::collections::HashMap;

/// The longest word looked up; a longer one is unknown.
const LONGEST_WORD: usize = 100;

pub(crate) struct WordPiece {
    ids: HashMap<String, u32>,
    unknown: u32,
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
}

/// Strips the combining marks of a letter's common accented forms (é → e).
fn unaccented(c: char) -> char {
    const FROM: &str = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ";
    const TO: &str = "aaaaaaceeeeiiiinooooouuuuyy";
    FROM.chars()
        .position(|from| from == c)
        .and_then(|at| TO.chars().nth(at))
        .unwrap_or(c)
}

impl WordPiece {
    /// From `vocab.txt`: one piece per line, its line number its id.
    pub(crate) fn new(vocab: &str) -> Result<Self, String> {
        let ids: HashMap<String, u32> = vocab
            .lines()
            .enumerate()
            .map(|(id, piece)| (piece.to_owned(), u32::try_from(id).unwrap_or(u32::MAX)))
            .collect();
        let unknown = *ids.get("[UNK]").ok_or("the vocabulary has no [UNK]")?;
        Ok(Self { ids, unknown })
    }

    pub(crate) fn id(&self, piece: &str) -> Option<u32> {
        self.ids.get(piece).copied()
    }

    /// The words of `text`: lower-case, unaccented, punctuation on its own.
    fn words(text: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        for c in text.chars().flat_map(char::to_lowercase).map(unaccented) {
            if c.is_whitespace() || c.is_control() || is_punctuation(c) {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                if is_punctuation(c) {
                    words.push(c.to_string());
                }
            } else {
                word.push(c);
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        words
    }

    /// The ids of `text`'s pieces, at most `most`.
    pub(crate) fn encode(&self, text: &str, most: usize) -> Vec<u32> {
        let mut ids = Vec::new();
        for word in Self::words(text) {
            if ids.len() >= most {
                break;
            }
            self.pieces(&word, &mut ids);
        }
        ids.truncate(most);
        ids
    }

    fn pieces(&self, word: &str, ids: &mut Vec<u32>) {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > LONGEST_WORD {
            ids.push(self.unknown);
            return;
        }
        let mut found = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let mut end = chars.len();
            let mut piece = None;
            while start < end {
                let text: String = chars[start..end].iter().collect();
                let candidate = if start == 0 {
                    text
                } else {
                    format!("##{text}")
                };
                if let Some(id) = self.id(&candidate) {
                    piece = Some(id);
                    break;
                }
                end -= 1;
            }
            let Some(id) = piece else {
                ids.push(self.unknown);
                return;
            };
            found.push(id);
            start = end;
        }
        ids.extend(found);
    }
}
