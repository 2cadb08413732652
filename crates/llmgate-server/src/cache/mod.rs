//! Response caching: LiteLLM's `litellm_settings.cache` / `cache_params`.
//!
//! `key.rs` (the cache key), `controls.rs` (per-request controls, `allowed_cache_controls`),
//! `local.rs` (moka, entries and bytes), `redis.rs` (shared, never stalling a request),
//! `semantic.rs` (the embedded semantic cache), `settings.rs` (the config). The handler's side
//! — what an endpoint stores, how a hit is answered — is `routes/endpoint/cached.rs`.
//!
//! Off (the default), `AppState::cache` is None and the request path does nothing more than
//! test it. An entry is LiteLLM's `{"timestamp": <epoch s>, "response": <answer>}`; a stream
//! an endpoint cannot assemble into an answer is stored as `{"timestamp", "stream": [events]}`.

pub mod controls;
pub mod key;
pub mod local;
pub mod redis;
pub mod semantic;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

pub use controls::Controls;
pub use settings::{Kind, Settings};

pub enum Backend {
    Local(local::LocalCache),
    Redis(Arc<redis::RedisCache>),
    Semantic(semantic::SemanticCache),
}

pub struct Cache {
    pub settings: Settings,
    pub backend: Backend,
}

/// What an entry holds.
pub enum Stored {
    Answer(Value),
    Stream(Vec<Value>),
}

fn now_s() -> f64 {
    llmgate_store::now_ms() as f64 / 1000.0
}

impl Cache {
    pub fn new(settings: Settings) -> Result<Cache, String> {
        let backend = match &settings.kind {
            Kind::Local {
                max_entries,
                max_bytes,
            } => Backend::Local(local::LocalCache::new(*max_entries, *max_bytes)),
            Kind::Redis {
                url,
                timeout,
                connect_timeout,
            } => Backend::Redis(redis::RedisCache::new(url, *timeout, *connect_timeout)?),
            Kind::LocalSemantic {
                embedding_model,
                threshold,
                max_entries,
            } => Backend::Semantic(semantic::SemanticCache::new(
                embedding_model.clone(),
                *threshold,
                *max_entries,
            )),
        };
        Ok(Cache { settings, backend })
    }

    /// From the config: None when caching is off (or its type is not built).
    pub fn from_config(cfg: &crate::config::Config) -> Result<Option<Arc<Cache>>, String> {
        match settings::from_config(cfg)? {
            None => Ok(None),
            Some(s) => Ok(Some(Arc::new(Cache::new(s)?))),
        }
    }

    /// Connects a Redis cache at start (inside the runtime), so the first request finds it.
    pub fn start(&self) {
        if let Backend::Redis(r) = &self.backend {
            let r = r.clone();
            tokio::spawn(async move { r.connect().await });
        }
        tracing::info!(
            cache_type = %self.settings.type_name,
            namespace = ?self.settings.namespace,
            "response caching on"
        );
    }

    /// Whether `call_type` (an endpoint's LiteLLM call type) is in `supported_call_types`;
    /// the sync name stands for the async one, as configs list both.
    pub fn serves(&self, call_type: &str) -> bool {
        let sync = match call_type {
            "acompletion" => "completion",
            "atext_completion" => "text_completion",
            "aembedding" => "embedding",
            "aresponses" => "responses",
            other => other,
        };
        self.settings
            .call_types
            .iter()
            .any(|c| c == call_type || c == sync)
    }

    /// Whether a request with these controls uses the cache at all (`mode: default_off`
    /// wants `use-cache: true`).
    pub fn applies(&self, c: &Controls) -> bool {
        !self.settings.default_off || c.use_cache
    }

    /// The request's namespace over the configured one.
    pub fn namespace<'a>(&'a self, c: &'a Controls) -> Option<&'a str> {
        c.namespace
            .as_deref()
            .or(self.settings.namespace.as_deref())
    }

    /// The request's `ttl` over the configured one (None: no expiry, Redis only).
    pub fn ttl(&self, c: &Controls) -> Option<Duration> {
        c.ttl.map(Duration::from_secs_f64).or(self.settings.ttl)
    }

