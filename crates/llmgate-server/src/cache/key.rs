//! The cache key: the model group and every request parameter that changes the answer,
//! hashed (SHA-256, hex) and prefixed with the namespace (`<namespace>:<hash>`), as LiteLLM's
//! `get_cache_key` builds it. LiteLLM hashes Python's `str()` of each param; we hash a
//! canonical JSON form (object keys sorted), so the same request gives the same key whatever
//! the client's key order — but not LiteLLM's exact hash (a LiteLLM and an llmgate fleet do
//! not share entries).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Fields that never change the answer: who asks (`user`, the key is never in the body),
/// bookkeeping (`metadata`, `tags`), the cache controls, how the answer is framed (`stream`,
/// `stream_options`: a stream and a plain call share an entry where the endpoint can replay
/// one as the other) and Responses' `store`.
const IGNORED: &[&str] = &[
    "model",
    "user",
    "metadata",
    "litellm_metadata",
    "tags",
    "cache",
    "stream",
    "stream_options",
    "store",
];

/// The hash of one request: `route` keeps endpoints apart (a chat and a Messages request can
/// carry the same `messages`), `group` is the model group the client named (LiteLLM's
/// `model_group`), `params` the request body.
pub fn hash(route: &str, group: &str, params: &Map<String, Value>, stream: Option<bool>) -> String {
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(route.as_bytes());
    buf.push(b'\n');
    buf.extend_from_slice(group.as_bytes());
    buf.push(b'\n');
    if let Some(s) = stream {
        // Endpoints whose streams are stored as events keep them apart from plain answers.
        buf.extend_from_slice(if s { b"stream\n" } else { b"plain\n" });
    }
    let mut keys: Vec<&String> = params
        .keys()
        .filter(|k| !IGNORED.contains(&k.as_str()))
        .collect();
    keys.sort();
    for k in keys {
        let v = &params[k.as_str()];
        if v.is_null() {
            // Unset and null ask for the same answer (LiteLLM skips None params).
            continue;
        }
        canonical(&Value::String(k.clone()), &mut buf);
        buf.push(b':');
        canonical(v, &mut buf);
        buf.push(b'\n');
    }
    h.update(&buf);
    hex(&h.finalize())
}

/// `<namespace>:<hash>`, or the bare hash without a namespace (LiteLLM's
/// `_add_namespace_to_cache_key`).
pub fn namespaced(namespace: Option<&str>, hash: &str) -> String {
    match namespace.filter(|n| !n.is_empty()) {
        Some(n) => format!("{n}:{hash}"),
        None => hash.to_string(),
    }
}

/// JSON with object keys sorted at every level.
fn canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(&Value::String(k.clone()), out);
                out.push(b':');
                canonical(&m[k.as_str()], out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(x, out);
            }
            out.push(b']');
        }
        scalar => {
            // Scalars serialize infallibly.
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn key(v: Value) -> String {
        hash("/chat/completions", "gpt-4o", &obj(v), None)
    }

    #[test]
    fn same_request_same_key_whatever_the_order() {
        let a = key(json!({"messages": [{"role": "user", "content": "hi"}], "temperature": 0.2}));
        let b = key(json!({"temperature": 0.2, "messages": [{"content": "hi", "role": "user"}]}));
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn every_answer_param_changes_the_key() {
        let base = json!({"messages": [{"role": "user", "content": "hi"}]});
        let k0 = key(base.clone());
        for (name, value) in [
            ("temperature", json!(0.5)),
            ("top_p", json!(0.9)),
            ("max_tokens", json!(10)),
            (
                "tools",
                json!([{"type": "function", "function": {"name": "f"}}]),
            ),
            ("tool_choice", json!("auto")),
            ("response_format", json!({"type": "json_object"})),
            ("seed", json!(1)),
            ("n", json!(2)),
            ("stop", json!(["x"])),
            ("reasoning_effort", json!("low")),
        ] {
            let mut v = base.clone();
            v[name] = value;
            assert_ne!(key(v), k0, "{name} must change the key");
        }
        let mut other = base.clone();
        other["messages"][0]["content"] = json!("hello");
        assert_ne!(key(other), k0);
    }

    #[test]
    fn who_asks_and_framing_do_not_change_the_key() {
        let base = json!({"messages": [{"role": "user", "content": "hi"}]});
        let k0 = key(base.clone());
        let mut v = base.clone();
        v["user"] = json!("alice");
        v["metadata"] = json!({"tags": ["a"]});
        v["stream"] = json!(true);
        v["stream_options"] = json!({"include_usage": true});
        v["cache"] = json!({"ttl": 5});
        v["temperature"] = Value::Null;
        assert_eq!(key(v), k0);
    }

    #[test]
    fn group_route_and_stream_split_keys() {
        let p = obj(json!({"messages": [{"role": "user", "content": "hi"}]}));
        let a = hash("/chat/completions", "a", &p, None);
        assert_ne!(a, hash("/chat/completions", "b", &p, None));
        assert_ne!(a, hash("/v1/messages", "a", &p, None));
        assert_ne!(
            hash("/v1/messages", "a", &p, Some(true)),
            hash("/v1/messages", "a", &p, Some(false))
        );
    }

    #[test]
    fn namespace_prefixes() {
        assert_eq!(namespaced(Some("team-a"), "abc"), "team-a:abc");
        assert_eq!(namespaced(None, "abc"), "abc");
        assert_eq!(namespaced(Some(""), "abc"), "abc");
    }
}
