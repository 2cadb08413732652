//! The shared cache (`type: redis`): every instance reads and writes the same entries.
//!
//! Redis must never stall or fail a request: every call is bounded by a short timeout
//! (`socket_timeout`), a failure is a miss (or a skipped write), the outage is logged once
//! and its end once. The connection is made lazily, at most one attempt a second while
//! Redis is away; once made, the connection manager reconnects by itself.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde_json::{Map, Value};

/// Management calls (`/cache/*`) may take longer than a request's lookup.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);
const RECONNECT_EVERY_MS: u64 = 1000;

pub struct RedisCache {
    client: redis::Client,
    conn: RwLock<Option<ConnectionManager>>,
    connecting: AtomicBool,
    last_attempt_ms: AtomicU64,
    down: AtomicBool,
    timeout: Duration,
    connect_timeout: Duration,
}

fn now_ms() -> u64 {
    llmgate_store::now_ms().max(0) as u64
}

impl RedisCache {
    pub fn new(
        url: &str,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> Result<Arc<RedisCache>, String> {
        let client = redis::Client::open(url).map_err(|e| format!("bad Redis URL: {e}"))?;
        Ok(Arc::new(RedisCache {
            client,
            conn: RwLock::new(None),
            connecting: AtomicBool::new(false),
            last_attempt_ms: AtomicU64::new(0),
            down: AtomicBool::new(false),
            timeout,
            connect_timeout,
        }))
    }

    /// The connection, or None (a miss) while there is none; starts a connect attempt in
    /// the background when it is time for one.
    fn conn(self: &Arc<Self>) -> Option<ConnectionManager> {
        if let Some(c) = self.current() {
            return Some(c);
        }
        let now = now_ms();
        let last = self.last_attempt_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= RECONNECT_EVERY_MS {
            let me = self.clone();
            tokio::spawn(async move { me.connect().await });
        }
        None
    }

    fn current(&self) -> Option<ConnectionManager> {
        self.conn.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Connects now (at start, and before a write, which runs off the request path); one
    /// attempt at a time.
    pub async fn connect(self: &Arc<Self>) {
        if self.current().is_some() || self.connecting.swap(true, Ordering::AcqRel) {
            return;
        }
        self.last_attempt_ms.store(now_ms(), Ordering::Relaxed);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let made = tokio::time::timeout(
            self.connect_timeout + self.timeout,
            self.client.get_connection_manager_with_config(config),
        )
        .await;
        match made {
            Ok(Ok(c)) => {
                *self.conn.write().unwrap_or_else(|e| e.into_inner()) = Some(c);
                self.up();
            }
            Ok(Err(e)) => {
                let e = e.to_string();
                crate::observe::services::redis_failed("connect", "ConnectionError", &e);
                self.failed(&e)
            }
            Err(_) => {
                crate::observe::services::redis_failed("connect", "TimeoutError", "");
                self.failed("connect timed out")
            }
        }
        self.connecting.store(false, Ordering::Release);
    }

    fn failed(&self, error: &str) {
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                error,
                "Redis cache unreachable: requests skip the cache until it is back"
            );
        }
    }