    /// The backend as LiteLLM's service spans and metrics name it (`redis`); the
    /// in-process caches are `in_memory`.
    pub fn service(&self) -> &'static str {
        match &self.backend {
            Backend::Redis(_) => "redis",
            Backend::Local(_) | Backend::Semantic(_) => "in_memory",
        }
    }

    pub fn semantic(&self) -> Option<&semantic::SemanticCache> {
        match &self.backend {
            Backend::Semantic(s) => Some(s),
            _ => None,
        }
    }

    /// Entries under `keys` (exact backends), opened; one Redis round trip for all.
    pub async fn get_many(&self, keys: &[String], max_age: Option<f64>) -> Vec<Option<Stored>> {
        let raw: Vec<Option<Vec<u8>>> = match &self.backend {
            Backend::Local(l) => keys.iter().map(|k| l.get(k).map(|v| v.to_vec())).collect(),
            Backend::Redis(r) if keys.len() == 1 => vec![r.get(&keys[0]).await],
            Backend::Redis(r) => r.mget(keys).await,
            Backend::Semantic(_) => vec![None; keys.len()],
        };
        raw.into_iter()
            .map(|b| open(b.as_deref()?, max_age))
            .collect()
    }

    /// Stores entries; Redis writes run off the request path.
    pub fn put_many(&self, entries: Vec<(String, Vec<u8>)>, ttl: Option<Duration>) {
        if ttl.is_some_and(|t| t.is_zero()) {
            // `ttl: 0` keeps nothing.
            return;
        }
        match &self.backend {
            Backend::Local(l) => {
                let ttl = ttl.unwrap_or(local::DEFAULT_TTL);
                for (k, v) in entries {
                    l.put(k, v.into(), ttl);
                }
            }
            Backend::Redis(r) => {
                let r = r.clone();
                tokio::spawn(async move { r.set_many(&entries, ttl).await });
            }
            Backend::Semantic(_) => {}
        }
    }

    /// `/cache/delete`: how many were deleted (local: all asked for).
    pub async fn delete(&self, keys: &[String]) -> Result<u64, String> {
        match &self.backend {
            Backend::Local(l) => {
                keys.iter().for_each(|k| l.delete(k));
                Ok(keys.len() as u64)
            }
            Backend::Redis(r) => r.delete(keys).await,
            Backend::Semantic(_) => Err(format!(
                "Cache type {} does not support deleting a key",
                self.settings.type_name
            )),
        }
    }

    /// `/cache/flushall`: this cache's entries (not the rest of a shared Redis).
    pub async fn flush(&self) -> Result<(), String> {
        match &self.backend {
            Backend::Local(l) => l.clear(),
            Backend::Semantic(s) => s.clear(),
            Backend::Redis(r) => {
                r.flush(self.settings.namespace.as_deref()).await?;
            }
        }
        Ok(())
    }
}

/// Whether an answer carries output worth storing: LiteLLM (`is_response_without_output`)
/// does not cache an answer without choices, output or content blocks, so an empty answer
/// (a silent refusal) is asked again rather than served forever.
pub fn has_output(stored: &Stored) -> bool {
    let filled = |v: &Value| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    };
    match stored {
        Stored::Stream(events) => events.iter().any(|e| {
            matches!(
                e.get("type").and_then(Value::as_str),
                Some("content_block_start" | "response.output_item.added")
            )
        }),
        Stored::Answer(a) => {
            if let Some(choices) = a.get("choices").and_then(Value::as_array) {
                return choices.iter().any(|c| match c.get("message") {
                    Some(Value::Object(m)) => m.iter().any(|(k, v)| k != "role" && filled(v)),
                    _ => c.get("text").is_some_and(filled),
                });
            }
            if let Some(data) = a.get("data") {
                return filled(data);
            }
            if a.get("object").and_then(Value::as_str) == Some("response") {
                return a.get("output").is_some_and(filled);
            }
            if a.get("type").and_then(Value::as_str) == Some("message") {
                return a.get("content").is_some_and(filled);
            }
            // Embedding items and shapes not known here are stored.
            true
        }
    }
}

