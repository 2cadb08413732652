//! IBM watsonx.ai, as LiteLLM routes it: `watsonx/<model>` through `/ml/v1/text/chat`
//! (`chat_stream`), `watsonx_text/<model>` through `/ml/v1/text/generation`
//! (`generation_stream`), both embedding through `/ml/v1/text/embeddings`;
//! `watsonx/deployment/<id>` through `/ml/v1/deployments/<id>/text/...`. Every URL carries
//! `?version=` (`api_version`, else LiteLLM's `2024-03-13`); auth in [`auth`]. `watsonx/`
//! also transcribes audio at `/ml/v1/audio/transcriptions` ([`audio`]).

pub mod audio;
pub mod auth;
pub mod request;
pub mod response;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingRequest, EmbeddingResponse,
};
use serde_json::Value;

use super::aws::env;
use super::http::{header_pairs, json, path_segment, send, translated_stream, whole, SegmentKind};
use super::{Ctx, Provider};
use crate::media::{multipart, FormKind, FormRequest, Transcript};
use crate::response::Response;
use crate::stream::ChunkStream;
use crate::{CallOptions, ErrorKind, LlmError};

pub const CHAT: &str = "watsonx";
pub const TEXT: &str = "watsonx_text";
/// LiteLLM's `WATSONX_DEFAULT_API_VERSION`.
pub const DEFAULT_API_VERSION: &str = "2024-03-13";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Chat,
    Text,
}

pub struct Watsonx {
    api: Api,
}

/// `watsonx_credentials.url`, `api_base`, else `WATSONX_API_BASE`, `WATSONX_URL`, `WX_URL`,
/// `WML_URL`.
fn base(opts: &CallOptions, provider: &str) -> Result<String, LlmError> {
    auth::from_credentials(opts, &["url"])
        .or_else(|| opts.api_base.clone().filter(|b| !b.is_empty()))
        .or_else(|| env("WATSONX_API_BASE"))
        .or_else(|| env("WATSONX_URL"))
        .or_else(|| env("WX_URL"))
        .or_else(|| env("WML_URL"))
        .map(|b| b.trim_end_matches('/').to_string())
        .ok_or_else(|| {
            LlmError::new(
                ErrorKind::Authentication,
                "Error: Watsonx URL not set. Set WATSONX_API_BASE in environment variables or pass in as parameter - 'api_base='.",
            )
            .with_provider(provider)
        })
}

/// `{base}/ml/v1/text/{op}` (a deployment's: `/ml/v1/deployments/{id}/text/{op}`) with the
/// version query; the deployment id passes the path guard.
fn url(opts: &CallOptions, model: &str, op: &str, provider: &str) -> Result<String, LlmError> {
    let base = base(opts, provider)?;
    let path = match request::deployment(model) {
        Some(id) => format!(
            "/ml/v1/deployments/{}/text/{op}",
            path_segment(id, SegmentKind::Segment)?
        ),
        None => format!("/ml/v1/text/{op}"),
    };
    let mut u = reqwest::Url::parse(&format!("{base}{path}")).map_err(|e| {
        LlmError::bad_request(format!("invalid watsonx api_base {base:?}: {e}"))
            .with_provider(provider)
    })?;
    let version = opts
        .api_version
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    u.query_pairs_mut().append_pair("version", &version);
    Ok(u.to_string())
}

impl Watsonx {
    pub const CHAT: Watsonx = Watsonx { api: Api::Chat };
    pub const TEXT: Watsonx = Watsonx { api: Api::Text };

    fn provider(&self) -> &'static str {
        match self.api {
            Api::Chat => CHAT,
            Api::Text => TEXT,
        }
    }

    /// A JSON POST with the call's `Authorization` (exchanged at IAM when it is an API key)
    /// and the deployment's extra headers.
    async fn post(
        cx: &Ctx<'_>,
        url: &str,
        body: &Value,
        provider: &str,
    ) -> Result<reqwest::RequestBuilder, LlmError> {
        let mut rb = cx
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json");
        if let Some(a) = auth::authorization(cx.http, cx.opts, provider).await? {
            rb = rb.header("authorization", a);
        }
        for (k, v) in &cx.opts.extra_headers {
            rb = rb.header(k, v);
        }
        Ok(rb.body(serde_json::to_vec(body).unwrap_or_default()))
    }

    /// Builds and sends the chat or generation call (everything checked before any token
    /// exchange).
    async fn call(
        &self,
        cx: &Ctx<'_>,
        req: &ChatCompletionRequest,
        stream: bool,
    ) -> Result<(reqwest::Response, String), LlmError> {
        let name = self.provider();
        let scope = request::scope(cx.opts, &req.model, name)?;
        let (body, op) = match (self.api, stream) {
            (Api::Chat, s) => (
                request::chat(req, cx.opts, &scope)?,
                if s { "chat_stream" } else { "chat" },
            ),
            (Api::Text, s) => (
                request::text(req, cx.opts, &scope)?,
                if s { "generation_stream" } else { "generation" },
            ),
        };
        let url = url(cx.opts, &req.model, op, name)?;
        let rb = Self::post(cx, &url, &body, name).await?;
        let res = if stream {
            send(rb, name, cx.opts.stream_wait(), false).await?
        } else {
            send(rb, name, cx.opts.timeout, true).await?
        };
        Ok((res, url))
    }
}