    fn up(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("Redis cache is back");
        }
    }

    /// Runs one command within `limit`; an error on any failure (logged once per outage).
    /// `function`: the call as LiteLLM's service metrics name it (`async_get_cache`...).
    async fn run<T: redis::FromRedisValue>(
        self: &Arc<Self>,
        function: &'static str,
        cmd: &redis::Cmd,
        limit: Duration,
    ) -> Result<T, String> {
        use crate::observe::services::{record, record_error, redis_class, Service};
        let Some(mut c) = self.conn() else {
            record(
                Service::Redis,
                function,
                Duration::ZERO,
                Some("ConnectionError"),
            );
            return Err("Redis is not connected".into());
        };
        let t = std::time::Instant::now();
        let res = tokio::time::timeout(limit, cmd.query_async::<T>(&mut c)).await;
        let took = t.elapsed();
        match res {
            Ok(Ok(v)) => {
                record(Service::Redis, function, took, None);
                self.up();
                Ok(v)
            }
            Ok(Err(e)) => {
                let class = redis_class(&e);
                let e = e.to_string();
                record_error(Service::Redis, function, took, Some(class), &e);
                self.failed(&e);
                Err(e)
            }
            Err(_) => {
                record(Service::Redis, function, took, Some("TimeoutError"));
                self.failed("timed out");
                Err("Redis timed out".into())
            }
        }
    }

    pub async fn get(self: &Arc<Self>, key: &str) -> Option<Vec<u8>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        self.run::<Option<Vec<u8>>>("async_get_cache", &cmd, self.timeout)
            .await
            .ok()
            .flatten()
    }

    /// One round trip for many keys (an embedding request's items).
    pub async fn mget(self: &Arc<Self>, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(k);
        }
        match self
            .run::<Vec<Option<Vec<u8>>>>("async_batch_get_cache", &cmd, self.timeout)
            .await
        {
            Ok(v) if v.len() == keys.len() => v,
            _ => vec![None; keys.len()],
        }
    }

    /// `SET key value PX ttl` (off the request path: it may wait for a connection).
    pub async fn set(self: &Arc<Self>, key: &str, value: &[u8], ttl: Option<Duration>) {
        if self.current().is_none()
            && now_ms().saturating_sub(self.last_attempt_ms.load(Ordering::Relaxed))
                >= RECONNECT_EVERY_MS
        {
            self.connect().await;
        }
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value);
        if let Some(t) = ttl {
            cmd.arg("PX").arg((t.as_millis() as u64).max(1));
        }
        let _ = self.run::<()>("async_set_cache", &cmd, self.timeout).await;
    }

    /// Many `SET`s in one pipeline (an embedding request's items), off the request path.
    pub async fn set_many(self: &Arc<Self>, entries: &[(String, Vec<u8>)], ttl: Option<Duration>) {
        if entries.len() == 1 {
            return self.set(&entries[0].0, &entries[0].1, ttl).await;
        }
        if self.current().is_none() {
            self.connect().await;
        }
        let Some(mut c) = self.current() else { return };
        let mut pipe = redis::pipe();
        for (k, v) in entries {
            let cmd = pipe.cmd("SET").arg(k).arg(v.as_slice());
            if let Some(t) = ttl {
                cmd.arg("PX").arg((t.as_millis() as u64).max(1));
            }
            cmd.ignore();
        }
        use crate::observe::services::{record, record_error, redis_class, Service};
        let t = std::time::Instant::now();
        let res = tokio::time::timeout(ADMIN_TIMEOUT, pipe.query_async::<()>(&mut c)).await;
        let (took, f) = (t.elapsed(), "async_set_cache_pipeline");
        match res {
            Ok(Ok(())) => {
                record(Service::Redis, f, took, None);
                self.up()
            }
            Ok(Err(e)) => {
                let class = redis_class(&e);
                let e = e.to_string();
                record_error(Service::Redis, f, took, Some(class), &e);
                self.failed(&e)
            }
            Err(_) => {
                record(Service::Redis, f, took, Some("TimeoutError"));
                self.failed("timed out")
            }
        }
    }

    pub async fn delete(self: &Arc<Self>, keys: &[String]) -> Result<u64, String> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut cmd = redis::cmd("DEL");
        for k in keys {
            cmd.arg(k);
        }
        self.run("async_delete_cache", &cmd, ADMIN_TIMEOUT).await
    }

    pub async fn ping(self: &Arc<Self>) -> Result<(), String> {
        self.run::<String>("async_ping", &redis::cmd("PING"), ADMIN_TIMEOUT)
            .await
            .map(|_| ())
    }

    /// Deletes the cache's entries and nothing else of the server: those under
    /// `<namespace>:` when one is set, else keys shaped as bare cache keys (64 hex digits).
    pub async fn flush(self: &Arc<Self>, namespace: Option<&str>) -> Result<u64, String> {
        let pattern = match namespace {
            Some(n) => format!("{}:*", escape_glob(n)),
            None => "*".into(),
        };
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000);
            let (next, keys): (u64, Vec<String>) =
                self.run("async_scan_iter", &cmd, ADMIN_TIMEOUT).await?;
            let keys: Vec<String> = keys
                .into_iter()
                .filter(|k| namespace.is_some() || is_bare_key(k))
                .collect();
            deleted += self.delete(&keys).await?;
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    /// `CLIENT LIST` and `INFO`, parsed as redis-py parses them (LiteLLM's `/cache/redis/info`).
    pub async fn info(self: &Arc<Self>) -> Result<(Vec<Value>, Map<String, Value>), String> {
        let mut list = redis::cmd("CLIENT");
        list.arg("LIST");
        let clients: String = self.run("client_list", &list, ADMIN_TIMEOUT).await?;
        let info: String = self.run("info", &redis::cmd("INFO"), ADMIN_TIMEOUT).await?;
        Ok((parse_client_list(&clients), parse_info(&info)))
    }
}

fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn is_bare_key(k: &str) -> bool {
    k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit())
}

fn scalar(v: &str) -> Value {
    if let Ok(n) = v.parse::<i64>() {
        return n.into();
    }
    match v.parse::<f64>() {
        Ok(f) if f.is_finite() => f.into(),
        _ => v.into(),
    }
}

fn parse_client_list(s: &str) -> Vec<Value> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let m: Map<String, Value> = l
                .split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            Value::Object(m)
        })
        .collect()
}

fn parse_info(s: &str) -> Map<String, Value> {
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_string(), scalar(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_and_clients() {
        let info = parse_info("# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:12\r\nmem_fragmentation_ratio:1.5\r\n");
        assert_eq!(info["redis_version"], "7.0.15");
        assert_eq!(info["uptime_in_seconds"], 12);
        assert_eq!(info["mem_fragmentation_ratio"], 1.5);
        let c = parse_client_list("id=3 addr=127.0.0.1:5 name= db=0\nid=4 addr=x db=1\n");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0]["addr"], "127.0.0.1:5");
    }

    #[test]
    fn flush_patterns() {
        assert_eq!(escape_glob("a*b"), "a\\*b");
        assert!(is_bare_key(&"a".repeat(64)));
        assert!(!is_bare_key("llmgate:rl:x"));
    }
}
