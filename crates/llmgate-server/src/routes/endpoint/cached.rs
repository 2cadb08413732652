//! The response cache on the request path (only when `AppState::cache` is set): after
//! admission — so rate limits count a hit, as LiteLLM's pre-call limiter counts it — look the
//! request up; a hit is answered here (cost 0, `cache_hit: True`), a miss goes on to the router
//! with a [`Plan`] that stores the answer once it succeeded (a stream through the [`Recorder`]
//! its tap feeds, chunk by chunk as they are forwarded).
//!
//! Embeddings are cached per input item (LiteLLM's `async_add_cache_pipeline`): a request whose
//! items are partly cached asks the upstream for the missing ones only.

use std::time::Duration;

use llmgate::EmbeddingRequest;

use super::*;
use crate::cache::{self, key, Cache, Controls, Stored};

/// How long the semantic cache waits for a prompt's embedding before it gives up (a miss).
const EMBED_TIMEOUT: Duration = Duration::from_secs(5);

/// What a miss stores once the call succeeded.
pub struct Plan {
    cache: Arc<Cache>,
    /// The entry's key (`x-litellm-cache-key`; embeddings: the first item's).
    pub key: String,
    ttl: Option<Duration>,
    store: bool,
    /// The semantic cache's scope and the prompt's embedding.
    semantic: Option<(String, Vec<f32>)>,
    items: Option<Items>,
}

/// An embedding request's items: every item's key, and what the cache had for each.
struct Items {
    keys: Vec<String>,
    cached: Vec<Option<Value>>,
}

pub enum Lookup<E> {
    /// Not cached (endpoint, call type or `default_off`).
    Off,
    Hit {
        stored: Stored,
        key: String,
    },
    /// `req`: the request to send instead (embeddings: only the items the cache lacks).
    Miss {
        plan: Plan,
        req: Option<E>,
    },
}

/// The text of a prompt: strings, and the `content` / `text` of messages and parts.
pub fn prompt_text(v: &Value) -> Option<String> {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => out.push_str(s),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(m) => {
                if let Some(c) = m.get("content") {
                    walk(c, out);
                } else if let Some(t) = m.get("text") {
                    walk(t, out);
                }
            }
            _ => {}
        }
    }
    let mut s = String::new();
    walk(v, &mut s);
    (!s.is_empty()).then_some(s)
}

pub async fn lookup<E: Endpoint>(
    state: &AppState,
    cache: &Arc<Cache>,
    req: &E,
    group: &str,
    ctrl: &Controls,
) -> Lookup<E> {
    if !E::CACHEABLE || !cache.serves(E::CALL_TYPE) || !cache.applies(ctrl) {
        return Lookup::Off;
    }
    let Ok(Value::Object(mut body)) = serde_json::to_value(req) else {
        return Lookup::Off;
    };
    let stream = (!E::CACHE_STREAM_AS_ANSWER).then(|| req.is_stream());
    let ns = cache.namespace(ctrl);
    let mut plan = Plan {
        cache: cache.clone(),
        key: String::new(),
        ttl: cache.ttl(ctrl),
        store: !ctrl.no_store,
        semantic: None,
        items: None,
    };
    if let Some(sem) = cache.semantic() {
        if E::CACHE_PER_ITEM {
            return Lookup::Off;
        }
        let Some(text) = req.semantic_text() else {
            return Lookup::Off;
        };
        // The prompt is compared by meaning; everything else must match exactly.
        for k in ["messages", "prompt", "input"] {
            body.shift_remove(k);
        }
        plan.key = key::namespaced(ns, &key::hash(E::ROUTE, group, &body, stream));
        let Some(vector) = embed(state, &sem.embedding_model, text).await else {
            plan.store = false;
            return Lookup::Miss { plan, req: None };
        };
        if !ctrl.no_cache {
            if let Some(near) = sem.nearest(&plan.key, &vector) {
                if let Some(stored) = cache::open(&near.value, ctrl.s_maxage) {
                    tracing::debug!(similarity = near.similarity, "semantic cache hit");
                    return Lookup::Hit {
                        stored,
                        key: plan.key,
                    };
                }
            }
        }
        plan.semantic = Some((plan.key.clone(), vector));
        return Lookup::Miss { plan, req: None };
    }
    if E::CACHE_PER_ITEM {
        return items(cache, body, group, ns, ctrl, plan).await;
    }
    plan.key = key::namespaced(ns, &key::hash(E::ROUTE, group, &body, stream));
    if !ctrl.no_cache {
        let found = cache
            .get_many(std::slice::from_ref(&plan.key), ctrl.s_maxage)
            .await
            .pop()
            .flatten();
        if let Some(stored) = found {
            return Lookup::Hit {
                stored,
                key: plan.key,
            };
        }
    }
    Lookup::Miss { plan, req: None }
}

