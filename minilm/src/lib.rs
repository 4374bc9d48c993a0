//! Sentence embeddings from all-MiniLM-L6-v2, in plain Rust: the question and each
//! knowledge passage become 384 numbers whose cosine says how alike their meanings are.

mod bert;
mod wordpiece;

use bert::{Bert, POSITIONS};
use wordpiece::WordPiece;

pub use bert::HIDDEN as DIMENSIONS;

/// The name vectors made by [`built_in`] are stored under.
pub const NAME: &str = "all-MiniLM-L6-v2 (built in)";

/// The model that ships inside the binary (`model/`, see its NOTICE), read once.
pub fn built_in() -> &'static MiniLm {
    static MODEL: std::sync::OnceLock<MiniLm> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        MiniLm::new(
            include_bytes!("../model/all-MiniLM-L6-v2.int8"),
            include_str!("../model/vocab.txt"),
        )
        .expect("the built-in model is well formed (a test checks it)")
    })
}

pub struct MiniLm {
    tokenizer: WordPiece,
    bert: Bert,
    start: u32,
    end: u32,
}

impl MiniLm {
    /// From the model file (`export.py` writes it) and `vocab.txt`.
    pub fn new(weights: &'static [u8], vocab: &str) -> Result<Self, String> {
        let tokenizer = WordPiece::new(vocab)?;
        let start = tokenizer.id("[CLS]").ok_or("no [CLS]")?;
        let end = tokenizer.id("[SEP]").ok_or("no [SEP]")?;
        let bert = Bert::read(weights, vocab.lines().count())?;
        Ok(Self {
            tokenizer,
            bert,
            start,
            end,
        })
    }

    /// The text's pieces as the model reads them: [CLS], at most 254 pieces, [SEP].
    pub fn ids(&self, text: &str) -> Vec<u32> {
        let mut ids = vec![self.start];
        ids.extend(self.tokenizer.encode(text, POSITIONS / 2 - 2));
        ids.push(self.end);
        ids
    }

    /// The text's embedding, of length 1.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        let mut vector = self.bert.pooled(&self.ids(text));
        let length = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        if length > 0.0 {
            vector.iter_mut().for_each(|v| *v /= length);
        }
        vector
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against numpy running the original checkpoint in f32 (`export.py`'s input).
    #[test]
    fn the_built_in_model_reads_and_embeds_as_the_reference_does() {
        let model = built_in();
        assert_eq!(
            model.ids("How do I reset my password?"),
            [101, 2129, 2079, 1045, 25141, 2026, 20786, 1029, 102]
        );
        assert_eq!(
            model.ids("Café déjà-vu: refunds, 5 to 10 days!"),
            [
                101, 7668, 2139, 3900, 1011, 24728, 1024, 25416, 26698, 1010, 1019, 2000, 2184,
                2420, 999, 102
            ]
        );
        let vector = model.embed("How do I reset my password?");
        assert_eq!(vector.len(), DIMENSIONS);
        let expected = [0.0069, -0.06306, -0.07205, -0.0325, -0.04266];
        for (got, want) in vector.iter().zip(expected) {
            assert!((got - want).abs() < 5e-3, "{:?}", &vector[..5]);
        }
    }

    #[test]
    fn alike_meanings_are_nearer_than_shared_words() {
        let model = built_in();
        let cosine = |a: &str, b: &str| {
            let (a, b) = (model.embed(a), model.embed(b));
            a.iter().zip(&b).map(|(x, y)| x * y).sum::<f32>()
        };
        let refund = "Refunds go back to the card you paid with within 10 days.";
        assert!(
            cosine("Can I get my cash back?", refund)
                > cosine(
                    "Can I get my cash back?",
                    "Gift cards can be exchanged for goods in the shop."
                )
        );
    }
}
