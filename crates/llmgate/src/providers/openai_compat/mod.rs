//! The OpenAI wire protocol, spoken by OpenAI and by every vendor in [`table`].

mod dashscope;
mod dashscope_edits;
mod dashscope_images;
mod dashscope_speech;
mod fim;
mod media;
mod mistral;
pub mod mistral_batch;
mod mistral_speech;
mod openai;
pub mod table;
mod table_like;
mod vendors;
mod xai_stt;

use async_trait::async_trait;
use futures::StreamExt;
use llmgate_types::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, CompletionRequest,
    CompletionResponse, EmbeddingRequest, EmbeddingResponse, ImageGenerationRequest, ImageResponse,
    ModerationRequest, ModerationResponse, RerankRequest, RerankResponse, ResponseEvent,
    ResponseObject, ResponsesRequest, SpeechRequest,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::azure::{self, auth::Header};
use super::http::{self, header_pairs, parse_json, send, sse_events};
use super::lean_post;
use super::{Ctx, Provider};
use crate::catalog::Feature;
use crate::media::{Audio, FormKind, FormRequest, Transcript};
use crate::response::Response;
use crate::responses::ResponseEventStream;
use crate::stream::{ChunkStream, CompletionChunkStream};
use crate::{CallOptions, ErrorKind, LlmError};
use table::{CompatSpec, Quirks, Style};

pub struct OpenAiCompat {
    spec: &'static CompatSpec,
}

impl OpenAiCompat {
    pub fn new(spec: &'static CompatSpec) -> Self {
        OpenAiCompat { spec }
    }

