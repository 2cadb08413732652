//! Google's Gemini API (AI Studio, `x-goog-api-key`). The request/response/stream translation
//! here is shared with Gemini on Vertex AI, which differs only in URL and auth ([`Target`]).

pub mod batch;
pub mod edits;
pub mod errors;
pub mod images;
pub mod media;
pub mod realtime;
pub mod request;
pub mod response;
pub mod schema;
pub mod speech;
pub mod stream;
pub mod transcribe;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingRequest, EmbeddingResponse,
};
use serde_json::{json, Value};

use super::http::{header_pairs, json, path_segment, send, translated_stream, SegmentKind};
use super::{Ctx, Provider};
use crate::response::Response;
use crate::stream::ChunkStream;
use crate::{CallOptions, ErrorKind, LlmError};

const NAME: &str = "gemini";
/// As LiteLLM: an `api_base` includes the API version (`.../v1beta`).
const DEFAULT_BASE: &str = "https://generativelanguage.googleapis.com/v1beta";

/// Where a Gemini model lives and how to authenticate there.
pub struct Target {
    /// Up to and including the model: `{api_base}/models/gemini-2.5-flash`.
    pub model_url: String,
    pub auth: Auth,
    /// The provider name errors carry.
    pub provider: &'static str,
}

pub enum Auth {
    ApiKey(String),
    Bearer(String),
}

impl Target {
    fn post(&self, cx: &Ctx<'_>, method: &str, body: &Value) -> reqwest::RequestBuilder {
        self.post_as(cx, method, body, "application/json")
    }

    fn post_as(
        &self,
        cx: &Ctx<'_>,
        method: &str,
        body: &Value,
        content_type: &str,
    ) -> reqwest::RequestBuilder {
        let url = if method == "streamGenerateContent" {
            format!("{}:{method}?alt=sse", self.model_url)
        } else {
            format!("{}:{method}", self.model_url)
        };
        let mut rb = cx.http.post(url).header("content-type", content_type);
        rb = match &self.auth {
            Auth::ApiKey(k) => rb.header("x-goog-api-key", k),
            Auth::Bearer(t) => rb.bearer_auth(t),
        };
        for (k, v) in &cx.opts.extra_headers {
            rb = rb.header(k, v);
        }
        rb.body(serde_json::to_vec(body).unwrap_or_default())
    }

    fn token(&self) -> Option<&str> {
        match &self.auth {
            Auth::Bearer(t) => Some(t),
            Auth::ApiKey(_) => None,
        }
    }
}

pub async fn chat(
    cx: &Ctx<'_>,
    mut req: ChatCompletionRequest,
    t: &Target,
) -> Result<Response<ChatCompletionResponse>, LlmError> {
    req.stream = None;
    let mcx = media::MediaCx {
        http: cx.http,
        opts: cx.opts,
        gcs_token: t.token(),
    };
    let body = request::build(&req, &mcx, t.provider)
        .await
        .map_err(|e| e.with_provider(t.provider))?;
    let res = send(
        t.post(cx, "generateContent", &body),
        t.provider,
        cx.opts.timeout,
        true,
    )
    .await
    .map_err(errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, t.provider).await?;
    Ok(Response {
        body: response::translate(&v, &req.model, crate::now_secs()),
        headers,
        api_base: t.model_url.clone(),
    })
}

