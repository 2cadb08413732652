//! A fleet that agrees: several instances on one database and Redis.
//!
//! - **Invalidation**: a row changed through one instance (key blocked, team updated, budget
//!   reset...) is published on the Redis channel [`CHANNEL`] (without Redis, on PostgreSQL's
//!   NOTIFY channel [`PG_CHANNEL`]); every other instance evicts it and re-reads it on its next
//!   use — within milliseconds, well inside the 1 s bound a test measures. A reconnect of the
//!   channel clears every cache (messages may have been missed), and rows are re-read after the
//!   cache TTL (LiteLLM's 60 s) in any case.
//! - **Spend**: the live spend of every cached row with a budget is shared through one Redis
//!   counter per row (`llmgate:spend:<kind>:<id>`), synced every [`SYNC_INTERVAL`] off the
//!   request path: one pipeline adds this instance's increments and reads the fleet's totals.
//!   N instances can overspend a budget by at most what they admit between two syncs plus
//!   what is in flight when it is crossed (the README states the measured bound). Without
//!   Redis, each instance counts its own calls on top of the stored spend.
//!
//! Nothing here is awaited by a request: admin routes only queue a message.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;

use super::limits::connect;
use super::{Cache, KeyCache, Row};

pub const CHANNEL: &str = "llmgate:invalidate";
/// PostgreSQL channel names are identifiers.
pub const PG_CHANNEL: &str = "llmgate_invalidate";
pub const SYNC_INTERVAL: Duration = Duration::from_millis(100);
/// A counter nobody touched for this long is dropped; the next sync starts it again from the
/// database's spend, which has long caught up by then.
const COUNTER_TTL_MS: i64 = 600_000;
/// An instance's published holds count this long after its last sync (then it is taken for
/// gone: a crash never leaves a budget held).
const HELD_TTL_MS: i64 = 2_000;
/// Bound on messages waiting to be published (admin changes, not requests).
const QUEUE: usize = 10_000;

/// What this instance tells the others.
pub struct Bus {
    instance: String,
    tx: Mutex<Option<mpsc::Sender<String>>>,
    /// Counters to set outright at the next sync (budget periods reset).
    resets: Mutex<Vec<(String, f64)>>,
    /// Redis answered the last sync.
    up: AtomicBool,
    redis: AtomicBool,
    /// Another instance changed the database's models (`/model/*`): re-read them now.
    pub models_changed: tokio::sync::Notify,
    /// Another instance changed the stored MCP servers (`/v1/mcp/server`): re-read them now.
    pub mcp_changed: tokio::sync::Notify,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            instance: uuid::Uuid::new_v4().simple().to_string(),
            tx: Mutex::new(None),
            resets: Mutex::new(Vec::new()),
            up: AtomicBool::new(false),
            redis: AtomicBool::new(false),
            models_changed: tokio::sync::Notify::new(),
            mcp_changed: tokio::sync::Notify::new(),
        }
    }
}

impl Bus {
    /// Tells the other instances that `kind`/`id` changed (no-op without Redis).
    pub fn publish(&self, kind: &str, id: &str) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = tx.as_ref() {
            if tx
                .try_send(format!("{}|{kind}|{id}", self.instance))
                .is_err()
            {
                tracing::warn!(kind, id, "fleet invalidation queue full: other instances see this change after the cache TTL");
            }
        }
    }

    /// Sets the fleet's spend counter of `kind`/`id` at the next sync.
    pub fn set_spend(&self, kind: &str, id: &str, spend: f64) {
        if self.redis.load(Ordering::Relaxed) {
            self.resets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((counter(kind, id), spend));
        }
    }

    /// Whether Redis answered the last sync (`None`: not configured).
    pub fn redis_up(&self) -> Option<bool> {
        let configured = self.redis.load(Ordering::Relaxed);
        configured.then(|| self.up.load(Ordering::Relaxed))
    }

    /// Whether a message from another instance: (kind, id).
    fn foreign<'a>(&self, payload: &'a str) -> Option<(&'a str, &'a str)> {
        let mut parts = payload.splitn(3, '|');
        let (from, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
        (from != self.instance).then_some((kind, id))
    }
}