    fn key(&self, opts: &CallOptions) -> Option<String> {
        opts.api_key.clone().or_else(|| {
            self.spec
                .key_env
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|k| !k.is_empty()))
        })
    }

    fn base(&self, opts: &CallOptions) -> Result<String, LlmError> {
        let base = opts
            .api_base
            .clone()
            .or_else(|| std::env::var(self.spec.base_env).ok())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| self.spec.base_url.to_string());
        let base = self
            .spec
            .special
            .rebase(base)
            .map_err(|e| e.with_provider(self.spec.name))?;
        if base.is_empty() {
            return Err(LlmError::bad_request(format!(
                "api_base is required for {} models: set it in litellm_params or {}",
                self.spec.name, self.spec.base_env
            ))
            .with_provider(self.spec.name));
        }
        Ok(base.trim_end_matches('/').to_string())
    }

    /// The endpoint URL for `path` (`chat/completions`, `embeddings`, `completions`,
    /// `responses`): Azure's from [`azure`], every other row's under its base.
    fn url(&self, opts: &CallOptions, model: &str, path: &str) -> Result<String, LlmError> {
        let base = self.base(opts)?;
        Ok(match self.spec.style {
            Style::Azure => {
                azure::url(&base, opts, model, path).map_err(|e| e.with_provider(self.spec.name))?
            }
            _ if path == RESPONSES => format!("{base}/responses"),
            Style::AzureAi if path == media::IMAGES => azure::ai_images::url(&base, opts, model)?,
            Style::AzureAi if path == media::EDITS => azure::ai_edits::url(&base, opts, model)?,
            // LiteLLM's OpenAI client: the path under the base, as it is.
            Style::AzureAi if path == media::TRANSCRIPTIONS => format!("{base}/{path}"),
            _ if self.spec.name == xai_stt::NAME && path == media::TRANSCRIPTIONS => {
                xai_stt::url(&base)
            }
            _ if self.spec.name == dashscope::NAME
                && (path == media::IMAGES || path == media::EDITS) =>
            {
                dashscope_images::url(opts.api_base.as_deref())
            }
            _ if self.spec.name == dashscope::NAME && path == media::SPEECH => {
                dashscope_speech::url(opts.api_base.as_deref())
            }
            _ if self.spec.name == mistral_speech::NAME && path == media::SPEECH => {
                mistral_speech::url(&base)
            }
            Style::AzureAi => azure::ai::url(&base, opts, path),
            Style::Endpoint => base,
            Style::OpenAi => format!("{base}/{path}"),
        })
    }

    /// URL and auth of a call: Azure's credential from [`azure`], every other row's key as a
    /// bearer (`azure_ai`: in `api-key` on Azure hosts).
    async fn target(
        &self,
        cx: &Ctx<'_>,
        model: &str,
        path: &str,
    ) -> Result<(String, Option<Header>), LlmError> {
        let url = self.url(cx.opts, model, path)?;
        let name = self.spec.name;
        if self.spec.style == Style::Azure {
            let header = azure::header(cx, path)
                .await
                .map_err(|e| e.with_provider(name))?;
            return Ok((url, Some(header)));
        }
        let key = match self.key(cx.opts) {
            Some(k) => k,
            None if self.spec.key_required => {
                return Err(LlmError::new(
                    ErrorKind::Authentication,
                    format!(
                        "The api_key client option must be set either by passing api_key to the client or by setting the {} environment variable",
                        self.spec.key_env.first().copied().unwrap_or("API key")
                    ),
                )
                .with_provider(name));
            }
            None => return Ok((url, None)),
        };
        let header = match self.spec.style {
            // LiteLLM's Azure image calls send the key in `api-key` on any host; its
            // transcriptions go through the OpenAI client, a bearer.
            Style::AzureAi if path == media::IMAGES || path == media::EDITS => Header::ApiKey(key),
            Style::AzureAi if path == media::TRANSCRIPTIONS => Header::Bearer(key),
            Style::AzureAi => azure::ai::header(&self.base(cx.opts)?, key),
            _ => Header::Bearer(key),
        };
        Ok((url, Some(header)))
    }

    async fn request(
        &self,
        cx: &Ctx<'_>,
        model: &str,
        path: &str,
        body: &Value,
    ) -> Result<reqwest::RequestBuilder, LlmError> {
        Ok(self.start(cx, model, path).await?.json(body))
    }

    /// A POST to `path` with the row's auth and headers, its body still to set.
    async fn start(
        &self,
        cx: &Ctx<'_>,
        model: &str,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, LlmError> {
        let (url, headers) = self.lean_request(cx, model, path).await?;
        Ok(http::post(cx.http, url).headers(headers))
    }

    /// The request as the upstream gets it: unsupported params refused or dropped, renames done.
    fn body<T: Serialize>(&self, req: &T, opts: &CallOptions) -> Result<Value, LlmError> {
        self.build(req, opts, false)
    }

    /// A legacy completion, and the rewrite of its answer (or chunks): Codestral's FIM is the
    /// one row whose completions are not OpenAI's.
    fn completion_body(
        &self,
        req: &CompletionRequest,
        opts: &CallOptions,
        stream: bool,
    ) -> Result<(Value, Fix), LlmError> {
        let mut body = self.body(req, opts)?;
        if self.spec.quirks != Quirks::CodestralFim {
            return Ok((body, None));
        }
        if let Some(map) = body.as_object_mut() {
            fim::body(map, opts)?;
        }
        let fix: fn(&mut Value) = if stream { fim::chunk } else { fim::answer };
        Ok((body, Some(fix)))
    }

    /// A chat request, where a vendor's [`Quirks`] apply (its other endpoints are plain OpenAI).
    fn chat_body(
        &self,
        req: &ChatCompletionRequest,
        opts: &CallOptions,
    ) -> Result<Value, LlmError> {
        self.build(req, opts, true)
    }

    fn build<T: Serialize>(
        &self,
        req: &T,
        opts: &CallOptions,
        chat: bool,
    ) -> Result<Value, LlmError> {
        let mut v = serde_json::to_value(req)
            .map_err(|e| LlmError::bad_request(format!("invalid request: {e}")))?;
        let Some(map) = v.as_object_mut() else {
            return Ok(v);
        };
        let quirks = if chat { self.spec.quirks } else { Quirks::None };
        let azure = self.spec.style == Style::Azure;
        let family = (quirks == Quirks::OpenAi).then(|| {
            let model = map.get("model").and_then(Value::as_str).unwrap_or("");
            openai::family(azure, model)
        });
        if chat {
            // `stream: false` is the default LiteLLM does not send.
            if map.get("stream") == Some(&Value::Bool(false)) {
                map.shift_remove("stream");
            }
            for m in map
                .get_mut("messages")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object_mut)
            {
                // A tool-call turn's `content: null` is left out, as LiteLLM sends it.
                if m.get("content").is_some_and(Value::is_null) {
                    m.shift_remove("content");
                }
                // LiteLLM sends a `developer` turn as a system turn (its content only) to every
                // OpenAI-compatible model but the o-series.
                if family != Some(openai::Family::OSeries)
                    && m.get("role").and_then(Value::as_str) == Some("developer")
                {
                    let content = m.shift_remove("content").unwrap_or(Value::Null);
                    *m = Map::from_iter([
                        ("role".into(), "system".into()),
                        ("content".into(), content),
                    ]);
                }
            }
        }
        if quirks == Quirks::Mistral {
            mistral::before_check(map);
        }
        let model = map
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let model = model.as_str();
        let mut model_unsupported = match (quirks, family) {
            (Quirks::OpenAi, Some(f)) => openai::unsupported(azure, model, f),
            (Quirks::Mistral, _) => mistral::unsupported(model).to_vec(),
            _ => vec![],
        };
        // LiteLLM's Azure AI config drops `tool_choice` from the params of a model the catalog
        // does not mark as taking it.
        if quirks == Quirks::AzureAi && !self.supports(model, Feature::ToolChoice) {
            model_unsupported.push("tool_choice");
        }
        if chat && self.spec.reasoning_gated && !self.supports(model, Feature::Reasoning) {
            model_unsupported.push("reasoning_effort");
        }
        if chat && self.spec.tools_gated {
            if !self.supports(model, Feature::FunctionCalling) {
                model_unsupported.extend(["tools", "parallel_tool_calls"]);
            }
            // LiteLLM's JSON-defined vendors gate `tool_choice` with the tools themselves.
            let choice = if self.spec.special.tool_choice_with_tools {
                Feature::FunctionCalling
            } else {
                Feature::ToolChoice
            };
            if !self.supports(model, choice) {
                model_unsupported.push("tool_choice");
            }
        }
        // Never refused, only left out (LiteLLM's `PROVIDER_UNVALIDATED_PARAMS`).
        let sends_user = match family {
            Some(openai::Family::Unknown) => azure,
            _ => self.spec.sends_user,
        };
        if chat && !sends_user {
            map.shift_remove("user");
        }
        self.check_params(map, opts, &model_unsupported)?;
        if quirks == Quirks::Mistral {
            mistral::translate(map, opts).map_err(|e| e.with_provider(self.spec.name))?;
        }
        if let Some(f @ (openai::Family::OSeries | openai::Family::GptReasoning)) = family {
            openai::translate(map, f, opts).map_err(|e| e.with_provider(self.spec.name))?;
        }
        match quirks {
            Quirks::AzureAi => azure::ai::messages(map),
            Quirks::DeepSeek => {
                vendors::deepseek(map);
                vendors::deepseek_messages(map);
            }
            Quirks::OpenRouter => vendors::openrouter(map),
            Quirks::Fireworks => vendors::fireworks(map),
            Quirks::DeepInfra => vendors::deepinfra(map, opts.drop_params)
                .map_err(|e| e.with_provider(self.spec.name).with_model(model))?,
            Quirks::Groq => {
                let native = self.supports(model, Feature::ResponseSchema);
                vendors::groq(map, native).map_err(|e| e.with_provider(self.spec.name))?;
            }
            _ => {}
        }
        if self.spec.max_tokens_only {
            if let Some(m) = map.shift_remove("max_completion_tokens") {
                map.entry("max_tokens").or_insert(m);
            }
        }
        if chat {
            self.spec.special.apply(map);
        }
        // Azure: the deployment is in the URL, and `model` stays in the body too (Azure ignores
        // it; LiteLLM sends it).
        Ok(v)
    }

    /// Whether the catalog marks `model` of this vendor with `feature` (an unknown model has none).
    fn supports(&self, model: &str, feature: Feature) -> bool {
        crate::catalog::global()
            .get_for(self.spec.name, model)
            .is_some_and(|m| m.supports(feature))
    }

    /// Refuses (or drops) the row's unsupported params and `model_unsupported`, the model's.
    fn check_params(
        &self,
        map: &mut Map<String, Value>,
        opts: &CallOptions,
        model_unsupported: &[&'static str],
    ) -> Result<(), LlmError> {
        let mut present: Vec<&str> = Vec::new();
        // n = 1 is the default: where `n` is unsupported LiteLLM leaves it out, silently.
        let unsupported = || self.spec.unsupported.iter().chain(model_unsupported);
        if map.get("n").and_then(Value::as_u64) == Some(1) && unsupported().any(|p| *p == "n") {
            map.shift_remove("n");
        }
        for p in unsupported() {
            if map.get(*p).is_some_and(|v| !v.is_null()) && !present.contains(p) {
                present.push(p);
            }
        }
        if present.is_empty() {
            return Ok(());
        }
        if opts.drop_params {
            for p in present {
                map.shift_remove(p);
            }
            return Ok(());
        }
        let model = map.get("model").and_then(|m| m.as_str()).unwrap_or("");
        Err(LlmError::unsupported_params(self.spec.name, &present, model).with_model(model))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        cx: &Ctx<'_>,
        model: &str,
        path: &str,
        body: Value,
        fix: Fix,
    ) -> Result<Response<T>, LlmError> {
        let (headers, bytes) = self.post(cx, model, path, &body).await?;
        let body = match fix {
            None => parse_json(&bytes, self.spec.name)?,
            Some(fix) => {
                let mut v: Value = parse_json(&bytes, self.spec.name)?;
                fix(&mut v);
                serde_json::from_value(v).map_err(|e| {
                    LlmError::new(
                        ErrorKind::InternalServer,
                        format!("could not parse the upstream answer: {e}"),
                    )
                    .with_provider(self.spec.name)
                })?
            }
        };
        Ok(Response {
            body,
            headers,
            api_base: self.api_base(cx.opts),
        })
    }

    /// POSTs `body` and reads the whole answer: on the lean client ([`lean_post`]) unless a
    /// proxy is configured.
    async fn post(
        &self,
        cx: &Ctx<'_>,
        model: &str,
        path: &str,
        body: &Value,
    ) -> Result<(Vec<(String, String)>, bytes::Bytes), LlmError> {
        let name = self.spec.name;
        let Some(lean) = lean_post::client() else {
            let rb = self.request(cx, model, path, body).await?;
            let res = send(rb, name, cx.opts.timeout, true).await?;
            let headers = header_pairs(res.headers());
            let bytes = res
                .bytes()
                .await
                .map_err(|e| LlmError::from_transport(&e, name))?;
            return Ok((headers, bytes));
        };
        let (url, h) = self.lean_request(cx, model, path).await?;
        let body = to_json(body, name)?;
        let r = lean.post_json(&url, h, body, cx.opts.timeout, name).await?;
        Ok((r.headers, r.body))
    }

    /// The URL and headers of a call (the row's auth, organization, extra headers), for the
    /// lean client or reqwest's ([`Self::start`]).
    async fn lean_request(
        &self,
        cx: &Ctx<'_>,
        model: &str,
        path: &str,
    ) -> Result<(String, ::http::HeaderMap), LlmError> {
        let (url, header) = self.target(cx, model, path).await?;
        let mut h = ::http::HeaderMap::new();
        if let Some(header) = header {
            let (n, v) = header.pair();
            lean_post::insert(&mut h, n, &v)?;
        }
        if let Some(org) = &cx.opts.organization {
            lean_post::insert(&mut h, "OpenAI-Organization", org)?;
        }
        for (k, v) in &cx.opts.extra_headers {
            lean_post::insert(&mut h, k, v)?;
        }
        Ok((url, h))
    }

    /// Opens a stream and decodes each SSE event as `T` until `[DONE]`.
    async fn stream<T: DeserializeOwned + Send + 'static>(
        &self,
        cx: &Ctx<'_>,
        model: &str,
        path: &str,
        body: Value,
        fix: Fix,
    ) -> Result<
        Response<std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, LlmError>> + Send>>>,
        LlmError,
    > {
        let wait = cx.opts.stream_wait();
        let provider = self.spec.name;
        let (headers, events) = match lean_post::client() {
            Some(lean) => {
                let (url, h) = self.lean_request(cx, model, path).await?;
                let body = to_json(&body, provider)?;
                let r = lean.post_sse(&url, h, body, wait, provider).await?;
                (r.headers, r.body)
            }
            None => {
                let rb = self.request(cx, model, path, &body).await?;
                let res = send(rb, provider, wait, false).await?;
                let headers = header_pairs(res.headers());
                let events: lean_post::SseStream = Box::pin(sse_events(res, provider, wait));
                (headers, events)
            }
        };
        let mut usage = StreamUsage::new(path == "chat/completions");
        let chunks = events
            .take_while(|ev| {
                let done = matches!(ev, Ok(e) if e.data.trim() == "[DONE]");
                futures::future::ready(!done)
            })
            .filter_map(move |ev| {
                futures::future::ready(match ev {
                    Err(e) => Some(Err(e)),
                    Ok(e) if e.data.trim().is_empty() => None,
                    Ok(e) => Some(decode_event::<T>(&e.data, provider, fix, &mut usage)),
                })
            });
        Ok(Response {
            body: Box::pin(chunks),
            headers,
            api_base: self.api_base(cx.opts),
        })
    }
}

