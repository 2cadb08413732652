//! Ollama's native API, as LiteLLM routes it: `ollama/<model>` through `/api/generate` (one
//! prompt built from the messages), `ollama_chat/<model>` through `/api/chat`; both stream
//! JSON lines, and both embed through `/api/embed`. The model travels in the body, never the URL.

pub mod completion;
pub mod pyjson;
pub mod request;
pub mod response;
pub mod stream;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, CompletionRequest, CompletionResponse,
    EmbeddingRequest, EmbeddingResponse,
};
use serde_json::{json, Value};

use super::http::{header_pairs, json, send};
use super::{Ctx, Provider};
use crate::response::Response;
use crate::stream::{ChunkStream, CompletionChunkStream};
use crate::{CallOptions, LlmError};
use request::Api;

const DEFAULT_BASE: &str = "http://localhost:11434";

/// One of the two routes: `ollama` (generate) or `ollama_chat` (chat).
pub struct Ollama {
    api: Api,
}

impl Ollama {
    pub const GENERATE: Ollama = Ollama { api: Api::Generate };
    pub const CHAT: Ollama = Ollama { api: Api::Chat };

    fn provider(&self) -> &'static str {
        match self.api {
            Api::Generate => "ollama",
            Api::Chat => "ollama_chat",
        }
    }

    /// `api_base`, else OLLAMA_API_BASE, else the local server.
    fn base(opts: &CallOptions) -> String {
        opts.api_base
            .clone()
            .or_else(|| std::env::var("OLLAMA_API_BASE").ok())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE.to_string())
            .trim_end_matches('/')
            .to_string()
    }

    /// `{base}/api/<route>`, unless the base already ends with that route (as LiteLLM).
    fn url(opts: &CallOptions, route: &str) -> String {
        let base = Self::base(opts);
        let tail = format!("/api/{route}");
        if base.ends_with(&tail) {
            return base;
        }
        // A base naming another Ollama route (`.../api/chat` used for embeddings) keeps its root.
        let root = ["/api/chat", "/api/generate", "/api/embed"]
            .iter()
            .find_map(|t| base.strip_suffix(t))
            .unwrap_or(&base);
        format!("{root}{tail}")
    }

    fn post(cx: &Ctx<'_>, url: &str, body: &Value) -> reqwest::RequestBuilder {
        let mut rb = cx.http.post(url).header("content-type", "application/json");
        let key = cx.opts.api_key.clone().or_else(|| {
            std::env::var("OLLAMA_API_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        });
        if let Some(k) = key {
            rb = rb.bearer_auth(k);
        }
        for (k, v) in &cx.opts.extra_headers {
            rb = rb.header(k, v);
        }
        rb.body(serde_json::to_vec(body).unwrap_or_default())
    }

    fn route(&self) -> &'static str {
        match self.api {
            Api::Generate => "generate",
            Api::Chat => "chat",
        }
    }
}

impl Ollama {
    /// The body for `req`; `raw` (a text completion's prompt) replaces the built prompt.
    fn body(
        &self,
        req: &ChatCompletionRequest,
        opts: &CallOptions,
        stream: bool,
        raw: Option<&str>,
    ) -> Result<Value, LlmError> {
        let mut body = request::build(req, opts, self.api, stream)
            .map_err(|e| e.with_provider(self.provider()))?;
        if let (Some(p), Api::Generate) = (raw, self.api) {
            body["prompt"] = json!(p);
        }
        Ok(body)
    }

    async fn answer(
        &self,
        cx: &Ctx<'_>,
        req: &ChatCompletionRequest,
        raw: Option<&str>,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        let name = self.provider();
        let body = self.body(req, cx.opts, false, raw)?;
        let url = Self::url(cx.opts, self.route());
        let res = send(Self::post(cx, &url, &body), name, cx.opts.timeout, true).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, name).await?;
        let now = crate::now_secs();
        let out = match self.api {
            Api::Chat => response::chat(&v, &req.model, now),
            Api::Generate => response::generate(&v, &req.model, now, body["format"] == "json"),
        };
        Ok(Response {
            body: out,
            headers,
            api_base: url,
        })
    }

    async fn stream(
        &self,
        cx: &Ctx<'_>,
        req: &ChatCompletionRequest,
        raw: Option<&str>,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let name = self.provider();
        let body = self.body(req, cx.opts, true, raw)?;
        let url = Self::url(cx.opts, self.route());
        let wait = cx.opts.stream_wait();
        let res = send(Self::post(cx, &url, &body), name, wait, false).await?;
        let headers = header_pairs(res.headers());
        let state = stream::StreamState::new(
            self.api,
            name,
            &req.model,
            crate::now_secs(),
            req.include_usage(),
        );
        Ok(Response {
            body: stream::translated(res, name, wait, state),
            headers,
            api_base: url,
        })
    }
}