#[async_trait]
impl Provider for Watsonx {
    fn name(&self) -> &'static str {
        self.provider()
    }

    /// Neither of LiteLLM's watsonx configs lists `stream_options`.
    fn takes_stream_options(&self) -> bool {
        false
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        base(opts, self.provider()).unwrap_or_default()
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        let (res, url) = self.call(cx, &req, false).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, self.provider()).await?;
        let body = match self.api {
            Api::Chat => response::chat(v, &req.model)?,
            Api::Text => response::text(&v, &req.model)?,
        };
        Ok(Response {
            body,
            headers,
            api_base: url,
        })
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let (res, url) = self.call(cx, &req, true).await?;
        let headers = header_pairs(res.headers());
        let name = self.provider();
        let idle = cx.opts.stream_wait();
        let body = match self.api {
            Api::Chat => translated_stream(
                res,
                name,
                idle,
                response::ChatStream::new(&req.model, req.include_usage()),
            ),
            Api::Text => translated_stream(
                res,
                name,
                idle,
                response::TextStream::new(&req.model, req.include_usage()),
            ),
        };
        Ok(Response {
            body,
            headers,
            api_base: url,
        })
    }

    /// `/ml/v1/audio/transcriptions` on `watsonx/` (LiteLLM has no watsonx translations).
    async fn audio_form(
        &self,
        cx: &Ctx<'_>,
        kind: FormKind,
        mut req: FormRequest,
    ) -> Result<Response<Transcript>, LlmError> {
        let name = self.provider();
        if self.api != Api::Chat || kind != FormKind::Transcription {
            return Err(self.unsupported(kind.path()));
        }
        if request::deployment(&req.model).is_some() {
            return Err(LlmError::bad_request(
                "watsonx deployments do not serve transcriptions: name the model (watsonx/<model_id>)",
            )
            .with_provider(name));
        }
        let scope = request::scope(cx.opts, &req.model, name)?;
        let base = base(cx.opts, name)?;
        let mut url =
            reqwest::Url::parse(&format!("{base}/ml/v1/audio/transcriptions")).map_err(|e| {
                LlmError::bad_request(format!("invalid watsonx api_base {base:?}: {e}"))
                    .with_provider(name)
            })?;
        let version = cx
            .opts
            .api_version
            .clone()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
        url.query_pairs_mut().append_pair("version", &version);
        audio::form(&mut req.form, &req.model, scope.project_id.as_deref());
        let enc = multipart::encode(&req.form);
        let mut rb = cx
            .http
            .post(url.as_str())
            .header("content-type", enc.content_type.clone())
            .header("content-length", enc.len)
            .header("accept", "application/json");
        if let Some(a) = auth::authorization(cx.http, cx.opts, name).await? {
            rb = rb.header("authorization", a);
        }
        for (k, v) in &cx.opts.extra_headers {
            rb = rb.header(k, v);
        }
        let res = send(rb.body(enc.body()), name, cx.opts.timeout, true).await?;
        let (headers, content_type, body) = whole(res, "application/json", name).await?;
        Ok(Response {
            body: Transcript::new(content_type, body),
            headers,
            api_base: url.to_string(),
        })
    }

    /// `/ml/v1/text/embeddings`, usage from `input_token_count`.
    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let name = self.provider();
        if request::deployment(&req.model).is_some() {
            // watsonx has no deployment embeddings route (LiteLLM sends such a call to
            // `/text/embeddings` without a model, which watsonx refuses).
            return Err(LlmError::bad_request(
                "watsonx deployments do not serve embeddings: name the embedding model (watsonx/<model_id>)",
            )
            .with_provider(name));
        }
        let scope = request::scope(cx.opts, &req.model, name)?;
        let body = request::embedding(&req, &scope)?;
        let url = url(cx.opts, &req.model, "embeddings", name)?;
        let rb = Self::post(cx, &url, &body, name).await?;
        let res = send(rb, name, cx.opts.timeout, true).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, name).await?;
        let (vectors, tokens) = response::embedding(&v)?;
        Ok(Response {
            body: super::gemini::embedding_response(&req.model, vectors, tokens),
            headers,
            api_base: url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_the_version_and_guard_deployments() {
        let o = CallOptions {
            api_base: Some("https://us-south.ml.cloud.ibm.com/".into()),
            ..Default::default()
        };
        assert_eq!(
            url(&o, "ibm/granite-3-8b-instruct", "chat", CHAT).unwrap(),
            "https://us-south.ml.cloud.ibm.com/ml/v1/text/chat?version=2024-03-13"
        );
        assert_eq!(
            url(&o, "deployment/dep-1", "generation_stream", TEXT).unwrap(),
            "https://us-south.ml.cloud.ibm.com/ml/v1/deployments/dep-1/text/generation_stream?version=2024-03-13"
        );
        assert!(url(&o, "deployment/../x", "chat", CHAT).is_err());
        assert!(url(&o, "deployment/a/b", "chat", CHAT).is_err());
        let v = CallOptions {
            api_version: Some("2025-01-01&x=1".into()),
            ..o.clone()
        };
        assert!(url(&v, "ibm/x", "chat", CHAT)
            .unwrap()
            .ends_with("?version=2025-01-01%26x%3D1"));
        let none = CallOptions::default();
        assert_eq!(url(&none, "m", "chat", CHAT).unwrap_err().status, 401);
    }
}