/// A request body as JSON bytes.
fn to_json(body: &Value, provider: &str) -> Result<Vec<u8>, LlmError> {
    serde_json::to_vec(body).map_err(|e| {
        LlmError::new(ErrorKind::InternalServer, e.to_string()).with_provider(provider)
    })
}

/// The path of the Responses API (its URL is built apart: Azure's is not deployment-scoped).
const RESPONSES: &str = "responses";

/// A vendor's rewrite of an answer or a stream chunk, before it is decoded.
type Fix = Option<fn(&mut Value)>;

impl Quirks {
    fn answer(self) -> Fix {
        match self {
            Quirks::Mistral => Some(|v| {
                mistral::answer(v);
                provider_fields(v);
            }),
            Quirks::Groq => Some(|v| {
                vendors::groq_answer(v);
                provider_fields(v);
            }),
            _ => Some(provider_fields),
        }
    }

    fn chunk(self) -> Fix {
        match self {
            Quirks::Mistral => Some(mistral::chunk),
            _ => None,
        }
    }
}

/// The fields of a choice and of its message that LiteLLM's response objects model; it moves
/// any other field a vendor sends (Azure's `content_filter_results`, ...) into that object's
/// `provider_specific_fields`.
const CHOICE_FIELDS: &[&str] = &[
    "finish_reason",
    "index",
    "message",
    "logprobs",
    "provider_specific_fields",
];
const MESSAGE_FIELDS: &[&str] = &[
    "annotations",
    "audio",
    "content",
    "function_call",
    "images",
    "provider_specific_fields",
    "reasoning_content",
    "reasoning_items",
    "refusal",
    "role",
    "thinking_blocks",
    "tool_calls",
];

