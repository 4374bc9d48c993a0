//! The passages' vectors in memory, per site and model, for the vector search: each
//! backend reads them from its database once, and again only after the knowledge
//! changed. Reading every passage's row for each question took most of a search's
//! time (10,000 passages: about 20 ms), and rows hold the text beside the vector.
//!
//! The knowledge changed when its generation moved: triggers on the passages move it
//! in the writing transaction, so a change made by another process (`porchlight kb
//! import` beside a running relay, or another node) counts too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::model::SiteId;

/// One site's vectors from one model, scaled to length 1 (a cosine is then a dot
/// product), one after another.
pub(crate) struct Vectors {
    generation: i64,
    dims: usize,
    ids: Vec<i64>,
    values: Vec<f32>,
    /// Whether some passage of the site has no vector from the model yet.
    incomplete: bool,
}

impl Vectors {
    /// None yet, as of the knowledge's `generation`.
    pub(crate) fn new(generation: i64) -> Self {
        Self {
            generation,
            dims: 0,
            ids: Vec::new(),
            values: Vec::new(),
            incomplete: false,
        }
    }

    /// Adds passage `id`'s vector as stored (little-endian f32s), or notes that it has
    /// none from the model yet. One model gives one size: a vector of another size
    /// cannot be compared and is left out.
    pub(crate) fn push(&mut self, id: i64, blob: Option<&[u8]>) {
        let Some(blob) = blob else {
            self.incomplete = true;
            return;
        };
        let passage: Vec<f32> = blob
            .chunks_exact(4)
            .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            .collect();
        if self.ids.is_empty() {
            self.dims = passage.len();
        }
        if passage.len() == self.dims {
            self.ids.push(id);
            self.values.extend(unit(&passage));
        }
    }

    /// The `limit` passages nearest to `vector` by cosine similarity, best first; none
    /// while some passage has no vector yet, since the nearest of those that have one
    /// may be far from the best answer (just after an import, while the passages are
    /// being embedded).
    pub(crate) fn nearest(&self, vector: &[f32], limit: usize) -> Vec<(i64, f32)> {
        let query = unit(vector);
        if self.incomplete || query.len() != self.dims || limit == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(i64, f32)> = self
            .ids
            .iter()
            .zip(self.values.chunks_exact(self.dims))
            .map(|(id, passage)| (*id, dot(&query, passage)))
            .collect();
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit - 1, |a, b| b.1.total_cmp(&a.1));
            scored.truncate(limit);
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored
    }
}

#[derive(Default)]
pub(crate) struct VectorCache {
    loaded: Mutex<HashMap<(SiteId, String), Arc<Vectors>>>,
}

impl VectorCache {
    /// The copy in memory of the site's vectors from `model`, if it was read at the
    /// knowledge's `generation`. Older copies of every site go at once: the knowledge
    /// changed.
    pub(crate) fn current(
        &self,
        site: SiteId,
        model: &str,
        generation: i64,
    ) -> Option<Arc<Vectors>> {
        let mut loaded = self
            .loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match loaded.get(&(site, model.to_owned())) {
            Some(vectors) if vectors.generation == generation => return Some(Arc::clone(vectors)),
            Some(_) => loaded.retain(|_, vectors| vectors.generation == generation),
            None => {}
        }
        None
    }

    /// Keeps `vectors`, just read, as the site's from `model`.
    pub(crate) fn keep(&self, site: SiteId, model: &str, vectors: Vectors) -> Arc<Vectors> {
        let vectors = Arc::new(vectors);
        self.loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert((site, model.to_owned()), Arc::clone(&vectors));
        vectors
    }
}

/// A vector as stored: little-endian f32s.
pub(crate) fn to_blob(vector: &[f32]) -> Vec<u8> {
    vector
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

/// `vector` scaled to length 1 (all zeros stays all zeros: similar to nothing).
fn unit(vector: &[f32]) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        vector.to_vec()
    } else {
        vector.iter().map(|x| x / norm).collect()
    }
}

/// In eight lanes, which the compiler turns into vector instructions (one running sum
/// would be a chain of dependent additions).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        dot(&unit(a), &unit(b))
    }

    #[test]
    fn stored_vectors_come_back_nearest_first_and_other_sizes_are_left_out() {
        let mut vectors = Vectors::new(7);
        vectors.push(1, Some(&to_blob(&[1.0, 0.0])));
        vectors.push(2, Some(&to_blob(&[0.6, 0.8])));
        vectors.push(3, Some(&to_blob(&[1.0, 0.0, 0.0])));
        vectors.push(4, Some(&to_blob(&[0.0, -2.0])));
        let nearest = vectors.nearest(&[0.0, 3.0], 2);
        assert_eq!(
            nearest.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            [2, 1]
        );
        assert!((nearest[0].1 - 0.8).abs() < 1e-6);
        assert!(
            vectors.nearest(&[1.0, 0.0, 0.0], 5).is_empty(),
            "another size"
        );
        vectors.push(5, None);
        assert!(
            vectors.nearest(&[0.0, 3.0], 2).is_empty(),
            "none while a passage waits for its vector"
        );
    }

    #[test]
    fn a_copy_is_current_until_the_knowledge_moves_on() {
        let cache = VectorCache::default();
        assert!(cache.current(1, "m", 3).is_none());
        cache.keep(1, "m", Vectors::new(3));
        cache.keep(2, "m", Vectors::new(3));
        assert!(cache.current(1, "m", 3).is_some());
        assert!(cache.current(1, "other", 3).is_none());
        assert!(cache.current(1, "m", 4).is_none(), "the knowledge changed");
        assert!(cache.current(2, "m", 3).is_none(), "every older copy went");
    }

    #[test]
    fn unit_vectors_compare_by_cosine() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!((cosine(&[0.5, -1.25, 3.0], &[0.5, -1.25, 3.0]) - 1.0).abs() < 1e-6);
        // A longer one (two groups of eight and a tail), against plain sums.
        let a: Vec<f32> = (0..19).map(|i| i as f32 - 7.5).collect();
        let b: Vec<f32> = (0..19).map(|i| (i * i) as f32 * 0.1).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let norms = a.iter().map(|x| x * x).sum::<f32>().sqrt()
            * b.iter().map(|y| y * y).sum::<f32>().sqrt();
        assert!((cosine(&a, &b) - plain / norms).abs() < 1e-5);
        assert!((cosine(&[1.0, 1.0], &[1.0, 0.0]) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
        assert_eq!(
            cosine(&[0.0, 0.0], &[1.0, 2.0]),
            0.0,
            "all zeros is near nothing"
        );
    }
}
