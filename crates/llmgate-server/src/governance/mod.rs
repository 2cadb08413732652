//! Governance: the request path's ledger. Caches of key, user and team rows (a row seen once
//! costs no database round trip again) with their live spend, shared across the fleet
//! ([`fleet`]); admission ([`admit`]: access, budgets, limits) and settlement ([`settle`]) of
//! every call; rate limits; the spend writer that batches spend logs to the database off the
//! request path; budget periods and alerts. It knows nothing of HTTP routes: the gateway's
//! state holds one [`Governance`] and hands it down.

pub mod access;
pub mod admit;
pub mod alerts;
pub mod budgets;
pub mod caller;
pub mod fleet;
pub mod headers;
pub mod limits;
pub mod prompts;
pub mod settle;
pub mod spend;

// foldhash, not SipHash: these maps are read on every request and keyed by config or hashes.
use hashbrown::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use llmgate_store::codec::Table;
use llmgate_store::entities::{
    BudgetRow, CustomerRow, OrgRow, TagRow, TeamRow, UserRow, BUDGETS, CUSTOMERS, ORGANIZATIONS,
    TAGS, TEAMS, USERS,
};
use llmgate_store::keys::KeyRow;
use llmgate_store::{Store, StoreError};

/// A row (key, user, team) as the request path sees it, with its live spend: the fleet's as
/// last read from Redis (else the database's at load time) plus every call here since, so
/// budget checks never wait for a batch or a round trip.
#[derive(Debug)]
pub struct Live<T> {
    pub row: T,
    spend: Mutex<Spend>,
    loaded: Instant,
}

#[derive(Debug, Default, Clone, Copy)]
struct Spend {
    /// The fleet's total at the last sync (else the stored spend).
    base: f64,
    /// Sent to Redis, total not back yet.
    inflight: f64,
    /// Added here since the last sync.
    pending: f64,
    /// What calls admitted here and not yet settled hold (their estimates).
    reserved: f64,
    /// What calls in flight on other instances hold, as of the last sync.
    held_elsewhere: f64,
}

pub type CachedKey = Live<KeyRow>;

impl Spend {
    /// Settled (synced, in flight to Redis, and local) plus held by calls in flight.
    fn total(&self) -> f64 {
        self.settled() + self.reserved + self.held_elsewhere
    }

    fn settled(&self) -> f64 {
        self.base + self.inflight + self.pending
    }
}

impl<T> Live<T> {
    fn new(row: T, base: f64) -> Live<T> {
        Live {
            row,
            spend: Mutex::new(Spend {
                base,
                ..Spend::default()
            }),
            loaded: Instant::now(),
        }
    }

