//! The embedded semantic cache (`type: local-semantic`, llmgate's own): a prompt's embedding
//! comes from a configured embedding model group (`redis_semantic_cache_embedding_model`,
//! LiteLLM's name for it), and the nearest stored prompt by cosine similarity answers when it
//! reaches `similarity_threshold`. In process, no extra service; bounded by
//! `max_size_in_memory` entries (the oldest goes first) and each entry's TTL.
//!
//! As LiteLLM's semantic caches, the prompt itself is left out of the exact key: entries are
//! compared only within one *scope* — the hash of every other parameter, the model group and
//! the namespace — so a different temperature or tool list never matches.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEFAULT_MAX_ENTRIES: usize = 1000;
/// LiteLLM's `similarity_threshold` has no default (required); ours when unset.
pub const DEFAULT_THRESHOLD: f64 = 0.9;

struct Entry {
    scope: String,
    vector: Vec<f32>,
    value: Arc<[u8]>,
    expires: Instant,
}

pub struct SemanticCache {
    pub embedding_model: String,
    pub threshold: f64,
    max_entries: usize,
    entries: Mutex<VecDeque<Entry>>,
}

/// A hit: the stored value and how similar its prompt was.
pub struct Near {
    pub value: Arc<[u8]>,
    pub similarity: f64,
}

impl SemanticCache {
    pub fn new(embedding_model: String, threshold: f64, max_entries: usize) -> SemanticCache {
        SemanticCache {
            embedding_model,
            threshold,
            max_entries: max_entries.max(1),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The most similar live entry of `scope`, if it reaches the threshold.
    pub fn nearest(&self, scope: &str, vector: &[f32]) -> Option<Near> {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.expires > now);
        let mut best: Option<(f64, &Entry)> = None;
        for e in entries.iter().filter(|e| e.scope == scope) {
            let s = cosine(vector, &e.vector);
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, e));
            }
        }
        let (similarity, e) = best?;
        (similarity >= self.threshold).then(|| Near {
            value: e.value.clone(),
            similarity,
        })
    }

    pub fn put(&self, scope: String, vector: Vec<f32>, value: Arc<[u8]>, ttl: Duration) {
        if vector.is_empty() || ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        while entries.len() >= self.max_entries {
            entries.pop_front();
        }
        entries.push_back(Entry {
            scope,
            vector,
            value,
            expires: Instant::now() + ttl,
        });
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Cosine similarity; 0 for vectors of different lengths or zero norm.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (*x as f64, *y as f64);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    dot / (na.sqrt() * nb.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(b: &[u8]) -> Arc<[u8]> {
        b.to_vec().into()
    }

    #[test]
    fn nearest_above_threshold_within_scope() {
        let c = SemanticCache::new("embed".into(), 0.9, 10);
        c.put(
            "s".into(),
            vec![1.0, 0.0, 0.0],
            v(b"a"),
            Duration::from_secs(60),
        );
        c.put(
            "s".into(),
            vec![0.0, 1.0, 0.0],
            v(b"b"),
            Duration::from_secs(60),
        );
        let hit = c.nearest("s", &[0.95, 0.05, 0.0]).unwrap();
        assert_eq!(&*hit.value, b"a");
        assert!(hit.similarity > 0.99);
        // Below the threshold: a miss.
        assert!(c.nearest("s", &[0.7, 0.7, 0.0]).is_none());
        // Another scope never matches.
        assert!(c.nearest("t", &[1.0, 0.0, 0.0]).is_none());
    }

    #[test]
    fn bounded_and_expiring() {
        let c = SemanticCache::new("embed".into(), 0.5, 3);
        for i in 0..10 {
            c.put(
                "s".into(),
                vec![1.0, i as f32],
                v(b"x"),
                Duration::from_secs(60),
            );
        }
        assert_eq!(c.len(), 3);
        c.put("e".into(), vec![1.0], v(b"y"), Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.nearest("e", &[1.0]).is_none());
    }

    #[test]
    fn cosine_edges() {
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-9);
    }
}