/// An answer's choices and messages as LiteLLM returns them: vendor fields moved into
/// `provider_specific_fields`, a message's `reasoning` (vLLM, OpenRouter) read as
/// `reasoning_content`.
fn provider_fields(v: &mut Value) {
    for choice in v
        .get_mut("choices")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        if let Some(msg) = choice.get_mut("message").and_then(Value::as_object_mut) {
            if !msg.contains_key("reasoning_content") {
                if let Some(r) = msg.get("reasoning").filter(|r| r.is_string()).cloned() {
                    msg.insert("reasoning_content".into(), r);
                }
            }
            move_extras(msg, MESSAGE_FIELDS);
        }
        move_extras(choice, CHOICE_FIELDS);
    }
}

/// [`provider_fields`] on a typed answer (unmodelled fields are in the `extra` maps already;
/// a message's `name` and `tool_call_id`, typed for requests, are vendor fields here too).
fn provider_fields_typed(a: &mut ChatCompletionResponse) {
    for choice in &mut a.choices {
        let msg = &mut choice.message;
        if msg.reasoning_content.is_none() {
            if let Some(Value::String(r)) = msg.extra.get("reasoning") {
                msg.reasoning_content = Some(r.clone());
            }
        }
        if let Some(n) = msg.name.take() {
            msg.extra.insert("name".into(), Value::String(n));
        }
        if let Some(id) = msg.tool_call_id.take() {
            msg.extra.insert("tool_call_id".into(), Value::String(id));
        }
        move_extras(&mut msg.extra, MESSAGE_FIELDS);
        move_extras(&mut choice.extra, CHOICE_FIELDS);
    }
}