    /// A row the caches do not hold (a dashboard user's session acts as a key of theirs that
    /// exists only for the request).
    pub fn detached(row: T) -> Arc<Live<T>> {
        Arc::new(Live::new(row, 0.0))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Spend> {
        self.spend.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Settled spend plus what calls in flight (here and, with Redis, elsewhere) hold.
    pub fn spend(&self) -> f64 {
        self.state().total()
    }

    /// What was spent, without what calls in flight hold (budget alerts).
    pub fn settled_spend(&self) -> f64 {
        self.state().settled()
    }

    /// Adds `cost`; returns the spend before it.
    pub fn add_spend(&self, cost: f64) -> f64 {
        let mut s = self.state();
        let before = s.total();
        s.pending += cost;
        before
    }

    /// Holds (or, negative, releases) an admitted call's estimate: counted in [`Live::spend`]
    /// and known to be provisional.
    pub fn reserve(&self, amount: f64) {
        let mut s = self.state();
        s.reserved = (s.reserved + amount).max(0.0);
    }

    /// What calls in flight hold of the spend (here, and elsewhere as of the last sync).
    pub fn reserved(&self) -> f64 {
        let s = self.state();
        s.reserved + s.held_elsewhere
    }

    /// For a sync: the settled spend Redis should start from if it has none, the increment to
    /// add, and what this instance holds now.
    fn take_pending(&self) -> (f64, f64, f64) {
        let mut s = self.state();
        s.inflight += s.pending;
        s.pending = 0.0;
        (s.base, s.inflight, s.reserved)
    }

    /// Redis's settled total after our increment, and what the other instances hold.
    fn apply_total(&self, total: f64, held_elsewhere: f64) {
        let mut s = self.state();
        s.base = total;
        s.inflight = 0.0;
        s.held_elsewhere = held_elsewhere;
    }

    /// Redis did not take the increment: it goes again at the next sync, and only this
    /// instance's holds are known.
    fn restore(&self) {
        let mut s = self.state();
        s.pending += s.inflight;
        s.inflight = 0.0;
        s.held_elsewhere = 0.0;
    }
}

/// What the request path's ledger is made of, built once at start.
pub struct Governance {
    /// The database of keys and spend; None runs without virtual keys (as LiteLLM without one).
    pub store: Option<Store>,
    pub keys: Arc<KeyCache>,
    /// rpm/tpm/parallel counters (shared through Redis when configured).
    pub limiter: Arc<limits::Limiter>,
    pub spend: Option<spend::SpendWriter>,
    pub alerts: alerts::Alerts,
    /// LiteLLM's `general_settings.disable_error_logs`: failed calls are not logged.
    pub disable_error_logs: bool,
    /// LiteLLM's `general_settings.store_prompts_in_spend_logs` (or its variable): the request
    /// and the answer go to the spend log ([`prompts`]).
    pub store_prompts: bool,
    /// The callbacks that see every call (metrics, logging); None when none is configured.
    pub observe: Option<Arc<crate::observe::Observers>>,
}

/// What a cached row is known by and what it had spent when read.
pub trait Row {
    fn id(&self) -> &str;
    fn stored_spend(&self) -> f64;
    /// Whether a budget can refuse calls on this row's spend (then it is shared fleet-wide).
    fn has_budget(&self) -> bool;
}

impl Row for KeyRow {
    fn id(&self) -> &str {
        &self.token
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
    fn has_budget(&self) -> bool {
        self.max_budget.is_some()
    }
}

impl Row for UserRow {
    fn id(&self) -> &str {
        &self.user_id
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
    fn has_budget(&self) -> bool {
        self.max_budget.is_some()
    }
}

impl Row for CustomerRow {
    fn id(&self) -> &str {
        &self.user_id
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
    fn has_budget(&self) -> bool {
        self.budget_id.is_some()
    }
}

impl Row for OrgRow {
    fn id(&self) -> &str {
        &self.organization_id
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
    fn has_budget(&self) -> bool {
        !self.budget_id.is_empty()
    }
}

impl Row for TagRow {
    fn id(&self) -> &str {
        &self.tag_name
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
    fn has_budget(&self) -> bool {
        self.budget_id.is_some()
    }
}

impl Row for BudgetRow {
    fn id(&self) -> &str {
        &self.budget_id
    }
    fn stored_spend(&self) -> f64 {
        0.0
    }
    fn has_budget(&self) -> bool {
        false
    }
}

impl Row for TeamRow {
    fn id(&self) -> &str {
        &self.team_id
    }
    fn stored_spend(&self) -> f64 {
        self.spend
    }
    fn has_budget(&self) -> bool {
        self.max_budget.is_some()
    }
}

/// How long an id the database did not know is answered "unknown" without asking again; a row
/// made on another instance is seen within this delay even without invalidations.
const MISS_TTL: Duration = Duration::from_secs(5);
/// Bound on remembered misses per cache (cleared when full).
const MISSES_MAX: usize = 100_000;

/// Rows by id. A row is re-read after the cache TTL; a change made through any instance evicts
/// it everywhere (see [`fleet`]); a load that raced with an eviction is served but not cached,
/// so a request in flight during an update never puts the old row back.
pub struct Cache<T> {
    /// The row kind in fleet messages and Redis keys (`key`, `user`, ...).
    kind: &'static str,
    /// Where [`Cache::get`] loads rows from (keys have their own query).
    table: Option<&'static Table>,
    map: RwLock<HashMap<String, Arc<Live<T>>>>,
    /// Ids the database did not know, and when: asked again only after [`MISS_TTL`], so a
    /// flood of bad keys or of unknown tags costs no database round trips.
    misses: Mutex<HashMap<String, Instant>>,
    /// False for rows made without an admin call (end users appear with their first spend),
    /// which no invalidation would clear from the misses.
    remember_misses: bool,
    /// Bumped by every eviction.
    generation: AtomicU64,
    ttl: Duration,
    fleet: Arc<fleet::Bus>,
}

impl<T: Row> Cache<T> {
    /// The read as LiteLLM's auth names it in its service metrics (`get_key_object`...).
    fn function(&self) -> &'static str {
        match self.kind {
            "key" => "get_key_object",
            "user" => "get_user_object",
            "team" => "get_team_object",
            "customer" => "get_end_user_object",
            "org" => "get_org_object",
            "budget" => "get_budget_object",
            _ => "get_tag_object",
        }
    }

    fn new(
        kind: &'static str,
        table: Option<&'static Table>,
        ttl: Duration,
        fleet: Arc<fleet::Bus>,
    ) -> Cache<T> {
        Cache {
            kind,
            table,
            map: RwLock::new(HashMap::new()),
            misses: Mutex::default(),
            remember_misses: kind != "customer",
            generation: AtomicU64::new(0),
            ttl,
            fleet,
        }
    }

    fn misses(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.misses.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The row if it is cached (no database read: for what observers report).
    pub fn peek(&self, id: &str) -> Option<Arc<Live<T>>> {
        self.read().get(id).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Live<T>>>> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Live<T>>>> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The row with this id: from memory while fresh, else from `load` (then cached).
    pub async fn get_or_load<F, Fut>(
        &self,
        id: &str,
        load: F,
    ) -> Result<Option<Arc<Live<T>>>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, StoreError>>,
    {
        if let Some(k) = self.read().get(id) {
            if k.loaded.elapsed() < self.ttl {
                return Ok(Some(k.clone()));
            }
        }
        if self.remember_misses
            && self
                .misses()
                .get(id)
                .is_some_and(|t| t.elapsed() < MISS_TTL)
        {
            return Ok(None);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let Some(row) = crate::observe::services::db(self.function(), load()).await? else {
            self.write().remove(id);
            if self.remember_misses && self.generation.load(Ordering::SeqCst) == generation {
                let mut misses = self.misses();
                if misses.len() >= MISSES_MAX {
                    misses.clear();
                }
                misses.insert(id.to_string(), Instant::now());
            }
            return Ok(None);
        };
        let mut map = self.write();
        // Another request loaded it meanwhile: share its entry (reservations are made on an
        // entry, so two entries for one row would let one's holds outlive their release).
        if let Some(k) = map.get(id).filter(|k| k.loaded.elapsed() < self.ttl) {
            return Ok(Some(k.clone()));
        }
        if self.generation.load(Ordering::SeqCst) != generation {
            // Evicted while we read: this row may be the old one; serve it once, cache nothing.
            let stored = row.stored_spend();
            return Ok(Some(Arc::new(Live::new(row, stored))));
        }
        Ok(Some(Self::insert(&mut map, row)))
    }

    /// The row with this id, from memory or its table.
    pub async fn get(&self, store: &Store, id: &str) -> Result<Option<Arc<Live<T>>>, StoreError>
    where
        T: serde::de::DeserializeOwned,
    {
        let Some(table) = self.table else {
            return Ok(None);
        };
        self.get_or_load(id, || table.get(store, id)).await
    }

    /// Caches a fresh row. A row already cached keeps its live spend (the stored one may lag
    /// behind unflushed calls) unless the stored spend went down (a budget period reset).
    fn insert(map: &mut HashMap<String, Arc<Live<T>>>, row: T) -> Arc<Live<T>> {
        let stored = row.stored_spend();
        let live = match map.get(row.id()) {
            Some(old) if stored >= old.row.stored_spend() => {
                let mut s = old.state();
                // The stored spend may already hold some of ours (flushed): the larger of the
                // two views, never their sum; the unsynced part still goes to Redis.
                let live = s.settled();
                let carried = Spend {
                    base: stored.max(live) - s.pending,
                    inflight: 0.0,
                    pending: s.pending,
                    // Calls in flight release their holds on the entry they reserved on.
                    reserved: 0.0,
                    held_elsewhere: s.held_elsewhere,
                };
                s.pending = 0.0;
                drop(s);
                Live {
                    row,
                    spend: Mutex::new(carried),
                    loaded: Instant::now(),
                }
            }
            _ => Live::new(row, stored),
        };
        let k = Arc::new(live);
        map.insert(k.row.id().to_string(), k.clone());
        k
    }

    /// Caches a row just written to the database, and evicts it on every other instance.
    pub fn put(&self, row: T) -> Arc<Live<T>> {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.misses().remove(row.id());
        self.fleet.publish(self.kind, row.id());
        Self::insert(&mut self.write(), row)
    }

    /// Forgets a row here and on every other instance.
    pub fn remove(&self, id: &str) {
        self.evict(id);
        self.fleet.publish(self.kind, id);
    }

    /// Forgets a row whose spend the database set to `spend` (a budget period began), here,
    /// on every other instance, and in the fleet's shared counter.
    pub fn reset(&self, id: &str, spend: f64) {
        self.remove(id);
        self.fleet.set_spend(self.kind, id, spend);
    }

    /// Forgets a row here only (another instance changed it).
    fn evict(&self, id: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.misses().remove(id);
        self.write().remove(id);
    }

    fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.misses().clear();
        self.write().clear();
    }

    /// Rows with a budget, for the fleet's spend sync.
    fn budgeted(&self) -> Vec<Arc<Live<T>>> {
        self.read()
            .values()
            .filter(|l| l.row.has_budget())
            .cloned()
            .collect()
    }
}

/// The caches of the request path.
pub struct KeyCache {
    pub keys: Cache<KeyRow>,
    pub users: Cache<UserRow>,
    pub teams: Cache<TeamRow>,
    pub customers: Cache<CustomerRow>,
    pub budgets: Cache<BudgetRow>,
    pub orgs: Cache<OrgRow>,
    pub tags: Cache<TagRow>,
    pub fleet: Arc<fleet::Bus>,
}

/// LiteLLM's default `user_api_key_cache_ttl`: how long a row is served without re-reading it
/// when no invalidation reaches this instance (no Redis).
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache::new(DEFAULT_TTL)
    }
}

impl KeyCache {
    pub fn new(ttl: Duration) -> KeyCache {
        let fleet = Arc::new(fleet::Bus::default());
        KeyCache {
            keys: Cache::new("key", None, ttl, fleet.clone()),
            users: Cache::new("user", Some(&USERS), ttl, fleet.clone()),
            teams: Cache::new("team", Some(&TEAMS), ttl, fleet.clone()),
            customers: Cache::new("customer", Some(&CUSTOMERS), ttl, fleet.clone()),
            budgets: Cache::new("budget", Some(&BUDGETS), ttl, fleet.clone()),
            orgs: Cache::new("org", Some(&ORGANIZATIONS), ttl, fleet.clone()),
            tags: Cache::new("tag", Some(&TAGS), ttl, fleet.clone()),
            fleet,
        }
    }

    /// Another instance changed the row `kind`/`id`.
    fn evict(&self, kind: &str, id: &str) {
        match kind {
            "key" => self.keys.evict(id),
            "user" => self.users.evict(id),
            "team" => self.teams.evict(id),
            "customer" => self.customers.evict(id),
            "budget" => self.budgets.evict(id),
            "org" => self.orgs.evict(id),
            "tag" => self.tags.evict(id),
            "models" => self.fleet.models_changed.notify_one(),
            "mcp" => self.fleet.mcp_changed.notify_one(),
            _ => {}
        }
    }

    /// Invalidations may have been missed (the channel was down): forget everything, and
    /// re-read the database's models and MCP servers.
    fn clear(&self) {
        self.fleet.models_changed.notify_one();
        self.fleet.mcp_changed.notify_one();
        self.keys.clear();
        self.users.clear();
        self.teams.clear();
        self.customers.clear();
        self.budgets.clear();
        self.orgs.clear();
        self.tags.clear();
    }

    /// The key with this hash.
    pub async fn get(
        &self,
        store: &Store,
        hash: &str,
    ) -> Result<Option<Arc<CachedKey>>, StoreError> {
        self.keys.get_or_load(hash, || store.get_key(hash)).await
    }

    pub fn put(&self, row: KeyRow) -> Arc<CachedKey> {
        self.keys.put(row)
    }

    pub fn remove(&self, hash: &str) {
        self.keys.remove(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(spend: f64) -> TeamRow {
        TeamRow {
            team_id: "t".into(),
            spend,
            max_budget: Some(10.0),
            ..TeamRow::default()
        }
    }

    fn cache(ttl: Duration) -> Cache<TeamRow> {
        Cache::new("team", None, ttl, Arc::new(fleet::Bus::default()))
    }

    #[tokio::test]
    async fn a_load_that_raced_an_eviction_is_served_but_not_cached() {
        let c = cache(DEFAULT_TTL);
        let got = c
            .get_or_load("t", || async {
                // The row is changed (and evicted) while this request reads the old one.
                c.evict("t");
                Ok(Some(team(1.0)))
            })
            .await
            .unwrap();
        assert_eq!(got.unwrap().spend(), 1.0);
        assert!(c.read().get("t").is_none());
        let fresh = c.get_or_load("t", || async { Ok(Some(team(2.0))) }).await;
        assert_eq!(fresh.unwrap().unwrap().spend(), 2.0);
        assert!(c.read().get("t").is_some());
    }

    #[tokio::test]
    async fn concurrent_first_loads_share_one_entry_and_its_holds() {
        let c = cache(DEFAULT_TTL);
        let held = Mutex::new(None);
        let outer = c
            .get_or_load("t", || async {
                // A second request loads the same row meanwhile, and reserves on it.
                let inner = c.get_or_load("t", || async { Ok(Some(team(1.0))) }).await;
                let inner = inner.unwrap().unwrap();
                inner.reserve(0.5);
                *held.lock().unwrap() = Some(inner);
                Ok(Some(team(1.0)))
            })
            .await
            .unwrap()
            .unwrap();
        let inner = held.lock().unwrap().take().unwrap();
        assert!(Arc::ptr_eq(&outer, &inner), "one entry for one row");
        // The hold is released on the entry it was made on: nothing stays held in the cache.
        inner.reserve(-0.5);
        let cached = c.read().get("t").cloned().unwrap();
        assert_eq!(cached.reserved(), 0.0);
        assert_eq!(cached.spend(), 1.0);
    }

    #[tokio::test]
    async fn rows_are_read_again_after_the_ttl_keeping_unflushed_spend() {
        let c = cache(Duration::from_millis(30));
        let t = c.get_or_load("t", || async { Ok(Some(team(1.0))) }).await;
        t.unwrap().unwrap().add_spend(0.5);
        // Fresh: served from memory.
        let same = c.get_or_load("t", || async { Ok(Some(team(9.0))) }).await;
        assert_eq!(same.unwrap().unwrap().spend(), 1.5);
        tokio::time::sleep(Duration::from_millis(40)).await;
        // Expired: re-read; the database had not caught up with this instance's spend.
        let again = c.get_or_load("t", || async { Ok(Some(team(1.2))) }).await;
        assert_eq!(again.unwrap().unwrap().spend(), 1.5);
        tokio::time::sleep(Duration::from_millis(40)).await;
        // The stored spend went down: a budget period began.
        let reset = c.get_or_load("t", || async { Ok(Some(team(0.0))) }).await;
        assert_eq!(reset.unwrap().unwrap().spend(), 0.0);
    }

    #[test]
    fn a_failed_sync_puts_the_increment_back() {
        let l = Live::new(team(1.0), 1.0);
        l.add_spend(0.25);
        l.reserve(0.5);
        assert_eq!(l.take_pending(), (1.0, 0.25, 0.5));
        assert_eq!(l.spend(), 1.75, "in flight and held still count");
        l.restore();
        assert_eq!(l.take_pending(), (1.0, 0.25, 0.5));
        // Redis's total includes the other instances' spend; they hold 0.1 more.
        l.apply_total(3.25, 0.1);
        assert_eq!(l.spend(), 3.85);
        assert!((l.reserved() - 0.6).abs() < 1e-9);
        l.reserve(-0.5);
        assert!((l.spend() - 3.35).abs() < 1e-9);
    }
}
