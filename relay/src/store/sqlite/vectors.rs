//! The passages' vectors in memory, per site and model, for the vector search: read
//! from the database once, and again only after the knowledge changed. Reading every
//! passage's row for each question took most of a search's time (10,000 passages:
//! about 20 ms), and rows hold the text beside the vector.
//!
//! The knowledge changed when `kb_generation` moved: triggers on `kb_chunks` move it
//! in the writing transaction, so a change made by another process (`porchlight kb
//! import` beside a running relay) counts too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, params};

use crate::store::StoreError;
use crate::store::model::SiteId;

use super::Cached;

/// One site's vectors from one model, scaled to length 1 (a cosine is then a dot
/// product), one after another.
struct Vectors {
    generation: i64,
    dims: usize,
    ids: Vec<i64>,
    values: Vec<f32>,
}

#[derive(Default)]
pub(super) struct VectorCache {
    loaded: Mutex<HashMap<(SiteId, String), Arc<Vectors>>>,
}

impl VectorCache {
    /// The `limit` passages of `site` nearest to `vector` by cosine similarity, best first.
    pub(super) fn nearest(
        &self,
        conn: &Connection,
        site: SiteId,
        model: &str,
        vector: &[f32],
        limit: usize,
    ) -> Result<Vec<(i64, f32)>, StoreError> {
        let vectors = self.vectors(conn, site, model)?;
        let query = unit(vector);
        if query.len() != vectors.dims || limit == 0 {
            return Ok(Vec::new());
        }
        let mut scored: Vec<(i64, f32)> = vectors
            .ids
            .iter()
            .zip(vectors.values.chunks_exact(vectors.dims))
            .map(|(id, passage)| (*id, dot(&query, passage)))
            .collect();
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit - 1, |a, b| b.1.total_cmp(&a.1));
            scored.truncate(limit);
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(scored)
    }

    /// The site's vectors as stored now: the copy in memory unless the knowledge changed.
    fn vectors(
        &self,
        conn: &Connection,
        site: SiteId,
        model: &str,
    ) -> Result<Arc<Vectors>, StoreError> {
        let generation: i64 =
            conn.cached_row("SELECT generation FROM kb_generation", [], |row| row.get(0))?;
        let key = (site, model.to_owned());
        {
            let mut loaded = self
                .loaded
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match loaded.get(&key) {
                Some(vectors) if vectors.generation == generation => {
                    return Ok(Arc::clone(vectors));
                }
                // Older copies of every site go at once: the knowledge changed.
                Some(_) => loaded.retain(|_, vectors| vectors.generation == generation),
                None => {}
            }
        }
        let vectors = Arc::new(load(conn, site, model, generation)?);
        self.loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key, Arc::clone(&vectors));
        Ok(vectors)
    }
}

fn load(
    conn: &Connection,
    site: SiteId,
    model: &str,
    generation: i64,
) -> Result<Vectors, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT c.id, c.embedding FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id \
         WHERE d.site_id = ?1 AND c.embedding_model = ?2 AND c.embedding IS NOT NULL",
    )?;
    let mut vectors = Vectors {
        generation,
        dims: 0,
        ids: Vec::new(),
        values: Vec::new(),
    };
    let mut rows = statement.query(params![site, model])?;
    while let Some(row) = rows.next()? {
        let Ok(blob) = row.get_ref(1)?.as_blob() else {
            continue;
        };
        let passage: Vec<f32> = blob
            .chunks_exact(4)
            .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            .collect();
        if vectors.ids.is_empty() {
            vectors.dims = passage.len();
        }
        // One model gives one size; a vector of another cannot be compared.
        if passage.len() == vectors.dims {
            vectors.ids.push(row.get(0)?);
            vectors.values.extend(unit(&passage));
        }
    }
    Ok(vectors)
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
