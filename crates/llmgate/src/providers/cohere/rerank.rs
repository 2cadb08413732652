//! Rerank: v2 (`/v2/rerank`, `max_tokens_per_doc`) by default; v1 (`/v1/rerank`,
//! `max_chunks_per_doc`) when the base names it, or when the request has only v1's param and
//! the base does not name v2 (LiteLLM's `should_use_cohere_v1_client`). Cohere's answer is
//! already the response shape.

use llmgate_types::{RerankRequest, RerankResponse};
use serde_json::{json, Map, Value};

/// Which API a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

pub fn version(api_base: Option<&str>, req: &RerankRequest) -> Version {
    let Some(base) = api_base.map(|b| b.trim_end_matches('/')) else {
        return Version::V2;
    };
    let v1_params = req.max_chunks_per_doc.is_some() && req.max_tokens_per_doc.is_none();
    if base.ends_with("/v1/rerank") || (v1_params && !base.ends_with("/v2/rerank")) {
        Version::V1
    } else {
        Version::V2
    }
}

/// The body: the request's own fields only (LiteLLM's `RerankRequest` dump), the chunking
/// param of the API it goes to.
pub fn body(req: &RerankRequest, v: Version) -> Value {
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    b.insert("query".into(), json!(req.query));
    b.insert("documents".into(), json!(req.documents()));
    let mut set = |k: &str, val: Option<Value>| {
        if let Some(val) = val {
            b.insert(k.into(), val);
        }
    };
    set("top_n", req.top_n.map(Value::from));
    set("rank_fields", req.rank_fields.as_ref().map(|f| json!(f)));
    set("return_documents", req.return_documents.map(Value::from));
    match v {
        Version::V1 => set(
            "max_chunks_per_doc",
            req.max_chunks_per_doc.map(Value::from),
        ),
        Version::V2 => set(
            "max_tokens_per_doc",
            req.max_tokens_per_doc.map(Value::from),
        ),
    }
    Value::Object(b)
}

/// Cohere's answer; an id made up when it has none, as LiteLLM does.
pub fn response(mut r: RerankResponse) -> RerankResponse {
    if r.id.is_empty() {
        r.id = uuid::Uuid::new_v4().to_string();
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> RerankRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn v2_unless_the_base_or_the_params_say_v1() {
        let plain = req(json!({"model": "rerank-v3.5", "query": "q", "documents": ["a"]}));
        let v1p = req(
            json!({"model": "rerank-v3.5", "query": "q", "documents": ["a"], "max_chunks_per_doc": 3}),
        );
        assert_eq!(version(None, &v1p), Version::V2);
        assert_eq!(version(Some("http://h"), &plain), Version::V2);
        assert_eq!(version(Some("http://h/v1/rerank"), &plain), Version::V1);
        assert_eq!(version(Some("http://h"), &v1p), Version::V1);
        assert_eq!(version(Some("http://h/v2/rerank/"), &v1p), Version::V2);
    }

    #[test]
    fn bodies_carry_the_known_fields_only() {
        let r = req(
            json!({"model": "rerank-v3.5", "query": "q", "documents": ["a", {"text": "b"}],
            "top_n": 1, "return_documents": true, "max_tokens_per_doc": 512, "max_chunks_per_doc": 2,
            "rank_fields": ["text"], "unknown": 1}),
        );
        assert_eq!(
            body(&r, Version::V2),
            json!({"model": "rerank-v3.5", "query": "q", "documents": ["a", {"text": "b"}], "top_n": 1,
                   "rank_fields": ["text"], "return_documents": true, "max_tokens_per_doc": 512})
        );
        assert_eq!(body(&r, Version::V1)["max_chunks_per_doc"], 2);
        assert!(body(&r, Version::V1).get("max_tokens_per_doc").is_none());
    }
}
