//! The in-process cache (`type: local`): moka, bounded by entries **and** bytes, each entry
//! with its own TTL.
//!
//! moka bounds one weight; both bounds hold by weighing an entry as
//! `max(its bytes, max_bytes / max_entries)`: no more than `max_entries` entries fit, and
//! their bytes never pass `max_bytes`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache as Moka;

/// LiteLLM's `InMemoryCache` defaults: 200 entries, 600 s.
pub const DEFAULT_MAX_ENTRIES: u64 = 200;
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// llmgate's byte bound (`max_size_in_memory_bytes`).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
}

struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _k: &String, v: &Entry, _at: Instant) -> Option<Duration> {
        Some(v.ttl)
    }
}

pub struct LocalCache {
    inner: Moka<String, Entry>,
    max_bytes: u64,
}

impl LocalCache {
    pub fn new(max_entries: u64, max_bytes: u64) -> LocalCache {
        let max_entries = max_entries.max(1);
        let max_bytes = max_bytes.max(1);
        let floor = (max_bytes / max_entries).clamp(1, u32::MAX as u64) as u32;
        let inner = Moka::builder()
            .max_capacity(max_bytes)
            .weigher(move |k: &String, v: &Entry| {
                let bytes = (k.len() + v.value.len()).min(u32::MAX as usize) as u32;
                bytes.max(floor)
            })
            .expire_after(PerEntryTtl)
            .build();
        LocalCache { inner, max_bytes }
    }

    pub fn get(&self, key: &str) -> Option<Arc<[u8]>> {
        self.inner.get(key).map(|e| e.value)
    }

    /// Stores `value` for `ttl`; a value larger than the whole cache is not stored.
    pub fn put(&self, key: String, value: Arc<[u8]>, ttl: Duration) {
        if value.len() as u64 > self.max_bytes || ttl.is_zero() {
            return;
        }
        self.inner.insert(key, Entry { value, ttl });
    }

    pub fn delete(&self, key: &str) {
        self.inner.invalidate(key);
    }

    pub fn clear(&self) {
        self.inner.invalidate_all();
    }

    /// (entries, weighed bytes) after pending evictions ran.
    pub fn usage(&self) -> (u64, u64) {
        self.inner.run_pending_tasks();
        (self.inner.entry_count(), self.inner.weighted_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Arc<[u8]> {
        vec![b'x'; n].into()
    }

    #[test]
    fn bounded_by_entries() {
        let c = LocalCache::new(10, 1 << 20);
        for i in 0..100 {
            c.put(format!("k{i}"), bytes(10), DEFAULT_TTL);
        }
        let (n, _) = c.usage();
        assert!(n <= 10, "{n} entries kept");
        assert!(n > 0);
    }

    #[test]
    fn bounded_by_bytes() {
        let c = LocalCache::new(1000, 10_000);
        for i in 0..100 {
            c.put(format!("k{i}"), bytes(1000), DEFAULT_TTL);
        }
        let (n, weight) = c.usage();
        assert!(weight <= 10_000, "{weight} bytes kept");
        assert!(n <= 10, "{n} entries of 1000 bytes in 10 000");
        // Too large for the whole cache: not stored.
        c.put("huge".into(), bytes(20_000), DEFAULT_TTL);
        assert!(c.get("huge").is_none());
    }

    #[test]
    fn entries_expire_after_their_ttl() {
        let c = LocalCache::new(10, 1 << 20);
        c.put("short".into(), bytes(1), Duration::from_millis(50));
        c.put("long".into(), bytes(1), Duration::from_secs(60));
        assert!(c.get("short").is_some());
        std::thread::sleep(Duration::from_millis(120));
        assert!(c.get("short").is_none());
        assert!(c.get("long").is_some());
        c.delete("long");
        assert!(c.get("long").is_none());
    }
}
