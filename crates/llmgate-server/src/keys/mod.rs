//! Virtual keys on the request path: caches of key, user and team rows (a row seen once costs
//! no database round trip again) with their live spend, access and budget checks, and the spend
//! writer that batches spend logs to the database off the request path.

pub mod access;
pub mod admit;
pub mod alerts;
pub mod budgets;
pub mod limits;
pub mod settle;
pub mod spend;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use llmgate_store::entities::{
    BudgetRow, CustomerRow, OrgRow, TagRow, TeamRow, UserRow, BUDGETS, CUSTOMERS, ORGANIZATIONS,
    TAGS, TEAMS, USERS,
};
use llmgate_store::keys::KeyRow;
use llmgate_store::{Store, StoreError};

/// A row (key, user, team) as the request path sees it, with its live spend: the database's
/// at load time plus every call since (flushed or not), so budget checks never wait for a batch.
#[derive(Debug)]
pub struct Live<T> {
    pub row: T,
    spend: Mutex<f64>,
}

pub type CachedKey = Live<KeyRow>;

impl<T> Live<T> {
    pub fn spend(&self) -> f64 {
        *self.spend.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `cost`; returns the spend before it.
    pub fn add_spend(&self, cost: f64) -> f64 {
        let mut s = self.spend.lock().unwrap_or_else(|e| e.into_inner());
        let before = *s;
        *s += cost;
        before
    }
}

/// What a cached row is known by and what it had spent when read.
pub trait Row {
    fn id(&self) -> &str;
    fn stored_spend(&self) -> f64;
}

impl Row for KeyRow {
    fn id(&self) -> &str {
        &self.token
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
}

impl Row for UserRow {
    fn id(&self) -> &str {
        &self.user_id
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
}

impl Row for CustomerRow {
    fn id(&self) -> &str {
        &self.user_id
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
}

impl Row for OrgRow {
    fn id(&self) -> &str {
        &self.organization_id
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
}

impl Row for TagRow {
    fn id(&self) -> &str {
        &self.tag_name
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
}

impl Row for BudgetRow {
    fn id(&self) -> &str {
        &self.budget_id
    }
    fn stored_spend(&self) -> f64 {
        0.0
    }
}

impl Row for TeamRow {
    fn id(&self) -> &str {
        &self.team_id
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
}

/// Rows by id, invalidated by the admin routes that change them.
pub struct Cache<T> {
    map: RwLock<HashMap<String, Arc<Live<T>>>>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Cache {
            map: RwLock::new(HashMap::new()),
        }
    }
}

impl<T: Row> Cache<T> {
    /// The row with this id: from memory, else from `load` (then cached).
    pub async fn get_or_load<F, Fut>(
        &self,
        id: &str,
        load: F,
    ) -> Result<Option<Arc<Live<T>>>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, StoreError>>,
    {
        if let Some(k) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(id) {
            return Ok(Some(k.clone()));
        }
        Ok(load().await?.map(|row| self.put(row)))
    }

    /// Caches a row read from (or just written to) the database. A row already cached keeps
    /// its live spend: the stored one may lag behind unflushed calls.
    pub fn put(&self, row: T) -> Arc<Live<T>> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let spend = map
            .get(row.id())
            .map(|k| k.spend())
            .unwrap_or(row.stored_spend());
        let k = Arc::new(Live {
            spend: Mutex::new(spend),
            row,
        });
        map.insert(k.row.id().to_string(), k.clone());
        k
    }

    pub fn remove(&self, id: &str) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// How long a key hash the database did not know is refused without asking again: a flood
/// of bad keys costs no database round trips, and a key made on another instance works
/// within this delay.
const UNKNOWN_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Bound on remembered unknown hashes (cleared when full).
const UNKNOWN_MAX: usize = 100_000;

/// The caches of the request path.
#[derive(Default)]
pub struct KeyCache {
    pub keys: Cache<KeyRow>,
    unknown: Mutex<HashMap<String, std::time::Instant>>,
    pub users: Cache<UserRow>,
    pub teams: Cache<TeamRow>,
    pub customers: Cache<CustomerRow>,
    pub budgets: Cache<BudgetRow>,
    pub orgs: Cache<OrgRow>,
    pub tags: Cache<TagRow>,
}

impl KeyCache {
    /// The key with this hash.
    pub async fn get(
        &self,
        store: &Store,
        hash: &str,
    ) -> Result<Option<Arc<CachedKey>>, StoreError> {
        {
            let unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
            if unknown.get(hash).is_some_and(|t| t.elapsed() < UNKNOWN_TTL) {
                return Ok(None);
            }
        }
        let found = self.keys.get_or_load(hash, || store.get_key(hash)).await?;
        if found.is_none() {
            let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
            if unknown.len() >= UNKNOWN_MAX {
                unknown.clear();
            }
            unknown.insert(hash.to_string(), std::time::Instant::now());
        }
        Ok(found)
    }

    pub fn put(&self, row: KeyRow) -> Arc<CachedKey> {
        self.unknown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&row.token);
        self.keys.put(row)
    }

    pub fn remove(&self, hash: &str) {
        self.keys.remove(hash)
    }

    pub async fn user(
        &self,
        store: &Store,
        id: &str,
    ) -> Result<Option<Arc<Live<UserRow>>>, StoreError> {
        self.users.get_or_load(id, || USERS.get(store, id)).await
    }

    pub async fn customer(
        &self,
        store: &Store,
        id: &str,
    ) -> Result<Option<Arc<Live<CustomerRow>>>, StoreError> {
        self.customers
            .get_or_load(id, || CUSTOMERS.get(store, id))
            .await
    }

    pub async fn org(
        &self,
        store: &Store,
        id: &str,
    ) -> Result<Option<Arc<Live<OrgRow>>>, StoreError> {
        self.orgs
            .get_or_load(id, || ORGANIZATIONS.get(store, id))
            .await
    }

    pub async fn tag(
        &self,
        store: &Store,
        id: &str,
    ) -> Result<Option<Arc<Live<TagRow>>>, StoreError> {
        self.tags.get_or_load(id, || TAGS.get(store, id)).await
    }

    pub async fn budget(
        &self,
        store: &Store,
        id: &str,
    ) -> Result<Option<Arc<Live<BudgetRow>>>, StoreError> {
        self.budgets
            .get_or_load(id, || BUDGETS.get(store, id))
            .await
    }

    pub async fn team(
        &self,
        store: &Store,
        id: &str,
    ) -> Result<Option<Arc<Live<TeamRow>>>, StoreError> {
        self.teams.get_or_load(id, || TEAMS.get(store, id)).await
    }
}