#[async_trait]
impl Provider for Ollama {
    fn name(&self) -> &'static str {
        self.provider()
    }

    /// LiteLLM lists no `stream_options` for Ollama.
    fn takes_stream_options(&self) -> bool {
        false
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        Self::base(opts)
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        self.answer(cx, &req, None).await
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        self.stream(cx, &req, None).await
    }

    async fn text_completion(
        &self,
        cx: &Ctx<'_>,
        req: CompletionRequest,
    ) -> Result<Response<CompletionResponse>, LlmError> {
        let (chat, prompt) = completion::to_chat(req);
        let r = self.answer(cx, &chat, Some(&prompt)).await?;
        Ok(Response {
            body: completion::answer(r.body),
            headers: r.headers,
            api_base: r.api_base,
        })
    }

    async fn text_completion_stream(
        &self,
        cx: &Ctx<'_>,
        req: CompletionRequest,
    ) -> Result<Response<CompletionChunkStream>, LlmError> {
        let (chat, prompt) = completion::to_chat(req);
        let r = self.stream(cx, &chat, Some(&prompt)).await?;
        Ok(Response {
            body: completion::stream(r.body),
            headers: r.headers,
            api_base: r.api_base,
        })
    }

    /// `/api/embed` with every input at once; `dimensions`, `truncate`, `keep_alive` and
    /// `options` passed as Ollama names them.
    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let name = self.provider();
        let inputs = super::gemini::embedding_inputs(&req).map_err(|e| e.with_provider(name))?;
        let mut body = json!({"model": req.model, "input": inputs});
        if let Some(d) = req.dimensions {
            body["dimensions"] = json!(d);
        }
        for k in ["truncate", "keep_alive", "options", "dimensions"] {
            if let Some(v) = req.extra.get(k).or_else(|| cx.opts.extra.get(k)) {
                body[k] = v.clone();
            }
        }
        let url = Self::url(cx.opts, "embed");
        let res = send(Self::post(cx, &url, &body), name, cx.opts.timeout, true).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, name).await?;
        let vectors: Vec<Value> = v["embeddings"].as_array().cloned().unwrap_or_default();
        let tokens = v["prompt_eval_count"]
            .as_u64()
            .unwrap_or_else(|| crate::tokens::count_text(&req.model, &inputs.concat()) as u64);
        Ok(Response {
            body: super::gemini::embedding_response(
                &format!("ollama/{}", req.model),
                vectors,
                tokens,
            ),
            headers,
            api_base: url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_the_route_once() {
        let o = |b: &str| CallOptions {
            api_base: Some(b.into()),
            ..Default::default()
        };
        assert_eq!(
            Ollama::url(&o("http://h:1/"), "chat"),
            "http://h:1/api/chat"
        );
        assert_eq!(
            Ollama::url(&o("http://h:1/api/chat"), "chat"),
            "http://h:1/api/chat"
        );
        assert_eq!(
            Ollama::url(&o("http://h:1/api/chat"), "embed"),
            "http://h:1/api/embed"
        );
    }
}