pub async fn chat_stream(
    cx: &Ctx<'_>,
    req: ChatCompletionRequest,
    t: &Target,
) -> Result<Response<ChunkStream>, LlmError> {
    let mcx = media::MediaCx {
        http: cx.http,
        opts: cx.opts,
        gcs_token: t.token(),
    };
    let body = request::build(&req, &mcx, t.provider)
        .await
        .map_err(|e| e.with_provider(t.provider))?;
    let wait = cx.opts.stream_wait();
    let res = send(
        t.post(cx, "streamGenerateContent", &body),
        t.provider,
        wait,
        false,
    )
    .await
    .map_err(errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    let state = stream::StreamState::new(
        t.provider,
        &req.model,
        crate::now_secs(),
        req.include_usage(),
    );
    let chunks = translated_stream(res, t.provider, wait, state);
    Ok(Response {
        body: Box::pin(chunks),
        headers,
        api_base: t.model_url.clone(),
    })
}

/// `:countTokens` with the request's contents (and, on Vertex, its system instruction).
pub async fn count_tokens(
    cx: &Ctx<'_>,
    req: &ChatCompletionRequest,
    t: &Target,
) -> Result<u64, LlmError> {
    let mcx = media::MediaCx {
        http: cx.http,
        opts: cx.opts,
        gcs_token: t.token(),
    };
    let full = request::build(req, &mcx, t.provider).await?;
    let body = json!({"contents": full["contents"]});
    let res = send(
        t.post(cx, "countTokens", &body),
        t.provider,
        cx.opts.timeout,
        true,
    )
    .await
    .map_err(errors::litellm_class)?;
    let v: Value = json(res, t.provider).await?;
    Ok(v["totalTokens"].as_u64().unwrap_or(0))
}

/// Inputs of an embedding request as strings.
pub fn embedding_inputs(req: &EmbeddingRequest) -> Result<Vec<String>, LlmError> {
    match &req.input {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) if a.iter().all(Value::is_string) && !a.is_empty() => Ok(a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()),
        _ => Err(LlmError::bad_request(
            "input must be a string or a non-empty list of strings for this provider",
        )),
    }
}

pub fn embedding_response(model: &str, vectors: Vec<Value>, tokens: u64) -> EmbeddingResponse {
    serde_json::from_value(json!({
        "object": "list",
        "data": vectors.into_iter().enumerate().map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": v})).collect::<Vec<_>>(),
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .unwrap_or_default()
}

pub struct Gemini;

/// The deployment's AI Studio key: its `api_key`, else `GEMINI_API_KEY` / `GOOGLE_API_KEY`.
pub fn api_key(opts: &CallOptions) -> Result<String, LlmError> {
    opts.api_key
        .clone()
        .filter(|k| !k.is_empty())
        .or_else(|| {
            ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|k| !k.is_empty()))
        })
        .ok_or_else(|| {
            LlmError::new(
                ErrorKind::Authentication,
                "Missing Gemini API key: set `api_key` or GEMINI_API_KEY",
            )
            .with_provider(NAME)
        })
}

/// Where a deployment's `model` is served natively (its URL up to the model, and its key), for
/// a gateway relaying Google's own `generateContent` bodies to it.
pub fn native_target(opts: &CallOptions, model: &str) -> Result<Target, LlmError> {
    Gemini::target(opts, model)
}

impl Gemini {
    fn target(opts: &CallOptions, model: &str) -> Result<Target, LlmError> {
        let key = api_key(opts)?;
        let path = Self::model_path(model).map_err(|e| e.with_provider(NAME))?;
        Ok(Target {
            model_url: format!("{}/{path}", Self::base(opts)),
            auth: Auth::ApiKey(key),
            provider: NAME,
        })
    }

    /// `models/{id}` (a `models/` prefix accepted, as Gemini writes names) or a tuned model's
    /// `tunedModels/{id}`; any other name is refused rather than put into the URL.
    fn model_path(model: &str) -> Result<String, LlmError> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        Ok(match model.strip_prefix("tunedModels/") {
            Some(id) => format!("tunedModels/{}", path_segment(id, SegmentKind::Segment)?),
            None => format!("models/{}", path_segment(model, SegmentKind::Segment)?),
        })
    }

    fn base(opts: &CallOptions) -> String {
        opts.api_base
            .clone()
            .or_else(|| std::env::var("GEMINI_API_BASE").ok())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE.to_string())
            .trim_end_matches('/')
            .to_string()
    }
}

