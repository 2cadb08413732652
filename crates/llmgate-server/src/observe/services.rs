//! The gateway's own round trips to Redis and PostgreSQL as LiteLLM's `prometheus_system`
//! service metrics name them (`litellm_redis_latency`, `litellm_redis_total_requests`,
//! `litellm_redis_failed_requests` with `error_class` and `function_name`; the same for
//! `postgres`). Measured where the gateway already talks to them — the Redis cache, the
//! shared rate-limit and spend counters, fleet invalidation, alert claims, the key/team/user
//! reads behind the caches and the spend writer's batches — never with a round trip of its own.
//!
//! Redis failures also feed the alerts (`watch_redis`): counted with the last one's text, read
//! by the alert sender on its flush tick (at most one `db_exceptions` alert per tick, as the
//! database's failures). A failed connect counts there too, though it is no round trip for the
//! metrics.
//!
//! Until Prometheus or the alerts are on, a record is two atomic loads: nothing else is done.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::prometheus::Metrics;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Redis,
    Postgres,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Redis => "redis",
            Service::Postgres => "postgres",
        }
    }
}

struct Sink {
    metrics: Arc<Metrics>,
    /// The database is PostgreSQL (the embedded SQLite makes no round trips to measure).
    postgres: bool,
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Turns the recording on (Prometheus is on); the first call wins.
pub fn install(metrics: Arc<Metrics>, postgres: bool) {
    let _ = SINK.set(Sink { metrics, postgres });
}

/// Redis failures for the alerts: how many so far and the last one's text.
struct Failures {
    watching: AtomicBool,
    count: AtomicU64,
    last: Mutex<Option<String>>,
}

static REDIS_FAILURES: Failures = Failures {
    watching: AtomicBool::new(false),
    count: AtomicU64::new(0),
    last: Mutex::new(None),
};

/// Starts counting Redis failures for the alerts (alerting is on).
pub fn watch_redis() {
    REDIS_FAILURES.watching.store(true, Ordering::Relaxed);
}

/// The Redis failures so far and the last one's text (`function`: class: detail).
pub fn redis_failures() -> (u64, Option<String>) {
    let f = &REDIS_FAILURES;
    let last = f.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
    (f.count.load(Ordering::Relaxed), last)
}

/// A Redis failure the alerts see (`detail` may be empty). Nothing when alerting is off.
pub fn redis_failed(function: &str, class: &str, detail: &str) {
    let f = &REDIS_FAILURES;
    if !f.watching.load(Ordering::Relaxed) {
        return;
    }
    let mut text = format!("{function}: {class}");
    if !detail.is_empty() {
        text.push_str(": ");
        // An error's text is bounded: it becomes one line of an alert.
        text.extend(detail.chars().take(500));
    }
    *f.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
    f.count.fetch_add(1, Ordering::Relaxed);
}

fn watching() -> bool {
    SINK.get().is_some() || REDIS_FAILURES.watching.load(Ordering::Relaxed)
}

/// One round trip that took `took`; `error`: the failure's class (`TimeoutError`,
/// `ConnectionError`, ...).
pub fn record(service: Service, function: &'static str, took: Duration, error: Option<&str>) {
    record_error(service, function, took, error, "");
}

/// [`record`] with the failure's text (for the alerts).
pub fn record_error(
    service: Service,
    function: &'static str,
    took: Duration,
    error: Option<&str>,
    detail: &str,
) {
    if let (Service::Redis, Some(class)) = (service, error) {
        redis_failed(function, class, detail);
    }
    let Some(s) = SINK.get() else { return };
    if service == Service::Postgres && !s.postgres {
        return;
    }
    s.metrics.service(service.name(), function, took, error);
}

/// Times `fut` as one Redis round trip.
pub async fn redis<T>(
    function: &'static str,
    fut: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    if !watching() {
        return fut.await;
    }
    let t = Instant::now();
    let r = fut.await;
    match &r {
        Ok(_) => record(Service::Redis, function, t.elapsed(), None),
        Err(e) => record_error(
            Service::Redis,
            function,
            t.elapsed(),
            Some(redis_class(e)),
            &e.to_string(),
        ),
    }
    r
}

/// Times `fut` as one database round trip.
pub async fn db<T>(
    function: &'static str,
    fut: impl std::future::Future<Output = Result<T, llmgate_store::StoreError>>,
) -> Result<T, llmgate_store::StoreError> {
    if SINK.get().is_none() {
        return fut.await;
    }
    let t = Instant::now();
    let r = fut.await;
    let class = r.as_ref().err().map(store_class);
    record(Service::Postgres, function, t.elapsed(), class.as_deref());
    r
}

/// A Redis error's class, as redis-py's exceptions are named.
pub fn redis_class(e: &redis::RedisError) -> &'static str {
    if e.is_timeout() {
        "TimeoutError"
    } else if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
        "ConnectionError"
    } else {
        "ResponseError"
    }
}

/// A database error's class: sqlx's variant (`PoolTimedOut`, `Io`, `Database`, ...).
pub fn store_class(e: &llmgate_store::StoreError) -> String {
    match e {
        llmgate_store::StoreError::Db(inner) => error_class(inner),
        other => error_class(other),
    }
}

/// A short class name for an error, as Python's `type(e).__name__` would read: the error's
/// `Debug` form up to its first non-identifier character.
pub fn error_class<E: std::fmt::Debug>(e: &E) -> String {
    let d = format!("{e:?}");
    let name: String = d
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    if name.is_empty() {
        "Exception".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_classes_are_bounded_identifiers() {
        assert_eq!(error_class(&"x"), "Exception");
        #[derive(Debug)]
        #[allow(dead_code)]
        enum E {
            PoolTimedOut,
            Io(u8),
        }
        assert_eq!(error_class(&E::PoolTimedOut), "PoolTimedOut");
        assert_eq!(error_class(&E::Io(1)), "Io");
    }
}
