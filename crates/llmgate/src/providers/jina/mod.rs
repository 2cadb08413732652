//! Jina AI (`jina_ai/`): embeddings (`{base}/embeddings`) and rerank (`/v1/rerank` on the
//! base's host), as LiteLLM's `JinaAIEmbeddingConfig` and `JinaAIRerankConfig` call them. No
//! chat. The model travels in the body, never the URL.

pub mod embed;
pub mod rerank;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingRequest, EmbeddingResponse,
    RerankRequest, RerankResponse,
};

use super::retrieval::call;
use super::{Ctx, Provider};
use crate::response::Response;
use crate::stream::ChunkStream;
use crate::{CallOptions, LlmError};

pub const NAME: &str = "jina_ai";
const DEFAULT_BASE: &str = "https://api.jina.ai/v1";
const KEY_ENV: &[&str] = &["JINA_AI_API_KEY", "JINA_AI_TOKEN"];

pub struct Jina;

/// `api_base`, else `JINA_AI_API_BASE`, else Jina's.
fn base(opts: &CallOptions) -> String {
    opts.api_base
        .clone()
        .or_else(|| std::env::var("JINA_AI_API_BASE").ok())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_BASE.to_string())
        .trim_end_matches('/')
        .to_string()
}

#[async_trait]
impl Provider for Jina {
    fn name(&self) -> &'static str {
        NAME
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        base(opts)
    }

    async fn chat(
        &self,
        _cx: &Ctx<'_>,
        _req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        Err(self.unsupported("chat completions"))
    }

    async fn chat_stream(
        &self,
        _cx: &Ctx<'_>,
        _req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        Err(self.unsupported("chat completions"))
    }

    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let body = embed::body(&req)?;
        let url = format!("{}/embeddings", base(cx.opts));
        let (headers, v) = call(cx, &url, &body, KEY_ENV, NAME).await?;
        Ok(Response {
            body: embed::response(&v, &req.model),
            headers,
            api_base: url,
        })
    }

    async fn rerank(
        &self,
        cx: &Ctx<'_>,
        req: RerankRequest,
    ) -> Result<Response<RerankResponse>, LlmError> {
        let url = rerank::url(&base(cx.opts))?;
        let body = rerank::body(&req);
        let (headers, v) = call(cx, &url, &body, KEY_ENV, NAME).await?;
        Ok(Response {
            body: super::retrieval::rerank_answer(&v, "results")?,
            headers,
            api_base: url,
        })
    }
}
