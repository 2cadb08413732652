//! The trait every provider protocol implements, and what an adapter gets with a request.

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, CompletionRequest, CompletionResponse,
    EmbeddingRequest, EmbeddingResponse, ImageGenerationRequest, ImageResponse, ModerationRequest,
    ModerationResponse, RerankRequest, RerankResponse, ResponseObject, ResponsesRequest,
    SpeechRequest,
};

use crate::media::{Audio, FormKind, FormRequest, Transcript};

use crate::messages::{EventStream, MessagesAnswer};
use crate::response::Response;
use crate::responses::ResponseEventStream;
use crate::stream::{ChunkStream, CompletionChunkStream};
use crate::{CallOptions, ErrorKind, LlmError};

/// What an adapter gets besides the request: the pooled HTTP client and the call options.
pub struct Ctx<'a> {
    pub http: &'a reqwest::Client,
    pub opts: &'a CallOptions,
}

/// One provider protocol. `req.model` is the upstream's model name (prefix stripped).
#[async_trait]
pub trait Provider: Send + Sync {
    /// The prefix users write (`openai`, `groq`, ...).
    fn name(&self) -> &'static str;

    /// Whether a gateway may add `stream_options.include_usage` to a stream the client did not
    /// ask usage of (LiteLLM's proxy does where the provider's params list `stream_options`).
    fn takes_stream_options(&self) -> bool {
        true
    }

    /// The base URL a call with these options goes to (shown as `x-litellm-model-api-base`).
    fn api_base(&self, opts: &CallOptions) -> String;

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError>;

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError>;

    /// Without a text-completion API of its own, a provider answers through its chat, as
    /// LiteLLM does ([`crate::completions`]).
    async fn text_completion(
        &self,
        cx: &Ctx<'_>,
        req: CompletionRequest,
    ) -> Result<Response<CompletionResponse>, LlmError> {
        crate::completions::via_chat(self, cx, req).await
    }

    async fn text_completion_stream(
        &self,
        cx: &Ctx<'_>,
        req: CompletionRequest,
    ) -> Result<Response<CompletionChunkStream>, LlmError> {
        crate::completions::via_chat_stream(self, cx, req).await
    }

    async fn embedding(
        &self,
        _cx: &Ctx<'_>,
        _req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        Err(self.unsupported("embeddings"))
    }

    /// Ranks `req.documents` against `req.query` (the `/rerank` endpoint, Cohere's shape).
    /// A provider with a rerank API translates to and from these types; `usage()` of the
    /// answer is what the call is priced by.
    async fn rerank(
        &self,
        _cx: &Ctx<'_>,
        _req: RerankRequest,
    ) -> Result<Response<RerankResponse>, LlmError> {
        Err(self.unsupported("rerank"))
    }

    /// `/images/generations`.
    async fn image_generation(
        &self,
        _cx: &Ctx<'_>,
        _req: ImageGenerationRequest,
    ) -> Result<Response<ImageResponse>, LlmError> {
        Err(self.unsupported("image generation"))
    }

    /// `/images/edits` and `/images/variations` (multipart forms).
    async fn image_form(
        &self,
        _cx: &Ctx<'_>,
        kind: FormKind,
        _req: FormRequest,
    ) -> Result<Response<ImageResponse>, LlmError> {
        Err(self.unsupported(kind.path()))
    }

    /// `/audio/transcriptions` and `/audio/translations` (multipart forms): the answer as the
    /// upstream sent it, in the `response_format` asked for.
    async fn audio_form(
        &self,
        _cx: &Ctx<'_>,
        kind: FormKind,
        _req: FormRequest,
    ) -> Result<Response<Transcript>, LlmError> {
        Err(self.unsupported(kind.path()))
    }

    /// `/audio/speech`: the audio streamed back as it arrives.
    async fn speech(
        &self,
        _cx: &Ctx<'_>,
        _req: SpeechRequest,
    ) -> Result<Response<Audio>, LlmError> {
        Err(self.unsupported("audio/speech"))
    }

    /// `/moderations`.
    async fn moderation(
        &self,
        _cx: &Ctx<'_>,
        _req: ModerationRequest,
    ) -> Result<Response<ModerationResponse>, LlmError> {
        Err(self.unsupported("moderations"))
    }

    /// Input tokens of a chat request, counted by the provider's own endpoint.
    async fn count_tokens(
        &self,
        _cx: &Ctx<'_>,
        _req: ChatCompletionRequest,
    ) -> Result<u64, LlmError> {
        Err(self.unsupported("token counting"))
    }

    /// Whether `count_tokens` asks the provider (else a caller counts locally).
    fn counts_tokens(&self) -> bool {
        false
    }

    /// Whether `model` (the upstream's name) speaks Anthropic's Messages API: then
    /// `/v1/messages` passes requests through natively (`messages*` below), with no round
    /// trip through the chat format.
    fn speaks_messages(&self, _model: &str) -> bool {
        false
    }

    /// A Messages request body (model already the upstream's) sent as it is.
    async fn messages(
        &self,
        _cx: &Ctx<'_>,
        _body: serde_json::Value,
    ) -> Result<Response<MessagesAnswer>, LlmError> {
        Err(self.unsupported("the Messages API"))
    }

    async fn messages_stream(
        &self,
        _cx: &Ctx<'_>,
        _body: serde_json::Value,
    ) -> Result<Response<EventStream>, LlmError> {
        Err(self.unsupported("the Messages API"))
    }

    /// Anthropic's own `count_tokens` for a Messages body; None: count it through `count_tokens`.
    async fn messages_count_tokens(
        &self,
        _cx: &Ctx<'_>,
        _body: serde_json::Value,
    ) -> Result<Option<u64>, LlmError> {
        Ok(None)
    }

    /// Whether `/responses` calls go to the upstream as they are (OpenAI, Azure); else they
    /// are served through chat completions.
    fn native_responses(&self) -> bool {
        false
    }

    async fn responses(
        &self,
        _cx: &Ctx<'_>,
        _req: ResponsesRequest,
    ) -> Result<Response<ResponseObject>, LlmError> {
        Err(self.unsupported("the Responses API"))
    }

    async fn responses_stream(
        &self,
        _cx: &Ctx<'_>,
        _req: ResponsesRequest,
    ) -> Result<Response<ResponseEventStream>, LlmError> {
        Err(self.unsupported("the Responses API"))
    }

    fn unsupported(&self, what: &str) -> LlmError {
        LlmError::new(
            ErrorKind::BadRequest,
            format!("{} does not support {what}", self.name()),
        )
        .with_provider(self.name())
    }
}
