//! `POST /v1/rerank`, as LiteLLM's `JinaAIRerankConfig`: the base's path replaced by
//! `/v1/rerank`; the body carries the model and the request's `query`, `documents`, `top_n`
//! and `return_documents` only. Jina's `results` are Cohere's already (a string document
//! becomes `{"text": ...}`); `usage.total_tokens` is what the call is billed by.

use llmgate_types::RerankRequest;
use serde_json::{json, Map, Value};

use crate::LlmError;

/// The base's scheme, host and port with the path `/v1/rerank`, as LiteLLM builds it.
pub fn url(base: &str) -> Result<String, LlmError> {
    let mut u = reqwest::Url::parse(base).map_err(|e| {
        LlmError::bad_request(format!("jina_ai api_base {base:?} is not a URL: {e}"))
            .with_provider(super::NAME)
    })?;
    u.set_path("/v1/rerank");
    u.set_query(None);
    Ok(u.to_string())
}

pub fn body(req: &RerankRequest) -> Value {
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    b.insert("query".into(), json!(req.query));
    b.insert("documents".into(), json!(req.documents()));
    if let Some(n) = req.top_n {
        b.insert("top_n".into(), json!(n));
    }
    if let Some(r) = req.return_documents {
        b.insert("return_documents".into(), json!(r));
    }
    Value::Object(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::retrieval::rerank_answer;

    #[test]
    fn the_path_is_always_v1_rerank() {
        assert_eq!(
            url("https://api.jina.ai/v1").unwrap(),
            "https://api.jina.ai/v1/rerank"
        );
        assert_eq!(
            url("http://127.0.0.1:9/jina/v1").unwrap(),
            "http://127.0.0.1:9/v1/rerank"
        );
        assert_eq!(url("nope").unwrap_err().status, 400);
    }

    #[test]
    fn bodies_and_answers() {
        let r: RerankRequest = serde_json::from_value(json!({"model": "jina-reranker-m0",
            "query": "q", "documents": ["a", "b"], "top_n": 1, "rank_fields": ["t"]}))
        .unwrap();
        assert_eq!(
            body(&r),
            json!({"model": "jina-reranker-m0", "query": "q", "documents": ["a", "b"], "top_n": 1})
        );
        let v = json!({"model": "jina-reranker-m0", "usage": {"total_tokens": 9},
            "results": [{"index": 0, "relevance_score": 0.7, "document": {"text": "a"}}]});
        let a = rerank_answer(&v, "results").unwrap();
        assert_eq!(a.results[0].document, Some(json!({"text": "a"})));
        assert_eq!(a.usage().prompt_tokens, 9);
    }
}