#[async_trait]
impl Provider for Gemini {
    fn name(&self) -> &'static str {
        NAME
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        Self::base(opts)
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        let t = Self::target(cx.opts, &req.model)?;
        chat(cx, req, &t).await
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let t = Self::target(cx.opts, &req.model)?;
        chat_stream(cx, req, &t).await
    }

    fn counts_tokens(&self) -> bool {
        true
    }

    async fn count_tokens(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<u64, LlmError> {
        let t = Self::target(cx.opts, &req.model)?;
        count_tokens(cx, &req, &t).await
    }

    async fn image_generation(
        &self,
        cx: &Ctx<'_>,
        req: llmgate_types::ImageGenerationRequest,
    ) -> Result<Response<llmgate_types::ImageResponse>, LlmError> {
        let t = Self::target(cx.opts, &req.model)?;
        images::generate(cx, req, &t, false).await
    }

    /// TTS models through `:generateContent` with an AUDIO modality (`speech.rs`).
    async fn speech(
        &self,
        cx: &Ctx<'_>,
        req: llmgate_types::SpeechRequest,
    ) -> Result<Response<crate::media::Audio>, LlmError> {
        let t = Self::target(cx.opts, &req.model)?;
        speech::speak(cx, req, &t).await
    }

    /// Transcriptions through the Interactions API (`transcribe.rs`); no translations.
    async fn audio_form(
        &self,
        cx: &Ctx<'_>,
        kind: crate::media::FormKind,
        req: crate::media::FormRequest,
    ) -> Result<Response<crate::media::Transcript>, LlmError> {
        if kind != crate::media::FormKind::Transcription {
            return Err(self.unsupported(kind.path()));
        }
        let t = Self::target(cx.opts, &req.model)?;
        transcribe::studio(cx, &Self::base(cx.opts), &req.model, &req.form, &t).await
    }

    /// Edits through `:generateContent` (`edits.rs`); no variations.
    async fn image_form(
        &self,
        cx: &Ctx<'_>,
        kind: crate::media::FormKind,
        req: crate::media::FormRequest,
    ) -> Result<Response<llmgate_types::ImageResponse>, LlmError> {
        if kind != crate::media::FormKind::ImageEdit {
            return Err(self.unsupported(kind.path()));
        }
        let t = Self::target(cx.opts, &req.model)?;
        edits::edit(cx, &req.model, &req.form, &t, false).await
    }

    /// `batchEmbedContents`, one request per input.
    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let t = Self::target(cx.opts, &req.model)?;
        let inputs = embedding_inputs(&req)?;
        let model = req.model.strip_prefix("models/").unwrap_or(&req.model);
        let dims = req
            .dimensions
            .map(|d| json!(d))
            .or_else(|| req.extra.get("dimensions").cloned());
        let requests: Vec<Value> = inputs
            .iter()
            .map(|text| {
                let mut r = json!({"model": format!("models/{model}"), "content": {"parts": [{"text": text}]}});
                if let Some(d) = &dims {
                    r["outputDimensionality"] = d.clone();
                }
                r
            })
            .collect();
        let body = json!({"requests": requests});
        let res = send(
            // LiteLLM's embedding handler names the charset.
            t.post_as(
                cx,
                "batchEmbedContents",
                &body,
                "application/json; charset=utf-8",
            ),
            NAME,
            cx.opts.timeout,
            true,
        )
        .await
        .map_err(errors::litellm_class)?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, NAME).await?;
        let vectors: Vec<Value> = v["embeddings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["values"].clone())
            .collect();
        // Google's count when it reports one, else (as LiteLLM) the inputs counted as one text.
        let tokens = v["usageMetadata"]["promptTokenCount"]
            .as_u64()
            .unwrap_or_else(|| crate::tokens::count_text(model, &inputs.concat()) as u64);
        Ok(Response {
            body: embedding_response(&req.model, vectors, tokens),
            headers,
            api_base: t.model_url,
        })
    }
}