fn move_extras(o: &mut Map<String, Value>, modelled: &[&str]) {
    let extra: Vec<String> = o
        .keys()
        .filter(|k| !modelled.contains(&k.as_str()))
        .cloned()
        .collect();
    if extra.is_empty() {
        return;
    }
    let mut fields = match o.shift_remove("provider_specific_fields") {
        Some(Value::Object(f)) => f,
        _ => Map::new(),
    };
    for k in extra {
        if let Some(x) = o.shift_remove(&k) {
            fields.insert(k, x);
        }
    }
    o.insert("provider_specific_fields".into(), Value::Object(fields));
}

/// Delta fields that make a chat stream more than text (LiteLLM's `_NON_TEXT_DELTA_FIELDS`).
const NON_TEXT_DELTA_FIELDS: &[&str] = &[
    "tool_calls",
    "function_call",
    "reasoning_content",
    "reasoning_items",
    "thinking_blocks",
    "annotations",
    "audio",
    "images",
    "provider_specific_fields",
    "refusal",
];

/// What LiteLLM's stream builder adds to an upstream usage without `completion_tokens_details`
/// (Mistral's, most vendors'): `reasoning_tokens` (0 for a text-only stream, else the tokens of
/// the streamed reasoning) and `text_tokens`, the rest of the completion.
struct StreamUsage {
    chat: bool,
    plain: bool,
    reasoning: String,
}

