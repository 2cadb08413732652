//! `litellm_settings.cache` / `cache_params` → the cache's settings, as LiteLLM's `Cache`
//! reads them (its parameter names and defaults), checked once at start.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::Config;

/// The cache types llmgate builds (README: "Response caching").
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Local {
        max_entries: u64,
        max_bytes: u64,
    },
    Redis {
        url: String,
        timeout: Duration,
        connect_timeout: Duration,
    },
    /// llmgate's embedded semantic cache.
    LocalSemantic {
        embedding_model: String,
        threshold: f64,
        max_entries: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub kind: Kind,
    /// `cache_params.type` as configured (`/cache/ping`'s `cache_type`).
    pub type_name: String,
    pub namespace: Option<String>,
    /// None: entries do not expire (Redis without a `ttl`, as LiteLLM).
    pub ttl: Option<Duration>,
    /// `mode: default_off`: only `cache: {"use-cache": true}` requests use the cache.
    pub default_off: bool,
    pub call_types: Vec<String>,
    /// An answer (or an assembled stream) larger than this is not stored.
    pub max_item_bytes: usize,
}

/// LiteLLM's `DEFAULT_CACHING_SUPPORTED_CALL_TYPES`, sync and async names, for the endpoints
/// llmgate caches.
pub const DEFAULT_CALL_TYPES: &[&str] = &[
    "completion",
    "acompletion",
    "text_completion",
    "atext_completion",
    "embedding",
    "aembedding",
    "anthropic_messages",
    "responses",
    "aresponses",
];

const DEFAULT_SOCKET_TIMEOUT: Duration = Duration::from_millis(500);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// LiteLLM's in-memory cache default TTL (seconds).
const LOCAL_TTL: Duration = super::local::DEFAULT_TTL;
pub const DEFAULT_MAX_ITEM_BYTES: usize = 1024 * 1024;

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| {
        v.as_str()
            .map(str::to_string)
            .or_else(|| v.as_i64().map(|n| n.to_string()))
    })
    .filter(|s| !s.is_empty())
}

fn seconds(v: Option<&Value>, at: &str) -> Result<Option<Duration>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let n = v
        .as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| format!("cache_params.{at} must be a number of seconds"))?;
    Ok(Some(Duration::from_secs_f64(n)))
}

fn count(v: Option<&Value>, at: &str) -> Result<Option<u64>, String> {
    match v.filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| format!("cache_params.{at} must be a positive integer")),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Percent-encodes a URL's userinfo part.
