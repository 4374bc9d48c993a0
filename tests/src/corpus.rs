//! Generated help articles for benchmarks: an 80-word support vocabulary (so most
//! words match many passages, a hard case for bm25), deterministic from a seed.

use porchlight_relay::store::{KnowledgeStore, StoreError};

/// Words of a support site, so that bm25 sees a realistic spread of frequencies.
pub const WORDS: &[&str] = &[
    "account",
    "password",
    "reset",
    "billing",
    "invoice",
    "refund",
    "payment",
    "card",
    "subscription",
    "plan",
    "upgrade",
    "downgrade",
    "cancel",
    "order",
    "delivery",
    "shipping",
    "tracking",
    "parcel",
    "return",
    "warranty",
    "repair",
    "install",
    "setup",
    "login",
    "email",
    "notification",
    "security",
    "two-factor",
    "export",
    "import",
    "report",
    "dashboard",
    "team",
    "member",
    "invite",
    "role",
    "permission",
    "api",
    "webhook",
    "integration",
    "sync",
    "calendar",
    "booking",
    "schedule",
    "price",
    "discount",
    "coupon",
    "tax",
    "receipt",
    "address",
    "phone",
    "support",
    "chat",
    "ticket",
    "agent",
    "hours",
    "weekend",
    "holiday",
    "storage",
    "upload",
    "file",
    "photo",
    "video",
    "mobile",
    "android",
    "iphone",
    "browser",
    "error",
    "timeout",
    "slow",
    "crash",
    "update",
    "version",
    "language",
    "privacy",
    "delete",
    "data",
];
const FILLER: &[&str] = &[
    "the", "you", "can", "your", "in", "to", "and", "we", "it", "is", "a", "for", "of", "when",
    "after", "before", "with", "then", "from", "this", "on", "at",
];

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next_u64() % words.len() as u64) as usize]
    }
}

fn sentence(rng: &mut Rng) -> String {
    let length = 8 + rng.next_u64() % 10;
    let words: Vec<&str> = (0..length)
        .map(|index| {
            if index % 3 == 1 {
                rng.pick(WORDS)
            } else {
                rng.pick(FILLER)
            }
        })
        .collect();
    format!("{}.", words.join(" "))
}

/// One document: a title and ten sections of a few sentences each.
pub fn document(rng: &mut Rng, number: usize) -> String {
    let mut text = format!("# {} {} guide {number}\n", rng.pick(WORDS), rng.pick(WORDS));
    for section in 0..10 {
        text.push_str(&format!(
            "\n## {} and {} {section}\n\n",
            rng.pick(WORDS),
            rng.pick(WORDS)
        ));
        for _ in 0..(3 + rng.next_u64() % 4) {
            text.push_str(&sentence(rng));
            text.push(' ');
        }
        text.push('\n');
    }
    text
}

/// Gives every passage without a vector from `model` a random one of `dims` numbers.
pub async fn embed_randomly(
    store: &dyn KnowledgeStore,
    model: &str,
    dims: usize,
    rng: &mut Rng,
) -> Result<(), StoreError> {
    loop {
        let batch = store.kb_unembedded(model.to_owned(), 500).await?;
        if batch.is_empty() {
            return Ok(());
        }
        let vectors = batch
            .into_iter()
            .map(|(id, _)| (id, unit_vector(rng, dims)))
            .collect();
        store.kb_set_embeddings(model.to_owned(), vectors).await?;
    }
}

/// A random unit vector of `dims` numbers, standing in for a passage's embedding:
/// vector search scores every passage whatever its numbers.
pub fn unit_vector(rng: &mut Rng, dims: usize) -> Vec<f32> {
    let raw: Vec<f32> = (0..dims)
        .map(|_| (rng.next_u64() % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    let norm = raw.iter().map(|value| value * value).sum::<f32>().sqrt();
    raw.into_iter()
        .map(|value| value / norm.max(f32::EPSILON))
        .collect()
}
