//! Voyage AI (`voyage/`): embeddings (`/embeddings`) and rerank (`/rerank`), as LiteLLM's
//! `VoyageEmbeddingConfig` and `VoyageRerankConfig` call them. No chat. The model travels in
//! the body, never the URL.

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

pub const NAME: &str = "voyage";
const DEFAULT_BASE: &str = "https://api.voyageai.com/v1";
const KEY_ENV: &[&str] = &["VOYAGE_API_KEY", "VOYAGE_AI_API_KEY", "VOYAGE_AI_TOKEN"];

pub struct Voyage;

/// A configured base (`api_base`, else `VOYAGE_API_BASE`), if any.
fn configured_base(opts: &CallOptions) -> Option<String> {
    opts.api_base
        .clone()
        .or_else(|| std::env::var("VOYAGE_API_BASE").ok())
        .filter(|b| !b.is_empty())
}

#[async_trait]
impl Provider for Voyage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        configured_base(opts).unwrap_or_else(|| DEFAULT_BASE.to_string())
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
        let url = embed::url(configured_base(cx.opts).as_deref());
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
        let body = rerank::body(&req)?;
        let url = rerank::url(configured_base(cx.opts).as_deref());
        let (headers, v) = call(cx, &url, &body, KEY_ENV, NAME).await?;
        Ok(Response {
            body: rerank::response(&v)?,
            headers,
            api_base: url,
        })
    }
}
