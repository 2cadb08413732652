//! Anthropic's Messages API (`POST /v1/messages`): requests, answers and streams translated
//! both ways, so OpenAI-format clients can call Claude.

pub mod generation;
pub mod names;
pub mod request;
pub mod response;
pub mod schema;
pub mod stream;
pub mod thinking;

use async_trait::async_trait;
use llmgate_types::{ChatCompletionRequest, ChatCompletionResponse};
use serde_json::Value;

use futures::StreamExt;

use super::http::{header_pairs, json, send, translated_stream};
use super::{Ctx, Provider};
use crate::messages::{EventStream, MessagesAnswer};
use crate::response::Response;
use crate::stream::ChunkStream;
use crate::{CallOptions, ErrorKind, LlmError};
use names::ToolNames;

const NAME: &str = "anthropic";
const DEFAULT_BASE: &str = "https://api.anthropic.com";
const API_VERSION: &str = "2023-06-01";
const STRUCTURED_OUTPUTS_BETA: &str = "structured-outputs-2025-11-13";

pub struct Anthropic;

impl Anthropic {
    fn key(opts: &CallOptions) -> Option<String> {
        opts.api_key.clone().or_else(|| {
            std::env::var("ANTHROPIC_API_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        })
    }

    /// `api_base` may be the host (`https://api.anthropic.com`), end in `/v1`, or be the full
    /// endpoint; LiteLLM accepts all three.
    fn url(opts: &CallOptions) -> String {
        let base = Self::base(opts);
        if base.ends_with("/v1/messages") {
            base
        } else if base.ends_with("/v1") {
            format!("{base}/messages")
        } else {
            format!("{base}/v1/messages")
        }
    }

    fn base(opts: &CallOptions) -> String {
        opts.api_base
            .clone()
            .or_else(|| std::env::var("ANTHROPIC_API_BASE").ok())
            .or_else(|| std::env::var("ANTHROPIC_BASE_URL").ok())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE.to_string())
            .trim_end_matches('/')
            .to_string()
    }

    fn request(
        cx: &Ctx<'_>,
        url: String,
        body: &Value,
        needs: &[&str],
    ) -> Result<reqwest::RequestBuilder, LlmError> {
        let key = Self::key(cx.opts).ok_or_else(|| {
            LlmError::new(
                ErrorKind::Authentication,
                "Missing Anthropic API Key - A call is being made to anthropic but no key is set either in the environment variables or via params. Please set `ANTHROPIC_API_KEY` in your environment vars",
            )
            .with_provider(NAME)
        })?;
        let mut rb = cx
            .http
            .post(url)
            .header("x-api-key", key)
            .header("content-type", "application/json");
        let has = |name: &str| {
            cx.opts
                .extra_headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        if !has("anthropic-version") {
            rb = rb.header("anthropic-version", API_VERSION);
        }
        // `anthropic-beta` and any other header the deployment sets go on as given; the betas a
        // request needs are added to them.
        let mut betas: Vec<String> = Vec::new();
        for (k, v) in &cx.opts.extra_headers {
            if k.eq_ignore_ascii_case("anthropic-beta") {
                betas.extend(v.split(',').map(|b| b.trim().to_string()));
            } else {
                rb = rb.header(k, v);
            }
        }
        if body.get("output_format").is_some() {
            betas.push(STRUCTURED_OUTPUTS_BETA.to_string());
        }
        betas.extend(needs.iter().map(|b| b.to_string()));
        let mut seen = std::collections::HashSet::new();
        betas.retain(|b| seen.insert(b.clone()));
        if !betas.is_empty() {
            rb = rb.header("anthropic-beta", betas.join(","));
        }
        Ok(rb.body(serde_json::to_vec(body).unwrap_or_default()))
    }
}

#[async_trait]
impl Provider for Anthropic {
    fn name(&self) -> &'static str {
        NAME
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        Self::url(opts)
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        let mut req = req;
        req.stream = None;
        let body = request::build(&req, &req.model, cx.opts)?;
        let mut res = complete(
            cx,
            Self::request(cx, Self::url(cx.opts), &body, &request::betas(&req))?,
            NAME,
            self.api_base(cx.opts),
        )
        .await?;
        // An assistant turn marked `prefix: true` is the start of the answer: LiteLLM gives the
        // whole text back.
        let prefix = req
            .messages
            .last()
            .filter(|m| m.role == "assistant" && m.extra.get("prefix") == Some(&Value::Bool(true)))
            .and_then(|m| match &m.content {
                Some(llmgate_types::MessageContent::Text(t)) => Some(t.clone()),
                _ => None,
            });
        let names = ToolNames::of(&req);
        for choice in &mut res.body.choices {
            if let (Some(p), Some(llmgate_types::MessageContent::Text(t))) =
                (&prefix, choice.message.content.as_mut())
            {
                if !t.starts_with(p.as_str()) {
                    t.insert_str(0, p);
                }
            }
            for call in choice.message.tool_calls.iter_mut().flatten() {
                if let Some(o) = names.original(&call.function.name) {
                    call.function.name = o.to_string();
                }
            }
        }
        Ok(res)
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let mut req = req;
        req.stream = Some(true);
        let body = request::build(&req, &req.model, cx.opts)?;
        let rb = Self::request(cx, Self::url(cx.opts), &body, &request::betas(&req))?;
        let mut res = stream(cx, rb, NAME, self.api_base(cx.opts), req.include_usage()).await?;
        let names = ToolNames::of(&req);
        if !names.is_empty() {
            // Calls come back under the names sent: the client gets its own.
            res.body = Box::pin(res.body.map(move |chunk| {
                chunk.map(|mut c| {
                    for choice in &mut c.choices {
                        for call in choice.delta.tool_calls.iter_mut().flatten() {
                            let f = call.function.as_mut();
                            if let Some(f) = f {
                                if let Some(o) = f.name.as_deref().and_then(|n| names.original(n)) {
                                    f.name = Some(o.to_string());
                                }
                            }
                        }
                    }
                    c
                })
            }));
        }
        Ok(res)
    }

    fn counts_tokens(&self) -> bool {
        true
    }

    fn speaks_messages(&self, _model: &str) -> bool {
        true
    }

    async fn messages(
        &self,
        cx: &Ctx<'_>,
        body: Value,
    ) -> Result<Response<MessagesAnswer>, LlmError> {
        let rb = Self::request(cx, Self::url(cx.opts), &body, &[])?;
        let res = send(rb, NAME, cx.opts.timeout, true).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, NAME).await?;
        Ok(Response {
            body: crate::messages::native::answer(v),
            headers,
            api_base: self.api_base(cx.opts),
        })
    }

    async fn messages_stream(
        &self,
        cx: &Ctx<'_>,
        body: Value,
    ) -> Result<Response<EventStream>, LlmError> {
        let rb = Self::request(cx, Self::url(cx.opts), &body, &[])?;
        let wait = cx.opts.stream_wait();
        let res = send(rb, NAME, wait, false).await?;
        let headers = header_pairs(res.headers());
        Ok(Response {
            body: crate::messages::native::relay(res, NAME, wait),
            headers,
            api_base: self.api_base(cx.opts),
        })
    }

    async fn messages_count_tokens(
        &self,
        cx: &Ctx<'_>,
        body: Value,
    ) -> Result<Option<u64>, LlmError> {
        let url = format!("{}/count_tokens", Self::url(cx.opts));
        let res = send(
            Self::request(cx, url, &body, &[])?,
            NAME,
            cx.opts.timeout,
            true,
        )
        .await?;
        let v: Value = json(res, NAME).await?;
        Ok(Some(v["input_tokens"].as_u64().unwrap_or(0)))
    }

    async fn count_tokens(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<u64, LlmError> {
        let body = count_tokens_body(&req, &req.model, cx.opts)?;
        let rb = Self::request(
            cx,
            format!("{}/count_tokens", Self::url(cx.opts)),
            &body,
            &request::betas(&req),
        )?;
        let res = send(rb, NAME, cx.opts.timeout, true).await?;
        let v: Value = json(res, NAME).await?;
        Ok(v["input_tokens"].as_u64().unwrap_or(0))
    }
}

/// The body of a token count: the request's model, system, messages and tools only.
pub(crate) fn count_tokens_body(
    req: &ChatCompletionRequest,
    model: &str,
    opts: &CallOptions,
) -> Result<Value, LlmError> {
    let full = request::build(req, model, opts)?;
    let mut body = serde_json::Map::new();
    for k in ["model", "system", "messages", "tools", "thinking"] {
        if let Some(v) = full.get(k) {
            body.insert(k.into(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

/// Sends a Messages request and translates the answer (shared with Claude on Vertex).
pub(crate) async fn complete(
    cx: &Ctx<'_>,
    rb: reqwest::RequestBuilder,
    provider: &'static str,
    api_base: String,
) -> Result<Response<ChatCompletionResponse>, LlmError> {
    let res = send(rb, provider, cx.opts.timeout, true).await?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, provider).await?;
    Ok(Response {
        body: response::translate(&v, crate::now_secs()),
        headers,
        api_base,
    })
}

/// Opens a Messages stream and translates it event by event (shared with Claude on Vertex).
pub(crate) async fn stream(
    cx: &Ctx<'_>,
    rb: reqwest::RequestBuilder,
    provider: &'static str,
    api_base: String,
    include_usage: bool,
) -> Result<Response<ChunkStream>, LlmError> {
    let wait = cx.opts.stream_wait();
    let res = send(rb, provider, wait, false).await?;
    let headers = header_pairs(res.headers());
    let state = stream::StreamState::new(crate::now_secs(), include_usage);
    let chunks = translated_stream(res, provider, wait, state);
    Ok(Response {
        body: Box::pin(chunks),
        headers,
        api_base,
    })
}
