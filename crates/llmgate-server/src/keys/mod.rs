//! Virtual keys on the request path: a cache of key rows (a key seen once costs no database
//! round trip again) with the key's live spend, and the spend writer that batches spend logs
//! to the database off the request path.

pub mod access;
pub mod spend;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use llmgate_store::keys::KeyRow;
use llmgate_store::{Store, StoreError};

/// A key as the request path sees it.
#[derive(Debug)]
pub struct CachedKey {
    pub row: KeyRow,
    /// The key's spend: the database's at load time plus every call since (flushed or not),
    /// so budget checks never wait for a batch.
    spend: Mutex<f64>,
}

impl CachedKey {
    pub fn spend(&self) -> f64 {
        *self.spend.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_spend(&self, cost: f64) {
        *self.spend.lock().unwrap_or_else(|e| e.into_inner()) += cost;
    }
}

#[derive(Default)]
pub struct KeyCache {
    map: RwLock<HashMap<String, Arc<CachedKey>>>,
}

impl KeyCache {
    /// The key with this hash: from memory, else from the database (then cached).
    pub async fn get(
        &self,
        store: &Store,
        hash: &str,
    ) -> Result<Option<Arc<CachedKey>>, StoreError> {
        if let Some(k) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(hash) {
            return Ok(Some(k.clone()));
        }
        let Some(row) = store.get_key(hash).await? else {
            return Ok(None);
        };
        Ok(Some(self.put(row)))
    }

    /// Caches a row read from (or just written to) the database. A key already cached keeps
    /// its live spend: the row's may lag behind unflushed calls.
    pub fn put(&self, row: KeyRow) -> Arc<CachedKey> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let spend = map.get(&row.token).map(|k| k.spend()).unwrap_or(row.spend);
        let k = Arc::new(CachedKey {
            spend: Mutex::new(spend),
            row,
        });
        map.insert(k.row.token.clone(), k.clone());
        k
    }

    pub fn remove(&self, hash: &str) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(hash);
    }
}