impl StreamUsage {
    fn new(chat: bool) -> Self {
        StreamUsage {
            chat,
            plain: true,
            reasoning: String::new(),
        }
    }

    fn observe(&mut self, chunk: &mut Value) {
        if !self.chat {
            return;
        }
        for delta in chunk
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("delta"))
        {
            if NON_TEXT_DELTA_FIELDS
                .iter()
                .any(|f| delta.get(*f).is_some_and(|v| !v.is_null()))
            {
                self.plain = false;
            }
            if let Some(r) = delta.get("reasoning_content").and_then(Value::as_str) {
                self.reasoning.push_str(r);
            }
        }
        let Some(usage) = chunk.get_mut("usage").and_then(Value::as_object_mut) else {
            return;
        };
        if usage
            .get("completion_tokens_details")
            .is_some_and(|d| !d.is_null())
        {
            return;
        }
        let reasoning = if self.plain {
            0
        } else if !self.reasoning.is_empty() {
            crate::tokens::count_text("", &self.reasoning) as u64
        } else {
            return;
        };
        let completion = usage
            .get("completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let reasoning = reasoning.min(completion);
        usage.insert(
            "completion_tokens_details".into(),
            serde_json::json!({"reasoning_tokens": reasoning, "text_tokens": completion - reasoning}),
        );
    }
}