/// What the handler does after the cache step.
pub enum Step<E> {
    /// A hit, answered.
    Answered(Response),
    /// On to the router: with what to store (a miss), and the request to send instead.
    Go { plan: Option<Plan>, req: Option<E> },
}

/// What answering a hit needs of the handler.
pub struct Hit {
    /// The client asked for a stream's usage chunk.
    pub replay_usage: bool,
    pub spend_before: f64,
}

/// The cache step: a hit answered (with `x-litellm-cache-key`), or the miss's plan (its key in
/// the headers too).
pub async fn step<E: Endpoint>(
    state: &AppState,
    cache: &Arc<Cache>,
    settle: &mut Settlement,
    req: &E,
    ctrl: &Controls,
    hit: Hit,
    headers: &mut AnswerHeaders,
) -> Step<E> {
    let started = std::time::Instant::now();
    let found = lookup::<E>(state, cache, req, settle.group(), ctrl).await;
    if !matches!(found, Lookup::Off) {
        settle.cache_lookup(crate::observe::CacheLookup {
            service: cache.service(),
            call_type: if E::CACHE_PER_ITEM {
                "async_batch_get_cache"
            } else {
                "async_get_cache"
            },
            start: started,
            end: std::time::Instant::now(),
            hit: matches!(found, Lookup::Hit { .. }),
        });
    }
    match found {
        Lookup::Off => Step::Go {
            plan: None,
            req: None,
        },
        Lookup::Hit { stored, key } => {
            match super::cache_hit::serve::<E>(
                state,
                settle,
                stored,
                req.is_stream(),
                hit.replay_usage,
            ) {
                Some(res) => {
                    headers.text(h::CACHE_KEY, &key);
                    headers.py_float(h::KEY_SPEND, Some(hit.spend_before));
                    Step::Answered(with_headers(res, headers))
                }
                None => Step::Go {
                    plan: None,
                    req: None,
                },
            }
        }
        Lookup::Miss { plan, req } => {
            headers.text(h::CACHE_KEY, &plan.key);
            Step::Go {
                plan: Some(plan),
                req,
            }
        }
    }
}

/// An embedding input's items: a string, a token list, or a list of either.
fn split(input: &Value) -> Option<(Vec<Value>, bool)> {
    match input {
        Value::String(_) => Some((vec![input.clone()], false)),
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_number) => {
            Some((vec![input.clone()], false))
        }
        Value::Array(a) if !a.is_empty() => Some((a.clone(), true)),
        _ => None,
    }
}

async fn items<E: Endpoint>(
    cache: &Arc<Cache>,
    mut body: Map<String, Value>,
    group: &str,
    ns: Option<&str>,
    ctrl: &Controls,
    mut plan: Plan,
) -> Lookup<E> {
    let Some((list, is_list)) = body.get("input").and_then(split) else {
        return Lookup::Off;
    };
    let keys: Vec<String> = list
        .iter()
        .map(|item| {
            body.insert("input".into(), item.clone());
            key::namespaced(ns, &key::hash(E::ROUTE, group, &body, None))
        })
        .collect();
    let cached: Vec<Option<Value>> = if ctrl.no_cache {
        vec![None; keys.len()]
    } else {
        cache
            .get_many(&keys, ctrl.s_maxage)
            .await
            .into_iter()
            .map(|s| match s {
                Some(Stored::Answer(v)) if v.get("embedding").is_some() => Some(v),
                _ => None,
            })
            .collect()
    };
    plan.key = keys[0].clone();
    if cached.iter().all(Option::is_some) {
        let entries: Vec<Value> = cached.into_iter().flatten().collect();
        return Lookup::Hit {
            stored: Stored::Answer(embedding_answer(group, &entries)),
            key: plan.key,
        };
    }
    let missing: Vec<Value> = list
        .iter()
        .zip(&cached)
        .filter(|(_, c)| c.is_none())
        .map(|(i, _)| i.clone())
        .collect();
    let partial = missing.len() < list.len();
    let mut req = None;
    if partial {
        let input = if is_list {
            Value::Array(missing)
        } else {
            missing.into_iter().next().unwrap_or(Value::Null)
        };
        body.insert("input".into(), input);
        req = serde_json::from_value::<E>(Value::Object(body)).ok();
    }
    // A partial request that would not rebuild asks for every item.
    let cached = if partial && req.is_none() {
        vec![None; keys.len()]
    } else {
        cached
    };
    plan.items = Some(Items { keys, cached });
    Lookup::Miss { plan, req }
}

