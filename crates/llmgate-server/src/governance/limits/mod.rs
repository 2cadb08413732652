//! Rate limits: requests and tokens per minute (`rpm_limit`, `tpm_limit`, and per model from
//! a key's `model_rpm_limit` / `model_tpm_limit`) for keys, users, teams and end users, and
//! `max_parallel_requests` per key.
//!
//! Counts live in memory, in fixed one-minute windows (as LiteLLM's limiter), so a check is a
//! map lookup. With Redis configured, a background task adds each window's local increments
//! to shared Redis counters every [`SYNC_INTERVAL`] and reads back the fleet's totals (and
//! shares in-flight counts and per-model budget spend the same way): the request path never
//! waits on Redis, several instances share one limit (overshooting it by at most what they
//! admit between two syncs), and a Redis outage only narrows the view to this instance's own
//! traffic.

// foldhash, not SipHash: these maps are read on every request and keyed by config or hashes.
use hashbrown::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::GatewayError;
use crate::governance::headers::{self as h, AnswerHeaders};

mod shared;

pub use shared::{connect, redis_url, spawn_redis_sync};

pub const WINDOW_MS: i64 = 60_000;
pub const SYNC_INTERVAL: Duration = Duration::from_millis(100);

/// One limited scope: `api_key:<hash>`, `user:<id>`, `team:<id>`, `end_user:<id>`,
/// `model_per_key:<hash>:<model>`, with its limits.
#[derive(Clone, Debug)]
pub struct Scope {
    /// What the error message names (`api_key`, `user`, ...).
    pub kind: &'static str,
    pub id: String,
    pub rpm: Option<i64>,
    pub tpm: Option<i64>,
}

impl Scope {
    fn key(&self) -> String {
        let mut k = String::with_capacity(self.kind.len() + 1 + self.id.len());
        k.push_str(self.kind);
        k.push(':');
        k.push_str(&self.id);
        k
    }
}

#[derive(Default, Debug)]
struct Counter {
    window: i64,
    /// The fleet's totals at the last sync (this instance's synced increments included).
    synced_requests: i64,
    synced_tokens: i64,
    /// This instance's increments since the last sync.
    pending_requests: i64,
    pending_tokens: i64,
}

impl Counter {
    fn roll(&mut self, window: i64) {
        if self.window != window {
            *self = Counter {
                window,
                ..Counter::default()
            };
        }
    }
    fn requests(&self) -> i64 {
        self.synced_requests + self.pending_requests
    }
    fn tokens(&self) -> i64 {
        self.synced_tokens + self.pending_tokens
    }
}

pub struct Limiter {
    counters: Mutex<HashMap<String, Counter>>,
    parallel: Mutex<HashMap<String, i64>>,
    /// Other instances' in-flight requests per key, at the last Redis sync.
    parallel_elsewhere: Mutex<HashMap<String, i64>>,
    /// Keys with a parallel limit used lately (ms), whose shared counts the sync reads.
    parallel_seen: Mutex<HashMap<String, i64>>,
    /// A key's spend per model within its `model_max_budget` period (periods aligned to the
    /// epoch, so every instance agrees on them): key × model → counter.
    model_spend: Mutex<HashMap<(String, String), SpendCounter>>,
    /// This process, in the shared parallel-request counts.
    instance: String,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            counters: Default::default(),
            parallel: Default::default(),
            parallel_elsewhere: Default::default(),
            parallel_seen: Default::default(),
            model_spend: Default::default(),
            instance: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
}

#[derive(Debug, Default)]
struct SpendCounter {
    period: i64,
    period_ms: i64,
    synced: f64,
    pending: f64,
}

/// A key's budget for one model (`model_max_budget: {"gpt-4o": {"budget_limit": 0.5,
/// "time_period": "1d"}}`).
pub struct ModelBudget {
    pub limit: f64,
    pub period_ms: i64,
}

/// Holds a key's parallel-request slot until the response (or stream) ends.
pub struct Slot {
    limiter: Arc<Limiter>,
    key: Option<String>,
    /// LiteLLM's `x-ratelimit-api_key-*` headers for the key's limits after this request.
    pub headers: AnswerHeaders,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            let mut p = self
                .limiter
                .parallel
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(n) = p.get_mut(&k) {
                *n -= 1;
                if *n <= 0 {
                    p.remove(&k);
                }
            }
        }
    }
}

/// What one sync shares: window increments, this instance's in-flight counts per key, and
/// per-model spend increments `(key:model:period, delta, period_ms)`.
struct Shared {
    windows: Vec<(String, i64, i64, i64)>,
    parallel: Vec<(String, i64)>,
    model_spend: Vec<(String, f64, i64)>,
}

fn period_of(now_ms: i64, period_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(period_ms.max(1))
}

fn window_of(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(WINDOW_MS)
}

/// `2026-01-01 12:01:00 UTC`: when the current window ends.
fn reset_at(window: i64) -> String {
    let iso = llmgate_store::time::iso(window + WINDOW_MS);
    format!("{} {} UTC", &iso[..10], &iso[11..19])
}

