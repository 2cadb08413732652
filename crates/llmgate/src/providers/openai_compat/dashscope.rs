//! DashScope's rerank (`qwen3-rerank`, `gte-rerank-v2`), as LiteLLM's `DashScopeRerankConfig`
//! calls it: `POST /compatible-api/v1/reranks` (not under the chat row's `/compatible-mode/v1`)
//! with `model`, `query`, `documents`, `top_n` and `return_documents` (LiteLLM's default
//! `true` when the request leaves it out); `results` are Cohere's, `usage.total_tokens` the
//! billed tokens. Chat and embeddings are the row's plain OpenAI protocol.

use llmgate_types::{RerankRequest, RerankResponse};
use serde_json::{json, Value};

use super::OpenAiCompat;
use crate::providers::retrieval::{call, rerank_answer};
use crate::providers::Ctx;
use crate::response::Response;
use crate::LlmError;

pub const NAME: &str = "dashscope";
const DEFAULT_RERANK_URL: &str = "https://dashscope.aliyuncs.com/compatible-api/v1/reranks";

/// `api_base` (else `DASHSCOPE_API_BASE_RERANK`, else DashScope's URL): as it is when it ends
/// with `/reranks` or `/rerank`, else with `/reranks` appended.
pub fn url(api_base: Option<&str>) -> String {
    let base = api_base
        .map(str::to_string)
        .or_else(|| std::env::var("DASHSCOPE_API_BASE_RERANK").ok())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_RERANK_URL.to_string());
    let base = base.trim_end_matches('/');
    if base.ends_with("/reranks") || base.ends_with("/rerank") {
        base.to_string()
    } else {
        format!("{base}/reranks")
    }
}

pub fn body(req: &RerankRequest) -> Value {
    let mut b = json!({"model": req.model, "query": req.query, "documents": req.documents()});
    if let Some(n) = req.top_n {
        b["top_n"] = json!(n);
    }
    b["return_documents"] = json!(req.return_documents.unwrap_or(true));
    b
}

pub async fn rerank(
    p: &OpenAiCompat,
    cx: &Ctx<'_>,
    req: RerankRequest,
) -> Result<Response<RerankResponse>, LlmError> {
    let url = url(cx.opts.api_base.as_deref());
    let body = body(&req);
    let (headers, v) = call(cx, &url, &body, p.spec.key_env, NAME).await?;
    Ok(Response {
        body: rerank_answer(&v, "results").map_err(|e| e.with_provider(NAME))?,
        headers,
        api_base: url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_litellm_builds_them() {
        assert_eq!(
            url(Some("http://h/compatible-api/v1")),
            "http://h/compatible-api/v1/reranks"
        );
        assert_eq!(url(Some("http://h/x/reranks/")), "http://h/x/reranks");
        assert_eq!(url(Some("http://h/rerank")), "http://h/rerank");
    }

    #[test]
    fn bodies_return_documents_by_default() {
        let r: RerankRequest = serde_json::from_value(json!({"model": "qwen3-rerank",
            "query": "q", "documents": ["a"], "top_n": 1, "max_tokens_per_doc": 3}))
        .unwrap();
        assert_eq!(
            body(&r),
            json!({"model": "qwen3-rerank", "query": "q", "documents": ["a"], "top_n": 1,
                   "return_documents": true})
        );
    }
}