fn counter(kind: &str, id: &str) -> String {
    format!("llmgate:spend:{kind}:{id}")
}

/// Invalidations through PostgreSQL LISTEN/NOTIFY, for a fleet without Redis (budgets are then
/// counted per instance).
pub fn spawn_postgres(keys: Arc<KeyCache>, store: llmgate_store::Store) {
    if store.kind() != "postgres" {
        return;
    }
    let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
    *keys.fleet.tx.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    let s = store.clone();
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            if let Err(e) = s.notify(PG_CHANNEL, &msg).await {
                tracing::warn!(error = %e, "fleet invalidation not sent: other instances see this change after the cache TTL");
            }
        }
    });
    tokio::spawn(async move {
        let mut logged = false;
        loop {
            match store.listen(PG_CHANNEL).await {
                Ok(Some(mut l)) => {
                    keys.clear();
                    tracing::info!("cache invalidations shared through PostgreSQL NOTIFY");
                    logged = false;
                    loop {
                        match l.recv().await {
                            Ok(Some(payload)) => {
                                if let Some((kind, id)) = keys.fleet.foreign(&payload) {
                                    keys.evict(kind, id);
                                }
                            }
                            // Reconnected: what was sent meanwhile is lost.
                            Ok(None) => keys.clear(),
                            Err(_) => break,
                        }
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    if !logged {
                        tracing::warn!(error = %e, "cannot LISTEN for invalidations: cached rows are re-read after the cache TTL");
                        logged = true;
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// Starts the publisher, the subscriber and the spend sync on `url`.
pub fn spawn(keys: Arc<KeyCache>, url: String) {
    let client = match redis::Client::open(url.as_str()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "bad Redis URL: caches and budgets are per instance");
            return;
        }
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    *keys.fleet.tx.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    keys.fleet.redis.store(true, Ordering::Relaxed);
    tokio::spawn(publish(client.clone(), rx));
    tokio::spawn(subscribe(client.clone(), keys.clone()));
    tokio::spawn(sync_spend(client, keys));
}

async fn publish(client: redis::Client, mut rx: mpsc::Receiver<String>) {
    let mut conn = None;
    while let Some(msg) = rx.recv().await {
        if conn.is_none() {
            conn = connect(&client).await;
        }
        let Some(c) = conn.as_mut() else {
            tracing::warn!(
                "Redis unreachable: other instances see this change after the cache TTL"
            );
            continue;
        };
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(CHANNEL).arg(&msg);
        let sent: redis::RedisResult<i64> =
            crate::observe::services::redis("async_publish", publish.query_async(c)).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "fleet invalidation not published: other instances see this change after the cache TTL");
        }
    }
}

async fn subscribe(client: redis::Client, keys: Arc<KeyCache>) {
    let mut logged = false;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut ps) => match ps.subscribe(CHANNEL).await {
                Ok(()) => {
                    // Changes made while we were not listening are unknown: start afresh.
                    keys.clear();
                    tracing::info!("cache invalidations shared through Redis");
                    logged = false;
                    let mut messages = ps.into_on_message();
                    while let Some(m) = messages.next().await {
                        let Ok(payload) = m.get_payload::<String>() else {
                            continue;
                        };
                        if let Some((kind, id)) = keys.fleet.foreign(&payload) {
                            keys.evict(kind, id);
                        }
                    }
                }
                Err(e) => log_down(&mut logged, &e),
            },
            Err(e) => log_down(&mut logged, &e),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn log_down(logged: &mut bool, e: &redis::RedisError) {
    if !*logged {
        tracing::warn!(error = %e, "Redis unreachable: cached keys and budgets are re-read after the cache TTL until it is back");
        *logged = true;
    }
}

/// One row's part of a sync: the fleet's settled total and every instance's holds.
type Synced = Box<dyn Fn(Option<(f64, HashMap<String, String>)>) + Send>;

async fn sync_spend(client: redis::Client, keys: Arc<KeyCache>) {
    let mut conn = None;
    let mut tick = tokio::time::interval(SYNC_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if conn.is_none() {
            conn = connect(&client).await;
            if conn.is_none() {
                keys.fleet.up.store(false, Ordering::Relaxed);
                continue;
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let resets =
            std::mem::take(&mut *keys.fleet.resets.lock().unwrap_or_else(|e| e.into_inner()));
        let mut pipe = redis::pipe();
        for (k, v) in &resets {
            pipe.cmd("SET")
                .arg(k)
                .arg(*v)
                .arg("PX")
                .arg(COUNTER_TTL_MS)
                .ignore();
        }
        let mut rows: Vec<Synced> = Vec::new();
        let me = keys.fleet.instance.as_str();
        add_rows(&keys.keys, &mut pipe, &mut rows, me);
        add_rows(&keys.users, &mut pipe, &mut rows, me);
        add_rows(&keys.teams, &mut pipe, &mut rows, me);
        add_rows(&keys.customers, &mut pipe, &mut rows, me);
        add_rows(&keys.orgs, &mut pipe, &mut rows, me);
        add_rows(&keys.tags, &mut pipe, &mut rows, me);
        if resets.is_empty() && rows.is_empty() {
            continue;
        }
        let synced = pipe.query_async::<Vec<redis::Value>>(c);
        match crate::observe::services::redis("async_increment", synced).await {
            Ok(values) => {
                keys.fleet.up.store(true, Ordering::Relaxed);
                // Two answers per row: the INCRBYFLOAT total and the HGETALL of holds.
                let mut it = values.into_iter();
                for row in &rows {
                    let total = it
                        .next()
                        .and_then(|v| redis::from_redis_value::<String>(v).ok())
                        .and_then(|s| s.parse::<f64>().ok());
                    let held = it
                        .next()
                        .and_then(|v| redis::from_redis_value::<HashMap<String, String>>(v).ok())
                        .unwrap_or_default();
                    row(total.map(|t| (t, held)));
                }
            }
            Err(e) => {
                if keys.fleet.up.swap(false, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis spend sync failed: budgets count this instance's calls until it is back");
                }
                for row in &rows {
                    row(None);
                }
                keys.fleet
                    .resets
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(resets);
            }
        }
    }
}

/// For each budgeted row: start the settled counter from our view if Redis has none, add our
/// increment, read the total back; publish what calls in flight here hold (a hash field per
/// instance, `amount:timestamp`, so a crashed instance's holds lapse) and read the others'.
fn add_rows<T: Row + Send + Sync + 'static>(
    cache: &Cache<T>,
    pipe: &mut redis::Pipeline,
    rows: &mut Vec<Synced>,
    instance: &str,
) {
    let now = llmgate_store::now_ms();
    for live in cache.budgeted() {
        let key = counter(cache.kind, live.row.id());
        let held = format!("llmgate:held:{}:{}", cache.kind, live.row.id());
        let (base, delta, reserved) = live.take_pending();
        pipe.cmd("SET")
            .arg(&key)
            .arg(base)
            .arg("NX")
            .arg("PX")
            .arg(COUNTER_TTL_MS)
            .ignore();
        pipe.cmd("INCRBYFLOAT").arg(&key).arg(delta);
        pipe.cmd("PEXPIRE").arg(&key).arg(COUNTER_TTL_MS).ignore();
        pipe.cmd("HSET")
            .arg(&held)
            .arg(instance)
            .arg(format!("{reserved}:{now}"))
            .ignore();
        pipe.cmd("PEXPIRE").arg(&held).arg(HELD_TTL_MS).ignore();
        pipe.cmd("HGETALL").arg(&held);
        let me = instance.to_string();
        rows.push(Box::new(move |values| match values {
            Some((total, fields)) => {
                let elsewhere = fields
                    .iter()
                    .filter(|(inst, _)| **inst != me)
                    .filter_map(|(_, v)| {
                        let (amount, ts) = v.split_once(':')?;
                        (now - ts.parse::<i64>().ok()? < HELD_TTL_MS)
                            .then(|| amount.parse::<f64>().ok())?
                    })
                    .sum();
                live.apply_total(total, elsewhere)
            }
            None => live.restore(),
        }));
    }
}