fn userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Redis the cache uses: `cache_params.url`, else its host/port/password/db (each
/// falling back to LiteLLM's `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD`/`REDIS_DB`,
/// `REDIS_USERNAME`), else `REDIS_URL`.
pub fn redis_url(cp: &Map<String, Value>) -> Option<String> {
    if let Some(u) = text(cp.get("url")) {
        return Some(u);
    }
    let host = text(cp.get("host")).or_else(|| env("REDIS_HOST"));
    let Some(host) = host else {
        return env("REDIS_URL");
    };
    let port = text(cp.get("port"))
        .or_else(|| env("REDIS_PORT"))
        .unwrap_or_else(|| "6379".into());
    let password = text(cp.get("password")).or_else(|| env("REDIS_PASSWORD"));
    let username = text(cp.get("username")).or_else(|| env("REDIS_USERNAME"));
    let db = text(cp.get("db")).or_else(|| env("REDIS_DB"));
    let ssl = cp.get("ssl").and_then(Value::as_bool).unwrap_or(false);
    let auth = match (username, password) {
        (Some(u), Some(p)) => format!("{}:{}@", userinfo(&u), userinfo(&p)),
        (None, Some(p)) => format!(":{}@", userinfo(&p)),
        (Some(u), None) => format!("{}@", userinfo(&u)),
        (None, None) => String::new(),
    };
    let scheme = if ssl { "rediss" } else { "redis" };
    let db = db.map(|d| format!("/{d}")).unwrap_or_default();
    Some(format!("{scheme}://{auth}{host}:{port}{db}"))
}

/// None when caching is off: `cache` unset or false, or a type llmgate does not build (named
/// with the unsupported settings at start). A bad value is an error: the gateway does not start.
pub fn from_config(cfg: &Config) -> Result<Option<Settings>, String> {
    let ls = &cfg.litellm_settings.extra;
    let on = match ls.get("cache") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(_) => return Err("litellm_settings.cache must be true or false".into()),
    };
    if !on {
        return Ok(None);
    }
    let empty = Map::new();
    let cp = match ls.get("cache_params") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err("litellm_settings.cache_params must be a mapping".into()),
    };
    let type_name = text(cp.get("type")).unwrap_or_else(|| "local".into());
    if cp.get("redis_startup_nodes").is_some_and(|v| !v.is_null())
        || env("REDIS_CLUSTER_NODES").is_some()
    {
        tracing::warn!("response caching is off: Redis Cluster (redis_startup_nodes, REDIS_CLUSTER_NODES) is not supported");
        return Ok(None);
    }
    let ttl = seconds(cp.get("ttl"), "ttl")?;
    let (kind, ttl) = match type_name.as_str() {
        "local" => {
            let max_entries = count(cp.get("max_size_in_memory"), "max_size_in_memory")?
                .unwrap_or(super::local::DEFAULT_MAX_ENTRIES);
            let max_bytes = count(
                cp.get("max_size_in_memory_bytes"),
                "max_size_in_memory_bytes",
            )?
            .unwrap_or(super::local::DEFAULT_MAX_BYTES);
            let ttl = seconds(cp.get("default_in_memory_ttl"), "default_in_memory_ttl")?
                .or(ttl)
                .unwrap_or(LOCAL_TTL);
            (
                Kind::Local {
                    max_entries,
                    max_bytes,
                },
                Some(ttl),
            )
        }
        "redis" => {
            let url = redis_url(cp).ok_or(
                "cache_params.type redis needs a host (or url, or REDIS_HOST / REDIS_URL)",
            )?;
            let timeout = seconds(cp.get("socket_timeout"), "socket_timeout")?
                .unwrap_or(DEFAULT_SOCKET_TIMEOUT);
            let connect_timeout =
                seconds(cp.get("socket_connect_timeout"), "socket_connect_timeout")?
                    .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
            let ttl = seconds(cp.get("default_in_redis_ttl"), "default_in_redis_ttl")?.or(ttl);
            (
                Kind::Redis {
                    url,
                    timeout,
                    connect_timeout,
                },
                ttl,
            )
        }
        "local-semantic" => {
            let embedding_model = text(cp.get("redis_semantic_cache_embedding_model")).ok_or(
                "cache_params.type local-semantic needs redis_semantic_cache_embedding_model (an embedding model group)",
            )?;
            let threshold = match cp.get("similarity_threshold") {
                None | Some(Value::Null) => super::semantic::DEFAULT_THRESHOLD,
                Some(v) => v
                    .as_f64()
                    .filter(|t| (0.0..=1.0).contains(t))
                    .ok_or("cache_params.similarity_threshold must be a number from 0 to 1")?,
            };
            let max_entries = count(cp.get("max_size_in_memory"), "max_size_in_memory")?
                .map_or(super::semantic::DEFAULT_MAX_ENTRIES, |n| n as usize);
            (
                Kind::LocalSemantic {
                    embedding_model,
                    threshold,
                    max_entries,
                },
                Some(ttl.unwrap_or(LOCAL_TTL)),
            )
        }
        other => {
            // Named at start-up with the other unsupported settings (the support table).
            tracing::warn!(
                cache_type = other,
                "response caching is off: this cache type is not supported (llmgate has local, redis, local-semantic)"
            );
            return Ok(None);
        }
    };
    let default_off = match text(cp.get("mode")).as_deref() {
        None | Some("default_on") => false,
        Some("default_off") => true,
        Some(m) => {
            return Err(format!(
                "cache_params.mode {m}: expected default_on or default_off"
            ))
        }
    };
    let call_types = match cp.get("supported_call_types") {
        None | Some(Value::Null) => DEFAULT_CALL_TYPES.iter().map(|s| s.to_string()).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or("cache_params.supported_call_types must be a list of call types")?,
        Some(_) => return Err("cache_params.supported_call_types must be a list".into()),
    };
    let max_item_bytes = count(cp.get("max_size_per_item"), "max_size_per_item")?
        .map_or(DEFAULT_MAX_ITEM_BYTES, |kb| {
            (kb as usize).saturating_mul(1024)
        });
    Ok(Some(Settings {
        kind,
        type_name,
        namespace: text(cp.get("namespace")),
        ttl,
        default_off,
        call_types,
        max_item_bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml: &str) -> Result<Option<Settings>, String> {
        let cfg: Config = serde_norway::from_str(yaml).unwrap();
        from_config(&cfg)
    }

    #[test]
    fn off_unless_cache_true() {
        assert_eq!(settings("litellm_settings: {}\n").unwrap(), None);
        assert_eq!(
            settings("litellm_settings: {cache: false, cache_params: {type: redis}}\n").unwrap(),
            None
        );
    }

    #[test]
    fn local_defaults_as_litellm() {
        let s = settings("litellm_settings: {cache: true}\n")
            .unwrap()
            .unwrap();
        assert_eq!(s.type_name, "local");
        assert_eq!(s.ttl, Some(Duration::from_secs(600)));
        assert!(!s.default_off);
        assert!(s.call_types.iter().any(|c| c == "acompletion"));
        assert_eq!(
            s.kind,
            Kind::Local {
                max_entries: 200,
                max_bytes: super::super::local::DEFAULT_MAX_BYTES
            }
        );
    }

    #[test]
    fn redis_params() {
        let s = settings(
            "litellm_settings:\n  cache: true\n  cache_params: {type: redis, host: h, port: 7000, password: 'p@ss', namespace: ns, ttl: 30, mode: default_off, supported_call_types: [acompletion], socket_timeout: 0.1}\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            s.kind,
            Kind::Redis {
                url: "redis://:p%40ss@h:7000".into(),
                timeout: Duration::from_millis(100),
                connect_timeout: DEFAULT_CONNECT_TIMEOUT
            }
        );
        assert_eq!(s.namespace.as_deref(), Some("ns"));
        assert_eq!(s.ttl, Some(Duration::from_secs(30)));
        assert!(s.default_off);
        assert_eq!(s.call_types, vec!["acompletion".to_string()]);
        let s = settings(
            "litellm_settings: {cache: true, cache_params: {type: redis, url: 'redis://x:1/2'}}\n",
        )
        .unwrap()
        .unwrap();
        assert!(matches!(s.kind, Kind::Redis { ref url, .. } if url == "redis://x:1/2"));
        assert_eq!(s.ttl, None);
    }

    #[test]
    fn semantic_and_refusals() {
        let s = settings(
            "litellm_settings: {cache: true, cache_params: {type: local-semantic, redis_semantic_cache_embedding_model: embed, similarity_threshold: 0.8}}\n",
        )
        .unwrap()
        .unwrap();
        assert!(matches!(s.kind, Kind::LocalSemantic { threshold, .. } if threshold == 0.8));
        for unsupported in [
            "litellm_settings: {cache: true, cache_params: {type: s3}}\n",
            "litellm_settings: {cache: true, cache_params: {type: redis-semantic}}\n",
            "litellm_settings: {cache: true, cache_params: {type: redis, host: h, redis_startup_nodes: [{host: a, port: 1}]}}\n",
        ] {
            assert_eq!(settings(unsupported).unwrap(), None, "{unsupported}");
        }
        for bad in [
            "litellm_settings: {cache: true, cache_params: {type: local-semantic}}\n",
            "litellm_settings: {cache: true, cache_params: {mode: sometimes}}\n",
            "litellm_settings: {cache: true, cache_params: {ttl: soon}}\n",
        ] {
            assert!(settings(bad).is_err(), "{bad}");
        }
    }
}
