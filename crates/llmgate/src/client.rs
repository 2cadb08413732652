//! The SDK entry point: resolve the model, answer mocks, call the adapter.

use std::sync::OnceLock;
use std::time::Duration;

use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, CompletionRequest, CompletionResponse,
    EmbeddingRequest, EmbeddingResponse, ImageGenerationRequest, ImageResponse, ModerationRequest,
    ModerationResponse, RerankRequest, RerankResponse, SpeechRequest,
};

use crate::media::{Audio, FormKind, FormRequest, Transcript};

use crate::providers::{resolve, Ctx, Resolved};
use crate::stream::{ChunkStream, CompletionChunkStream};
use crate::{mock, CallOptions, LlmError, Response};

/// Idle connections kept per upstream host. Each holds ~100 KB of buffers (and pins the
/// allocator pages around them): after a burst of 10 000 client connections the pool held
/// ~1 000 of them for 90-180 s (~80 MB); 128 covers a steady 128 concurrent calls per host and
/// caps that at ~12 MB. Calls beyond it open new connections. Shared with the lean client
/// (`providers/lean_post.rs`), as are the settings below.
pub(crate) const POOL_IDLE_PER_HOST: usize = 128;
pub(crate) const POOL_IDLE: Duration = Duration::from_secs(90);
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const USER_AGENT: &str = concat!("llmgate/", env!("CARGO_PKG_VERSION"));

/// Holds the pooled HTTP client; cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(POOL_IDLE_PER_HOST)
            .pool_idle_timeout(POOL_IDLE)
            .tcp_nodelay(true)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(USER_AGENT)
            // An upstream's redirect is not followed (httpx's default, as LiteLLM's handlers
            // send): it would choose a host the deployment did not name.
            .redirect(reqwest::redirect::Policy::none())
            // Each connection made is noted, for the gateway's open-connections gauge.
            .connector_layer(crate::connections::CountLayer)
            .build()
            .expect("the HTTP client builds with static settings");
        Client { http }
    }

    /// One client per process, for the free functions.
    pub fn shared() -> &'static Client {
        static C: OnceLock<Client> = OnceLock::new();
        C.get_or_init(Client::new)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn route(&self, model: &str, opts: &CallOptions) -> Result<Resolved, LlmError> {
        let custom = opts
            .extra
            .get("custom_llm_provider")
            .and_then(|v| v.as_str());
        resolve(model, custom).map_err(|e| e.with_model(model))
    }

    pub async fn chat(
        &self,
        mut req: ChatCompletionRequest,
        opts: &CallOptions,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        if let Some(m) = &opts.mock_response {
            return Ok(Response::local(mock::chat(&req, m)));
        }
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.chat(&cx, req).await
    }

    pub async fn chat_stream(
        &self,
        mut req: ChatCompletionRequest,
        opts: &CallOptions,
    ) -> Result<Response<ChunkStream>, LlmError> {
        if let Some(m) = &opts.mock_response {
            return Ok(Response::local(mock::chat_stream(&req, m)));
        }
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.chat_stream(&cx, req).await
    }

    pub async fn text_completion(
        &self,
        mut req: CompletionRequest,
        opts: &CallOptions,
    ) -> Result<Response<CompletionResponse>, LlmError> {
        if let Some(m) = &opts.mock_response {
            return Ok(Response::local(mock::text_completion(&req, m)));
        }
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.text_completion(&cx, req).await
    }

    pub async fn text_completion_stream(
        &self,
        mut req: CompletionRequest,
        opts: &CallOptions,
    ) -> Result<Response<CompletionChunkStream>, LlmError> {
        if let Some(m) = &opts.mock_response {
            return Ok(Response::local(mock::text_completion_stream(&req, m)));
        }
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.text_completion_stream(&cx, req).await
    }

    pub async fn embedding(
        &self,
        mut req: EmbeddingRequest,
        opts: &CallOptions,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        if opts.mock_response.is_some() {
            return Ok(Response::local(mock::embedding(&req)));
        }
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        let base64 = crate::embeddings::wants_base64(&req);
        let mut answer = r.provider.embedding(&cx, req).await?;
        // Upstreams that only answer floats (Gemini, Ollama, Titan, ...) still honour the
        // request's base64 (LiteLLM returns floats there).
        if base64 {
            crate::embeddings::encode_base64(&mut answer.body);
        }
        Ok(answer)
    }

    pub async fn rerank(
        &self,
        mut req: RerankRequest,
        opts: &CallOptions,
    ) -> Result<Response<RerankResponse>, LlmError> {
        if opts.mock_response.is_some() {
            return Ok(Response::local(mock::rerank(&req)));
        }
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.rerank(&cx, req).await
    }

    pub async fn image_generation(
        &self,
        mut req: ImageGenerationRequest,
        opts: &CallOptions,
    ) -> Result<Response<ImageResponse>, LlmError> {
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.image_generation(&cx, req).await
    }

    /// `/images/edits`, `/images/variations`.
    pub async fn image_form(
        &self,
        kind: FormKind,
        mut req: FormRequest,
        opts: &CallOptions,
    ) -> Result<Response<ImageResponse>, LlmError> {
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.image_form(&cx, kind, req).await
    }

    /// `/audio/transcriptions`, `/audio/translations`.
    pub async fn audio_form(
        &self,
        kind: FormKind,
        mut req: FormRequest,
        opts: &CallOptions,
    ) -> Result<Response<Transcript>, LlmError> {
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.audio_form(&cx, kind, req).await
    }

    pub async fn speech(
        &self,
        mut req: SpeechRequest,
        opts: &CallOptions,
    ) -> Result<Response<Audio>, LlmError> {
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.speech(&cx, req).await
    }

    pub async fn moderation(
        &self,
        mut req: ModerationRequest,
        opts: &CallOptions,
    ) -> Result<Response<ModerationResponse>, LlmError> {
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.moderation(&cx, req).await
    }

    /// Input tokens of a chat request, counted by the provider's own endpoint (Anthropic,
    /// Gemini, Vertex AI).
    pub async fn count_tokens(
        &self,
        mut req: ChatCompletionRequest,
        opts: &CallOptions,
    ) -> Result<u64, LlmError> {
        let r = self.route(&req.model, opts)?;
        req.model = r.model;
        let cx = Ctx {
            http: &self.http,
            opts,
        };
        r.provider.count_tokens(&cx, req).await
    }

    /// The base URL a call for `model` with `opts` would go to.
    pub fn api_base(&self, model: &str, opts: &CallOptions) -> Option<String> {
        self.route(model, opts)
            .ok()
            .map(|r| r.provider.api_base(opts))
    }
}
