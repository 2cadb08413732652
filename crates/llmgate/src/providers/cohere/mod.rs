//! Cohere's v2 API, as LiteLLM calls it for `cohere/` and `cohere_chat/` models: Chat
//! (`/v2/chat`, JSON or SSE events), Embed (`/v2/embed`) and Rerank (`/v2/rerank`, or v1 as
//! [`rerank::version`] decides). The model travels in the body, never the URL. `cohere_chat`
//! is chat only (LiteLLM's table gives it no embeddings or rerank).

pub mod embed;
pub mod request;
pub mod rerank;
pub mod response;
pub mod stream;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingRequest, EmbeddingResponse,
    RerankRequest, RerankResponse,
};
use serde_json::Value;

use super::http::{header_pairs, json, send, translated_stream};
use super::{Ctx, Provider};
use crate::response::Response;
use crate::stream::ChunkStream;
use crate::{CallOptions, LlmError};

pub const NAME: &str = "cohere";
const DEFAULT_BASE: &str = "https://api.cohere.com";
/// Routes a configured base may already end with (LiteLLM takes `api_base` as the whole chat
/// or embed URL, but as a root for rerank): the root is what is left.
const ROUTES: &[&str] = &[
    "/v2/chat",
    "/v1/chat",
    "/v2/embed",
    "/v1/embed",
    "/v2/rerank",
    "/v1/rerank",
];

pub struct Cohere {
    name: &'static str,
}

impl Cohere {
    pub const COHERE: Cohere = Cohere { name: "cohere" };
    pub const CHAT: Cohere = Cohere {
        name: "cohere_chat",
    };

    /// `api_base`, else COHERE_API_BASE, if either is set.
    fn configured_base(opts: &CallOptions) -> Option<String> {
        opts.api_base
            .clone()
            .or_else(|| std::env::var("COHERE_API_BASE").ok())
            .filter(|b| !b.is_empty())
    }

    fn root(opts: &CallOptions) -> String {
        let base = Self::configured_base(opts).unwrap_or_else(|| DEFAULT_BASE.to_string());
        let base = base.trim_end_matches('/');
        ROUTES
            .iter()
            .find_map(|r| base.strip_suffix(r))
            .unwrap_or(base)
            .to_string()
    }

    fn url(opts: &CallOptions, route: &str) -> String {
        format!("{}{route}", Self::root(opts))
    }

    fn post(cx: &Ctx<'_>, url: &str, body: &Value) -> reqwest::RequestBuilder {
        let mut rb = cx
            .http
            .post(url)
            .header("accept", "application/json")
            .header("content-type", "application/json");
        let key = cx.opts.api_key.clone().or_else(|| {
            ["COHERE_API_KEY", "CO_API_KEY"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|k| !k.is_empty()))
        });
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        for (k, v) in &cx.opts.extra_headers {
            rb = rb.header(k, v);
        }
        rb.body(serde_json::to_vec(body).unwrap_or_default())
    }

    /// The upstream model: LiteLLM's `v2/` route prefix dropped; its `v1/` (the legacy chat
    /// API) is not served.
    fn model(&self, model: &str) -> Result<String, LlmError> {
        if model.starts_with("v1/") {
            return Err(LlmError::bad_request(format!(
                "{}/{model}: Cohere's v1 chat API is not supported; use the v2 API (drop `v1/`)",
                self.name
            ))
            .with_provider(self.name));
        }
        Ok(model.strip_prefix("v2/").unwrap_or(model).to_string())
    }

    fn chat_only(&self, what: &str) -> Result<(), LlmError> {
        if self.name == Self::CHAT.name {
            return Err(self.unsupported(what));
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for Cohere {
    fn name(&self) -> &'static str {
        self.name
    }

    /// The usage chunk is built from `message-end` (nothing is sent upstream for it), so a
    /// gateway may always ask for it.
    fn takes_stream_options(&self) -> bool {
        true
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        Self::root(opts)
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        mut req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        req.model = self.model(&req.model)?;
        let body = request::build(&req, cx.opts, false)?;
        let url = Self::url(cx.opts, "/v2/chat");
        let res = send(
            Self::post(cx, &url, &body),
            self.name,
            cx.opts.timeout,
            true,
        )
        .await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, self.name).await?;
        Ok(Response {
            body: response::translate(&v, &req.model, crate::now_secs())
                .map_err(|e| e.with_provider(self.name))?,
            headers,
            api_base: url,
        })
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        mut req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        req.model = self.model(&req.model)?;
        let body = request::build(&req, cx.opts, true)?;
        let url = Self::url(cx.opts, "/v2/chat");
        let wait = cx.opts.stream_wait();
        let res = send(Self::post(cx, &url, &body), self.name, wait, false).await?;
        let headers = header_pairs(res.headers());
        let state = stream::StreamState::new(&req.model, crate::now_secs(), req.include_usage());
        Ok(Response {
            body: translated_stream(res, self.name, wait, state),
            headers,
            api_base: url,
        })
    }

    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        self.chat_only("embeddings")?;
        let (body, texts) = embed::body(&req)?;
        let url = Self::url(cx.opts, "/v2/embed");
        let res = send(
            Self::post(cx, &url, &body),
            self.name,
            cx.opts.timeout,
            true,
        )
        .await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, self.name).await?;
        let local = texts
            .iter()
            .map(|t| crate::tokens::count_text(&req.model, t) as u64)
            .sum();
        Ok(Response {
            body: embed::response(&v, &req.model, local),
            headers,
            api_base: url,
        })
    }

    async fn rerank(
        &self,
        cx: &Ctx<'_>,
        req: RerankRequest,
    ) -> Result<Response<RerankResponse>, LlmError> {
        self.chat_only("rerank")?;
        let version = rerank::version(Self::configured_base(cx.opts).as_deref(), &req);
        let route = match version {
            rerank::Version::V1 => "/v1/rerank",
            rerank::Version::V2 => "/v2/rerank",
        };
        let url = Self::url(cx.opts, route);
        let body = rerank::body(&req, version);
        let res = send(
            Self::post(cx, &url, &body),
            self.name,
            cx.opts.timeout,
            true,
        )
        .await?;
        let headers = header_pairs(res.headers());
        let answer: RerankResponse = json(res, self.name).await?;
        Ok(Response {
            body: rerank::response(answer),
            headers,
            api_base: url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_roots_or_whole_urls() {
        let o = |b: &str| CallOptions {
            api_base: Some(b.into()),
            ..Default::default()
        };
        assert_eq!(
            Cohere::url(&o("http://h:1/"), "/v2/chat"),
            "http://h:1/v2/chat"
        );
        assert_eq!(
            Cohere::url(&o("https://api.cohere.com/v2/chat"), "/v2/embed"),
            "https://api.cohere.com/v2/embed"
        );
        assert_eq!(
            Cohere::url(&o("http://h/v1/rerank"), "/v1/rerank"),
            "http://h/v1/rerank"
        );
    }

    #[test]
    fn model_prefixes() {
        assert_eq!(
            Cohere::COHERE.model("v2/command-r-08-2024").unwrap(),
            "command-r-08-2024"
        );
        assert_eq!(Cohere::CHAT.model("v1/command-r").unwrap_err().status, 400);
    }
}