/// An embeddings answer from per-item entries (LiteLLM's `CachedEmbedding`s): usage is what
/// the entries had cost.
fn embedding_answer(group: &str, entries: &[Value]) -> Value {
    let tokens: u64 = entries
        .iter()
        .filter_map(|e| e.get("prompt_tokens").and_then(Value::as_u64))
        .sum();
    let data: Vec<Value> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            serde_json::json!({"object": e.get("object").cloned().unwrap_or("embedding".into()),
                               "index": i, "embedding": e["embedding"]})
        })
        .collect();
    serde_json::json!({"object": "list", "data": data, "model": group,
                       "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
}

/// A prompt's embedding from the configured model group (its first deployment).
async fn embed(state: &AppState, group: &str, text: String) -> Option<Vec<f32>> {
    let Some((dep, model)) = state.deployments().peek(group) else {
        tracing::warn!(
            model = group,
            "semantic cache: the embedding model is not configured"
        );
        return None;
    };
    let req = EmbeddingRequest {
        model,
        input: Value::String(text),
        ..Default::default()
    };
    match tokio::time::timeout(EMBED_TIMEOUT, state.client.embedding(req, &dep.opts)).await {
        Ok(Ok(r)) => r
            .body
            .data
            .first()?
            .embedding
            .as_array()?
            .iter()
            .map(|x| x.as_f64().map(|f| f as f32))
            .collect(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "semantic cache: embedding failed; not cached");
            None
        }
        Err(_) => {
            tracing::warn!("semantic cache: embedding timed out; not cached");
            None
        }
    }
}

impl Plan {
    /// Embeddings: every item's vector in the answer (the cached ones and the upstream's,
    /// in the request's order), and the new ones stored. Before `finish`.
    pub fn merge<E: Endpoint>(&self, answer: &mut E::Answer) {
        let Some(items) = &self.items else { return };
        let Ok(Value::Object(mut a)) = serde_json::to_value(&*answer) else {
            return;
        };
        let fresh: Vec<Value> = match a.get("data") {
            Some(Value::Array(d)) => d.clone(),
            _ => return,
        };
        let missing: Vec<usize> = (0..items.cached.len())
            .filter(|i| items.cached[*i].is_none())
            .collect();
        if fresh.len() != missing.len() {
            // LiteLLM skips the write when the counts differ; the answer goes as it is.
            return;
        }
        let model = a.get("model").cloned().unwrap_or(Value::Null);
        let total = a
            .get("usage")
            .and_then(|u| u.get("prompt_tokens"))
            .and_then(Value::as_u64);
        let n = fresh.len() as u64;
        let mut data: Vec<Option<Value>> = items.cached.clone();
        let mut writes = Vec::new();
        for (j, (i, e)) in missing.iter().zip(fresh).enumerate() {
            // A multi-item call's tokens shared out so that the entries add up to it.
            let share = total.map(|t| t / n + u64::from((j as u64) < t % n));
            let stored = serde_json::json!({"embedding": e.get("embedding").cloned().unwrap_or(Value::Null),
                "index": i, "object": "embedding", "model": model, "prompt_tokens": share});
            writes.push((
                items.keys[*i].clone(),
                cache::entry(&Stored::Answer(stored.clone())),
            ));
            data[*i] = Some(stored);
        }
        if self.store {
            self.cache.put_many(writes, self.ttl);
        }
        if missing.len() == items.cached.len() {
            return;
        }
        let data: Vec<Value> = data
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, e)| {
                serde_json::json!({"object": "embedding", "index": i, "embedding": e["embedding"]})
            })
            .collect();
        a.insert("data".into(), Value::Array(data));
        if let Some(merged) = E::cached_answer(Value::Object(a)) {
            *answer = merged;
        }
    }

    /// A plain answer stored (after `finish`: its model is the group).
    pub fn store_answer<E: Endpoint>(&self, answer: &E::Answer) {
        if !self.store || self.items.is_some() {
            return;
        }
        if let Ok(v) = serde_json::to_value(answer) {
            self.put(Stored::Answer(v));
        }
    }

    fn put(&self, mut stored: Stored) {
        if let Stored::Answer(Value::Object(a)) = &mut stored {
            // A stream's usage carries what the call cost; a hit costs nothing.
            if let Some(Value::Object(u)) = a.get_mut("usage") {
                u.remove("cost");
            }
        }
        if !cache::has_output(&stored) {
            return;
        }
        let bytes = cache::entry(&stored);
        if bytes.len() > self.cache.settings.max_item_bytes {
            return;
        }
        match (&self.semantic, self.cache.semantic()) {
            (Some((scope, vector)), Some(sem)) => sem.put(
                scope.clone(),
                vector.clone(),
                bytes.into(),
                self.ttl.unwrap_or(cache::local::DEFAULT_TTL),
            ),
            _ => self
                .cache
                .put_many(vec![(self.key.clone(), bytes)], self.ttl),
        }
    }
}

