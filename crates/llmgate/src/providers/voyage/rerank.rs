//! `POST /v1/rerank`, as LiteLLM's `VoyageRerankConfig`: `top_n` as `top_k`,
//! `return_documents` (LiteLLM's default `true` when the request leaves it out), other rerank
//! params dropped; Voyage's `data` → Cohere's `results`, `usage.total_tokens` as the billed
//! tokens (Voyage prices rerank per token).

use llmgate_types::{RerankRequest, RerankResponse};
use serde_json::{json, Map, Value};

use crate::LlmError;

/// LiteLLM's URL rule: the base as it is if it ends with `/v1/rerank`, else `/rerank` after a
/// `/v1`, else `/v1/rerank`.
pub fn url(base: Option<&str>) -> String {
    let Some(base) = base.map(|b| b.trim_end_matches('/')) else {
        return format!("{}/rerank", super::DEFAULT_BASE);
    };
    if base.ends_with("/v1/rerank") {
        base.to_string()
    } else if base.ends_with("/v1") {
        format!("{base}/rerank")
    } else {
        format!("{base}/v1/rerank")
    }
}

pub fn body(req: &RerankRequest) -> Result<Value, LlmError> {
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    b.insert("query".into(), json!(req.query));
    b.insert("documents".into(), json!(req.documents()));
    if let Some(n) = req.top_n {
        b.insert("top_k".into(), json!(n));
    }
    b.insert(
        "return_documents".into(),
        json!(req.return_documents.unwrap_or(true)),
    );
    Ok(Value::Object(b))
}

/// Voyage's answer in Cohere's shape; a string document becomes `{"text": ...}`.
pub fn response(v: &Value) -> Result<RerankResponse, LlmError> {
    crate::providers::retrieval::rerank_answer(v, "data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_litellm_builds_them() {
        assert_eq!(url(None), "https://api.voyageai.com/v1/rerank");
        assert_eq!(url(Some("http://h/v1/")), "http://h/v1/rerank");
        assert_eq!(url(Some("http://h")), "http://h/v1/rerank");
        assert_eq!(url(Some("http://h/v1/rerank")), "http://h/v1/rerank");
    }

    #[test]
    fn bodies_use_top_k_and_return_documents_by_default() {
        let r: RerankRequest = serde_json::from_value(json!({"model": "rerank-2.5", "query": "q",
            "documents": ["a", "b"], "top_n": 1, "max_tokens_per_doc": 9, "rank_fields": ["x"]}))
        .unwrap();
        assert_eq!(
            body(&r).unwrap(),
            json!({"model": "rerank-2.5", "query": "q", "documents": ["a", "b"], "top_k": 1,
                   "return_documents": true})
        );
    }

    #[test]
    fn answers_become_cohere_results_with_tokens() {
        let v = json!({"object": "list", "model": "rerank-2.5", "usage": {"total_tokens": 12},
            "data": [{"index": 1, "relevance_score": 0.9, "document": "b"},
                     {"index": 0, "relevance_score": 0.2}]});
        let r = response(&v).unwrap();
        assert_eq!(r.results[0].index, 1);
        assert_eq!(r.results[0].document, Some(json!({"text": "b"})));
        assert!(r.results[1].document.is_none());
        assert!(!r.id.is_empty());
        let u = r.usage();
        assert_eq!(u.prompt_tokens, 12);
        assert_eq!(u.extra[llmgate_types::rerank::SEARCH_UNITS], 1);
        assert!(response(&json!({"detail": "x"})).is_err());
    }
}
