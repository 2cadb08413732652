//! What the router knows of each deployment's recent life: requests in flight, this minute's
//! usage and failures, cooldown, health and latency. Kept by deployment id in a [`Registry`]
//! that outlives a rebuilt model list, so a reload forgets nothing.
//!
//! Minute windows are aligned to the epoch, so every instance of a fleet counts the same
//! minute; a fleet's shared counts are folded in by whoever syncs them (the gateway, through
//! Redis) with [`Stats::set_fleet`].

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub const MINUTE_MS: i64 = 60_000;

/// Epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Default, Debug, Clone, Copy)]
struct Window {
    start: i64,
    requests: u64,
    tokens: u64,
    /// Other instances' counts in this window, at the last fleet sync.
    fleet_requests: u64,
    fleet_tokens: u64,
    /// This instance's counts not yet given to the fleet.
    pending_requests: u64,
    pending_tokens: u64,
    fails: u32,
    successes: u32,
}

impl Window {
    fn at(&mut self, now: i64) -> &mut Window {
        let start = now - now.rem_euclid(MINUTE_MS);
        if self.start != start {
            *self = Window {
                start,
                ..Window::default()
            };
        }
        self
    }
}

#[derive(Default, Debug)]
pub struct Stats {
    in_flight: AtomicI64,
    /// Epoch ms until which the deployment is skipped (0: not cooling down).
    cooldown_until: AtomicI64,
    /// Cooled down here since the last fleet sync (to be shared).
    cooled_here: AtomicBool,
    /// Failed its last background health check.
    unhealthy: AtomicBool,
    window: Mutex<Window>,
    /// (epoch ms, seconds) of recent calls, newest last.
    latency: Mutex<VecDeque<(i64, f64)>>,
    /// The samples' mean (f64 bits) and the oldest one's time (0: none), kept by
    /// `record_latency` so that a pick reads two atomics, not a lock and a walk.
    latency_mean: AtomicU64,
    latency_oldest: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Stats {
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub(crate) fn start(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn end(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Requests and tokens this minute, the fleet's included.
    pub fn usage(&self, now: i64) -> (u64, u64) {
        let mut w = lock(&self.window);
        let w = w.at(now);
        (w.requests + w.fleet_requests, w.tokens + w.fleet_tokens)
    }

    /// Counts a request sent (at pick time, so concurrent picks see it).
    pub(crate) fn count_request(&self, now: i64) {
        let mut w = lock(&self.window);
        let w = w.at(now);
        w.requests += 1;
        w.pending_requests += 1;
    }

    /// Counts the tokens a finished call used.
    pub fn count_tokens(&self, now: i64, tokens: u64) {
        let mut w = lock(&self.window);
        let w = w.at(now);
        w.tokens += tokens;
        w.pending_tokens += tokens;
    }

    /// Counts a failure this minute; returns (failures, successes) so far.
    pub(crate) fn count_failure(&self, now: i64) -> (u32, u32) {
        let mut w = lock(&self.window);
        let w = w.at(now);
        w.fails += 1;
        (w.fails, w.successes)
    }

    pub(crate) fn count_success(&self, now: i64) {
        let mut w = lock(&self.window);
        w.at(now).successes += 1;
    }

    /// This instance's counts since the last call (window start, requests, tokens), for a
    /// fleet sync to add to the shared counters.
    pub fn take_pending(&self, now: i64) -> (i64, u64, u64) {
        let mut w = lock(&self.window);
        let w = w.at(now);
        let out = (w.start, w.pending_requests, w.pending_tokens);
        w.pending_requests = 0;
        w.pending_tokens = 0;
        out
    }

    /// The fleet's totals for the window starting at `start` (this instance's synced counts
    /// included): what other instances sent is the difference.
    pub fn set_fleet(&self, now: i64, start: i64, requests: u64, tokens: u64) {
        let mut w = lock(&self.window);
        let w = w.at(now);
        if w.start != start {
            return;
        }
        let mine_synced_r = w.requests - w.pending_requests;
        let mine_synced_t = w.tokens - w.pending_tokens;
        w.fleet_requests = requests.saturating_sub(mine_synced_r);
        w.fleet_tokens = tokens.saturating_sub(mine_synced_t);
    }

    pub fn cooldown_until(&self) -> i64 {
        self.cooldown_until.load(Ordering::Relaxed)
    }

    pub fn is_cooling(&self, now: i64) -> bool {
        self.cooldown_until() > now
    }

    /// Cools the deployment down until `until` (a later deadline is kept); `here`: decided
    /// by this instance, to be shared with the fleet.
    pub fn cool_until(&self, until: i64, here: bool) {
        let prev = self.cooldown_until.fetch_max(until, Ordering::Relaxed);
        if here && until > prev {
            self.cooled_here.store(true, Ordering::Relaxed);
        }
    }

    /// Whether this instance cooled the deployment down since the last call.
    pub fn take_cooled_here(&self) -> bool {
        self.cooled_here.swap(false, Ordering::Relaxed)
    }

    /// Ends a cooldown (a successful health check, an admin's change).
    pub fn clear_cooldown(&self) {
        self.cooldown_until.store(0, Ordering::Relaxed);
    }

    pub fn is_unhealthy(&self) -> bool {
        self.unhealthy.load(Ordering::Relaxed)
    }

    pub fn set_unhealthy(&self, unhealthy: bool) {
        self.unhealthy.store(unhealthy, Ordering::Relaxed);
    }

    pub fn record_latency(&self, now: i64, secs: f64, max_samples: usize) {
        let mut l = lock(&self.latency);
        l.push_back((now, secs));
        while l.len() > max_samples.max(1) {
            l.pop_front();
        }
        let mean = l.iter().map(|(_, v)| v).sum::<f64>() / l.len() as f64;
        self.latency_mean.store(mean.to_bits(), Ordering::Relaxed);
        self.latency_oldest
            .store(l.front().map_or(0, |(t, _)| *t), Ordering::Relaxed);
    }

    /// Mean of the latencies younger than `ttl_ms`; None without any.
    pub fn mean_latency(&self, now: i64, ttl_ms: i64) -> Option<f64> {
        let oldest = self.latency_oldest.load(Ordering::Relaxed);
        if oldest == 0 {
            return None;
        }
        // Every sample is young enough: the mean kept at the last sample is the answer.
        if now - oldest < ttl_ms {
            return Some(f64::from_bits(self.latency_mean.load(Ordering::Relaxed)));
        }
        let l = lock(&self.latency);
        let (n, sum) = l
            .iter()
            .filter(|(at, _)| now - at < ttl_ms)
            .fold((0u32, 0.0), |(n, s), (_, v)| (n + 1, s + v));
        (n > 0).then(|| sum / f64::from(n))
    }
}

/// Stats by deployment id, shared by every model list built from it.
#[derive(Default)]
pub struct Registry {
    by_id: Mutex<HashMap<String, Arc<Stats>>>,
}

impl Registry {
    pub fn get(&self, id: &str) -> Arc<Stats> {
        lock(&self.by_id).entry(id.to_string()).or_default().clone()
    }

    /// Every deployment's stats (for a fleet sync or a report).
    pub fn all(&self) -> Vec<(String, Arc<Stats>)> {
        lock(&self.by_id)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Forgets deployments that are no longer served.
    pub fn retain(&self, ids: &std::collections::HashSet<&str>) {
        lock(&self.by_id).retain(|k, _| ids.contains(k.as_str()));
    }
}