/// One stream event: a chunk, or an error object sent mid-stream.
fn decode_event<T: DeserializeOwned>(
    data: &str,
    provider: &str,
    fix: Fix,
    usage: &mut StreamUsage,
) -> Result<T, LlmError> {
    let mut v: Value = serde_json::from_str(data).map_err(|e| {
        LlmError::new(
            ErrorKind::InternalServer,
            format!("could not parse a stream chunk: {e}: {data}"),
        )
        .with_provider(provider)
    })?;
    if let Some(err) = v.get("error") {
        let status = err
            .get("code")
            .and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()))
            .filter(|s| (400..600).contains(s))
            .unwrap_or(500) as u16;
        return Err(LlmError::from_upstream(
            status,
            vec![],
            data.as_bytes(),
            provider,
        ));
    }
    if let Some(fix) = fix {
        fix(&mut v);
    }
    usage.observe(&mut v);
    serde_json::from_value(v).map_err(|e| {
        LlmError::new(
            ErrorKind::InternalServer,
            format!("unexpected stream chunk: {e}: {data}"),
        )
        .with_provider(provider)
    })
}

#[async_trait]
impl Provider for OpenAiCompat {
    fn name(&self) -> &'static str {
        self.spec.name
    }

    fn takes_stream_options(&self) -> bool {
        self.spec.stream_options
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        self.base(opts).unwrap_or_default()
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        let body = self.chat_body(&req, cx.opts)?;
        if matches!(self.spec.quirks, Quirks::Mistral | Quirks::Groq) {
            return self
                .call(
                    cx,
                    &req.model,
                    "chat/completions",
                    body,
                    self.spec.quirks.answer(),
                )
                .await;
        }
        // Everyone else's answer needs only `provider_fields`: done on the typed answer, so
        // the bytes are parsed once, straight into it.
        let mut r: Response<ChatCompletionResponse> = self
            .call(cx, &req.model, "chat/completions", body, None)
            .await?;
        provider_fields_typed(&mut r.body);
        Ok(r)
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let body = self.chat_body(&req, cx.opts)?;
        let fix = self.spec.quirks.chunk();
        let r = self
            .stream::<ChatCompletionChunk>(cx, &req.model, "chat/completions", body, fix)
            .await?;
        Ok(r)
    }

    async fn text_completion(
        &self,
        cx: &Ctx<'_>,
        req: CompletionRequest,
    ) -> Result<Response<CompletionResponse>, LlmError> {
        let (body, fix) = self.completion_body(&req, cx.opts, false)?;
        self.call(cx, &req.model, "completions", body, fix).await
    }

    async fn text_completion_stream(
        &self,
        cx: &Ctx<'_>,
        req: CompletionRequest,
    ) -> Result<Response<CompletionChunkStream>, LlmError> {
        let (body, fix) = self.completion_body(&req, cx.opts, true)?;
        self.stream::<CompletionResponse>(cx, &req.model, "completions", body, fix)
            .await
    }

    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let body = self.body(&req, cx.opts)?;
        let mut r: Response<EmbeddingResponse> =
            self.call(cx, &req.model, "embeddings", body, None).await?;
        if self.spec.style == Style::AzureAi {
            azure::ai::embedding_answer(&mut r.body, &r.headers);
        }
        Ok(r)
    }

    /// DashScope's rerank API ([`dashscope`]); no other row has one.
    async fn rerank(
        &self,
        cx: &Ctx<'_>,
        req: RerankRequest,
    ) -> Result<Response<RerankResponse>, LlmError> {
        if self.spec.name != dashscope::NAME {
            return Err(self.unsupported("rerank"));
        }
        dashscope::rerank(self, cx, req).await
    }

    async fn image_generation(
        &self,
        cx: &Ctx<'_>,
        req: ImageGenerationRequest,
    ) -> Result<Response<ImageResponse>, LlmError> {
        media::image_generation(self, cx, req).await
    }

    async fn image_form(
        &self,
        cx: &Ctx<'_>,
        kind: FormKind,
        req: FormRequest,
    ) -> Result<Response<ImageResponse>, LlmError> {
        media::image_form(self, cx, kind, req).await
    }

    async fn audio_form(
        &self,
        cx: &Ctx<'_>,
        kind: FormKind,
        req: FormRequest,
    ) -> Result<Response<Transcript>, LlmError> {
        media::audio_form(self, cx, kind, req).await
    }

    async fn speech(&self, cx: &Ctx<'_>, req: SpeechRequest) -> Result<Response<Audio>, LlmError> {
        media::speech(self, cx, req).await
    }

    async fn moderation(
        &self,
        cx: &Ctx<'_>,
        req: ModerationRequest,
    ) -> Result<Response<ModerationResponse>, LlmError> {
        media::moderation(self, cx, req).await
    }

    fn native_responses(&self) -> bool {
        matches!(self.spec.name, "openai" | "azure")
    }

    async fn responses(
        &self,
        cx: &Ctx<'_>,
        req: ResponsesRequest,
    ) -> Result<Response<ResponseObject>, LlmError> {
        let body = serde_json::to_value(&req)
            .map_err(|e| LlmError::bad_request(format!("invalid request: {e}")))?;
        self.call(cx, &req.model, RESPONSES, body, None).await
    }

    async fn responses_stream(
        &self,
        cx: &Ctx<'_>,
        req: ResponsesRequest,
    ) -> Result<Response<ResponseEventStream>, LlmError> {
        let body = serde_json::to_value(&req)
            .map_err(|e| LlmError::bad_request(format!("invalid request: {e}")))?;
        let r = self
            .stream::<ResponseEvent>(cx, &req.model, RESPONSES, body, None)
            .await?;
        let provider = self.spec.name;
        Ok(Response {
            body: crate::responses::native_failures(r.body, provider),
            headers: r.headers,
            api_base: r.api_base,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> &'static CompatSpec {
        table::PROVIDERS.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn unsupported_params_fail_or_drop() {
        let p = OpenAiCompat::new(spec("cerebras"));
        let req = ChatCompletionRequest {
            model: "llama3.1-8b".into(),
            logit_bias: Some(serde_json::json!({"1": 2})),
            max_completion_tokens: Some(5),
            ..Default::default()
        };
        let e = p.body(&req, &CallOptions::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnsupportedParams);
        assert!(e.message.contains("logit_bias"));
        let opts = CallOptions {
            drop_params: true,
            ..Default::default()
        };
        let b = p.body(&req, &opts).unwrap();
        assert!(b.get("logit_bias").is_none());
        assert_eq!(b["max_tokens"], 5);
        assert!(b.get("max_completion_tokens").is_none());
    }

    #[test]
    fn unknown_fields_are_forwarded() {
        let p = OpenAiCompat::new(spec("openai"));
        let mut req = ChatCompletionRequest {
            model: "gpt-4o".into(),
            ..Default::default()
        };
        req.extra
            .insert("prediction".into(), serde_json::json!({"type": "content"}));
        let b = p.body(&req, &CallOptions::default()).unwrap();
        assert_eq!(b["prediction"]["type"], "content");
    }

    #[test]
    fn an_azure_filter_error_mid_stream_is_a_content_policy_violation() {
        let data = r#"{"error": {"message": "The response was filtered", "code": "content_filter", "status": 400, "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered": true, "severity": "high"}}}}}"#;
        let mut usage = StreamUsage::new(true);
        let e = decode_event::<ChatCompletionChunk>(data, "azure", None, &mut usage).unwrap_err();
        assert_eq!(e.kind, ErrorKind::ContentPolicyViolation);
        assert_eq!(e.status, 400);
        let f = e.provider_fields.as_ref().unwrap();
        assert_eq!(f["innererror"]["code"], "ResponsibleAIPolicyViolation");
    }
}