/// A stream's chunks as they pass (serialized once, bounded by `max_item_bytes`), stored
/// when the stream ends normally.
pub struct Recorder {
    plan: Plan,
    chunks: Vec<Vec<u8>>,
    bytes: usize,
    over: bool,
}

impl Recorder {
    pub fn new(plan: Plan) -> Option<Recorder> {
        (plan.store && plan.items.is_none()).then(|| Recorder {
            plan,
            chunks: Vec::new(),
            bytes: 0,
            over: false,
        })
    }

    pub fn chunk<T: Serialize>(&mut self, c: &T) {
        if self.over {
            return;
        }
        let Ok(b) = serde_json::to_vec(c) else {
            return;
        };
        self.bytes += b.len();
        if self.bytes > self.plan.cache.settings.max_item_bytes {
            self.over = true;
            self.chunks = Vec::new();
            return;
        }
        self.chunks.push(b);
    }

    pub fn finish<E: Endpoint>(self) {
        if self.over {
            return;
        }
        let chunks: Vec<Value> = self
            .chunks
            .iter()
            .filter_map(|b| serde_json::from_slice(b).ok())
            .collect();
        let stored = if E::CACHE_STREAM_AS_ANSWER {
            E::assemble(&chunks).map(Stored::Answer)
        } else {
            (!chunks.is_empty()).then_some(Stored::Stream(chunks))
        };
        if let Some(s) = stored {
            self.plan.put(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompt_texts() {
        let m = json!([{"role": "system", "content": "be brief"},
                       {"role": "user", "content": [{"type": "text", "text": " hi"}]}]);
        assert_eq!(prompt_text(&m).unwrap(), "be brief hi");
        assert_eq!(prompt_text(&json!("x")).unwrap(), "x");
        assert!(prompt_text(&json!([])).is_none());
    }

    #[test]
    fn embedding_items() {
        assert_eq!(split(&json!("a")).unwrap(), (vec![json!("a")], false));
        assert_eq!(split(&json!([1, 2])).unwrap(), (vec![json!([1, 2])], false));
        assert_eq!(split(&json!(["a", "b"])).unwrap().0.len(), 2);
        assert!(split(&json!([])).is_none());
        let a = embedding_answer(
            "embed",
            &[
                json!({"embedding": [1.0], "prompt_tokens": 2}),
                json!({"embedding": [2.0], "prompt_tokens": 3}),
            ],
        );
        assert_eq!(a["data"][1]["index"], 1);
        assert_eq!(a["data"][1]["embedding"], json!([2.0]));
        assert_eq!(a["usage"]["prompt_tokens"], 5);
        serde_json::from_value::<llmgate::EmbeddingResponse>(a).unwrap();
    }
}