/// An entry's bytes: `{"timestamp", "response"}` (or `"stream"`).
pub fn entry(stored: &Stored) -> Vec<u8> {
    let v = match stored {
        Stored::Answer(a) => json!({"timestamp": now_s(), "response": a}),
        Stored::Stream(events) => json!({"timestamp": now_s(), "stream": events}),
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// An entry's content, if it is no older than `max_age` seconds (`s-maxage`).
pub fn open(bytes: &[u8], max_age: Option<f64>) -> Option<Stored> {
    let mut v: Value = serde_json::from_slice(bytes).ok()?;
    if let (Some(max), Some(ts)) = (max_age, v.get("timestamp").and_then(Value::as_f64)) {
        if now_s() - ts > max {
            return None;
        }
    }
    let o = v.as_object_mut()?;
    if let Some(r) = o.remove("response") {
        // LiteLLM stores a pydantic model as its JSON string.
        return match r {
            Value::String(s) => serde_json::from_str(&s).ok().map(Stored::Answer),
            r => Some(Stored::Answer(r)),
        };
    }
    match o.remove("stream")? {
        Value::Array(events) => Some(Stored::Stream(events)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_age() {
        let b = entry(&Stored::Answer(json!({"id": "x"})));
        assert!(matches!(open(&b, None), Some(Stored::Answer(v)) if v["id"] == "x"));
        assert!(open(&b, Some(60.0)).is_some());
        let old =
            serde_json::to_vec(&json!({"timestamp": now_s() - 100.0, "response": "{\"id\": 1}"}))
                .unwrap();
        assert!(open(&old, Some(10.0)).is_none());
        assert!(matches!(open(&old, None), Some(Stored::Answer(v)) if v["id"] == 1));
        let s = entry(&Stored::Stream(vec![json!({"type": "a"})]));
        assert!(matches!(open(&s, None), Some(Stored::Stream(e)) if e.len() == 1));
        assert!(open(b"not json", None).is_none());
    }

    #[test]
    fn answers_without_output_are_not_stored() {
        let chat = |m: Value| Stored::Answer(json!({"choices": [{"message": m}]}));
        assert!(has_output(&chat(
            json!({"role": "assistant", "content": "hi"})
        )));
        assert!(has_output(&chat(
            json!({"role": "assistant", "content": null, "tool_calls": [{"id": "c"}]})
        )));
        assert!(!has_output(&chat(
            json!({"role": "assistant", "content": ""})
        )));
        assert!(!has_output(&Stored::Answer(json!({"choices": []}))));
        assert!(!has_output(&Stored::Answer(
            json!({"choices": [{"text": ""}]})
        )));
        assert!(has_output(&Stored::Answer(
            json!({"choices": [{"text": "x"}]})
        )));
        assert!(!has_output(&Stored::Answer(
            json!({"object": "response", "output": []})
        )));
        assert!(!has_output(&Stored::Answer(
            json!({"type": "message", "content": []})
        )));
        assert!(has_output(&Stored::Answer(json!({"embedding": [0.1]}))));
        assert!(!has_output(&Stored::Stream(vec![
            json!({"type": "message_start"}),
            json!({"type": "message_stop"})
        ])));
        assert!(has_output(&Stored::Stream(vec![
            json!({"type": "content_block_start"})
        ])));
    }

    #[test]
    fn call_types_and_modes() {
        let cfg: crate::config::Config = serde_norway::from_str(
            "litellm_settings: {cache: true, cache_params: {mode: default_off, supported_call_types: [completion, embedding], namespace: n}}\n",
        )
        .unwrap();
        let c = Cache::from_config(&cfg).unwrap().unwrap();
        assert!(c.serves("acompletion") && c.serves("aembedding"));
        assert!(!c.serves("anthropic_messages") && !c.serves("atext_completion"));
        assert!(!c.applies(&Controls::default()));
        let opt_in = Controls {
            use_cache: true,
            ..Default::default()
        };
        assert!(c.applies(&opt_in));
        assert_eq!(c.namespace(&Controls::default()), Some("n"));
        let own = Controls {
            namespace: Some("m".into()),
            ..Default::default()
        };
        assert_eq!(c.namespace(&own), Some("m"));
        assert_eq!(
            c.ttl(&Controls {
                ttl: Some(5.0),
                ..Default::default()
            }),
            Some(Duration::from_secs(5))
        );
    }
}