fn exceeded(kind: &str, id: &str, limit_type: &str, limit: i64, window: i64) -> GatewayError {
    GatewayError::RateLimited {
        message: format!(
            "Rate limit exceeded for {kind}: {id}. Limit type: {limit_type}. Current limit: {limit}, Remaining: 0. Limit resets at: {}",
            reset_at(window)
        ),
        limit_type: limit_type.to_string(),
        retry_after: (WINDOW_MS / 1000).to_string(),
        reset_at: reset_at(window),
    }
}

impl Limiter {
    /// Checks every scope and, if all are under their limits, counts the request in each and
    /// takes a parallel slot for `parallel_key` (when it has a limit).
    pub fn admit(
        self: &Arc<Self>,
        scopes: &[Scope],
        parallel: Option<(&str, i64)>,
    ) -> Result<Slot, GatewayError> {
        let window = window_of(llmgate_store::now_ms());
        let mut headers = AnswerHeaders::default();
        {
            let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            // Each scope's map key, built once for both passes.
            let keys: Vec<String> = scopes.iter().map(Scope::key).collect();
            for (s, k) in scopes.iter().zip(&keys) {
                let c = counters.entry(k.clone()).or_default();
                c.roll(window);
                if let Some(rpm) = s.rpm {
                    if c.requests() >= rpm {
                        return Err(exceeded(s.kind, &s.id, "requests", rpm, window));
                    }
                }
                if let Some(tpm) = s.tpm {
                    if c.tokens() >= tpm {
                        return Err(exceeded(s.kind, &s.id, "tokens", tpm, window));
                    }
                }
            }
            for (s, k) in scopes.iter().zip(&keys) {
                if s.rpm.is_none() && s.tpm.is_none() {
                    continue;
                }
                if let Some(c) = counters.get_mut(k) {
                    c.pending_requests += 1;
                    if s.kind == "api_key" {
                        if let Some(rpm) = s.rpm {
                            headers.int(h::LIMIT_REQUESTS, rpm);
                            headers.int(h::REMAINING_REQUESTS, (rpm - c.requests()).max(0));
                        }
                        if let Some(tpm) = s.tpm {
                            headers.int(h::LIMIT_TOKENS, tpm);
                            headers.int(h::REMAINING_TOKENS, (tpm - c.tokens()).max(0));
                        }
                    }
                }
            }
        }
        let Some((key, max)) = parallel else {
            return Ok(Slot {
                limiter: self.clone(),
                key: None,
                headers,
            });
        };
        self.parallel_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), llmgate_store::now_ms());
        let elsewhere = self
            .parallel_elsewhere
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
            .unwrap_or(0);
        let mut p = self.parallel.lock().unwrap_or_else(|e| e.into_inner());
        let n = p.entry(key.to_string()).or_default();
        if *n + elsewhere >= max {
            return Err(exceeded(
                "api_key",
                key,
                "max_parallel_requests",
                max,
                window,
            ));
        }
        *n += 1;
        Ok(Slot {
            limiter: self.clone(),
            key: Some(key.to_string()),
            headers,
        })
    }

    /// What a scope has left in this window, requests and tokens (None: no such limit).
    pub fn remaining(&self, scope: &Scope) -> (Option<i64>, Option<i64>) {
        let window = window_of(llmgate_store::now_ms());
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let (req, tok) = match counters.get(&scope.key()).filter(|c| c.window == window) {
            Some(c) => (c.requests(), c.tokens()),
            None => (0, 0),
        };
        (
            scope.rpm.map(|l| (l - req).max(0)),
            scope.tpm.map(|l| (l - tok).max(0)),
        )
    }

    /// Counts a finished call's tokens against the scopes with a token limit.
    pub fn add_tokens(&self, scopes: &[Scope], tokens: i64) {
        if tokens <= 0 {
            return;
        }
        let window = window_of(llmgate_store::now_ms());
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for s in scopes.iter().filter(|s| s.tpm.is_some()) {
            let c = counters.entry(s.key()).or_default();
            c.roll(window);
            c.pending_tokens += tokens;
        }
    }

    /// The key's spend on `model` in the current period (this instance's and, with Redis, the
    /// others' as of the last sync).
    pub fn model_spend(&self, key: &str, model: &str, b: &ModelBudget) -> f64 {
        let period = period_of(llmgate_store::now_ms(), b.period_ms);
        let map = self.model_spend.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&(key.to_string(), model.to_string())) {
            Some(c) if c.period == period => c.synced + c.pending,
            _ => 0.0,
        }
    }

    pub fn add_model_spend(&self, key: &str, model: &str, b: &ModelBudget, cost: f64) {
        let period = period_of(llmgate_store::now_ms(), b.period_ms);
        let mut map = self.model_spend.lock().unwrap_or_else(|e| e.into_inner());
        let c = map.entry((key.to_string(), model.to_string())).or_default();
        if c.period != period {
            *c = SpendCounter {
                period,
                period_ms: b.period_ms,
                ..SpendCounter::default()
            };
        }
        c.pending += cost;
    }

    /// What to share at a sync: window counters, in-flight counts, per-model spend.
    fn take_shared(&self) -> Shared {
        let now = llmgate_store::now_ms();
        let mut spend = self.model_spend.lock().unwrap_or_else(|e| e.into_inner());
        spend.retain(|_, c| c.period == period_of(now, c.period_ms));
        let model_spend = spend
            .iter_mut()
            .map(|((k, m), c)| {
                let out = (format!("{k}:{m}:{}", c.period), c.pending, c.period_ms);
                c.synced += c.pending;
                c.pending = 0.0;
                out
            })
            .collect();
        drop(spend);
        let mut seen = self.parallel_seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.retain(|_, t| now - *t < WINDOW_MS);
        let local = self.parallel.lock().unwrap_or_else(|e| e.into_inner());
        let parallel = seen
            .keys()
            .map(|k| (k.clone(), local.get(k).copied().unwrap_or(0)))
            .collect();
        drop(local);
        drop(seen);
        Shared {
            windows: self.take_pending(),
            parallel,
            model_spend,
        }
    }

    fn apply_model_spend(&self, totals: Vec<(String, f64)>) {
        let mut spend = self.model_spend.lock().unwrap_or_else(|e| e.into_inner());
        for ((k, m), c) in spend.iter_mut() {
            let id = format!("{k}:{m}:{}", c.period);
            if let Some((_, t)) = totals.iter().find(|(i, _)| *i == id) {
                c.synced = c.synced.max(*t);
            }
        }
    }

    fn restore_model_spend(&self, pending: Vec<(String, f64, i64)>) {
        let mut spend = self.model_spend.lock().unwrap_or_else(|e| e.into_inner());
        for ((k, m), c) in spend.iter_mut() {
            let id = format!("{k}:{m}:{}", c.period);
            if let Some((_, d, _)) = pending.iter().find(|(i, _, _)| *i == id) {
                c.synced -= d;
                c.pending += d;
            }
        }
    }

    /// The increments to push: `(scope, window, requests, tokens)` for every scope of the
    /// current window (zero increments too, to read the others' totals).
    fn take_pending(&self) -> Vec<(String, i64, i64, i64)> {
        let window = window_of(llmgate_store::now_ms());
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters.retain(|_, c| c.window >= window - WINDOW_MS);
        counters
            .iter_mut()
            .filter(|(_, c)| c.window == window)
            .map(|(k, c)| {
                let out = (k.clone(), c.window, c.pending_requests, c.pending_tokens);
                // Moved to `synced` now; replaced by Redis's totals when they come back.
                c.synced_requests += c.pending_requests;
                c.synced_tokens += c.pending_tokens;
                c.pending_requests = 0;
                c.pending_tokens = 0;
                out
            })
            .collect()
    }

    /// Redis's totals after our increments.
    fn apply_totals(&self, totals: Vec<(String, i64, i64, i64)>) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for (k, window, requests, tokens) in totals {
            if let Some(c) = counters.get_mut(&k).filter(|c| c.window == window) {
                c.synced_requests = c.synced_requests.max(requests);
                c.synced_tokens = c.synced_tokens.max(tokens);
            }
        }
    }

    /// Puts back increments Redis did not take, so they are pushed at the next sync.
    fn restore(&self, pending: Vec<(String, i64, i64, i64)>) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for (k, window, requests, tokens) in pending {
            if let Some(c) = counters.get_mut(&k).filter(|c| c.window == window) {
                c.synced_requests -= requests;
                c.synced_tokens -= tokens;
                c.pending_requests += requests;
                c.pending_tokens += tokens;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(rpm: Option<i64>, tpm: Option<i64>) -> Scope {
        Scope {
            kind: "api_key",
            id: "k".into(),
            rpm,
            tpm,
        }
    }

    #[test]
    fn requests_tokens_and_parallel_slots() {
        let l = Arc::new(Limiter::default());
        let s = [scope(Some(2), None)];
        let _a = l.admit(&s, None).unwrap();
        let _b = l.admit(&s, None).unwrap();
        assert_eq!(l.admit(&s, None).err().unwrap().status(), 429);

        let t = [Scope {
            id: "t".into(),
            ..scope(None, Some(100))
        }];
        l.admit(&t, None).unwrap();
        l.add_tokens(&t, 100);
        assert_eq!(l.admit(&t, None).err().unwrap().status(), 429);

        let first = l.admit(&[], Some(("p", 1))).unwrap();
        assert!(l.admit(&[], Some(("p", 1))).is_err());
        drop(first);
        assert!(l.admit(&[], Some(("p", 1))).is_ok());
    }

    #[test]
    fn pending_increments_survive_a_failed_sync() {
        let l = Arc::new(Limiter::default());
        let s = [scope(Some(10), None)];
        l.admit(&s, None).unwrap();
        let p = l.take_pending();
        assert_eq!(p[0].2, 1);
        l.restore(p);
        assert_eq!(l.take_pending()[0].2, 1);
        // Redis saw 5 from other instances plus ours.
        l.apply_totals(vec![(
            "api_key:k".into(),
            window_of(llmgate_store::now_ms()),
            6,
            0,
        )]);
        for _ in 0..4 {
            l.admit(&s, None).unwrap();
        }
        assert!(l.admit(&s, None).is_err());
    }
}
