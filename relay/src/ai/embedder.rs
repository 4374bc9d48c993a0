//! What turns text into vectors for the knowledge search: the provider's embedding
//! model when one is set up, else the model built into the relay (all-MiniLM-L6-v2,
//! in-process, no key). Vectors are stored under the model's name, so changing the
//! provider re-embeds the passages and never mixes two models' vectors.

use porchlight_minilm::{NAME, built_in};

use super::provider::Provider;
use crate::knowledge::QueryVector;
use crate::store::{KnowledgeStore, StoreError};

/// Passages embedded per round.
const BATCH: usize = 16;

#[derive(Clone)]
pub enum Embedder {
    Provider { provider: Provider, model: String },
    BuiltIn,
}

impl Embedder {
    /// The provider's, when it makes embeddings; the built-in model otherwise.
    pub fn of(provider: Option<&Provider>) -> Self {
        match provider {
            Some(provider) if provider.has_embeddings() => match &provider.embedding_name {
                Some(model) => Self::Provider {
                    provider: provider.clone(),
                    model: model.clone(),
                },
                None => Self::BuiltIn,
            },
            _ => Self::BuiltIn,
        }
    }

    /// The name its vectors are stored under.
    pub fn model(&self) -> String {
        match self {
            Self::Provider { model, .. } => model.clone(),
            Self::BuiltIn => NAME.to_owned(),
        }
    }

    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
        match self {
            Self::Provider { provider, .. } => {
                provider.embed(texts).await.map_err(|err| err.to_string())
            }
            // The arithmetic takes milliseconds a text: off the async workers.
            Self::BuiltIn => tokio::task::spawn_blocking(move || {
                texts.iter().map(|text| built_in().embed(text)).collect()
            })
            .await
            .map_err(|err| err.to_string()),
        }
    }

    /// `question`'s vector for searching, or none (keyword search alone) when the
    /// model cannot make one.
    pub async fn query_vector(&self, question: &str) -> Option<QueryVector> {
        match self.embed(vec![question.to_owned()]).await {
            Ok(mut vectors) if !vectors.is_empty() => Some(QueryVector {
                model: self.model(),
                vector: vectors.swap_remove(0),
            }),
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(error = %err, "no query vector; keyword search only");
                None
            }
        }
    }
}

/// Gives every passage without a vector from `embedder` one, a batch at a time, until
/// none is left or `stop` says so; says how many it embedded.
pub async fn embed_missing(
    store: &dyn KnowledgeStore,
    embedder: &Embedder,
    stop: impl Fn() -> bool,
) -> Result<usize, EmbedError> {
    let model = embedder.model();
    let mut done = 0;
    loop {
        let pending = store.kb_unembedded(model.clone(), BATCH).await?;
        if pending.is_empty() || stop() {
            return Ok(done);
        }
        let texts = pending.iter().map(|(_, text)| text.clone()).collect();
        let vectors = embedder.embed(texts).await.map_err(EmbedError::Model)?;
        if vectors.len() != pending.len() {
            return Err(EmbedError::Model(
                "the model returned the wrong number of vectors".into(),
            ));
        }
        done += pending.len();
        let rows = pending.iter().map(|(id, _)| *id).zip(vectors).collect();
        store.kb_set_embeddings(model.clone(), rows).await?;
        tokio::task::yield_now().await;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("cannot embed knowledge: {0}")]
    Model(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
