//! llmgate SDK: one OpenAI-format API over many LLM providers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), llmgate::LlmError> {
//! use llmgate::{CallOptions, ChatCompletionRequest, ChatMessage, Client};
//! let client = Client::new();
//! let req = ChatCompletionRequest {
//!     model: "groq/llama-3.1-8b-instant".into(),
//!     messages: vec![ChatMessage::text("user", "Hello")],
//!     ..Default::default()
//! };
//! let answer = client.chat(req, &CallOptions::default()).await?;
//! println!("{:?}", answer.body.choices[0].message.content);
//! # Ok(()) }
//! ```
//!
//! This crate knows nothing of HTTP servers or databases; the gateway composes it.

pub mod a2a;
pub mod catalog;
pub mod client;
pub mod completions;
pub mod connections;
pub mod embeddings;
pub mod error;
pub mod generate_content;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod media;
pub mod messages;
pub mod mock;
pub mod options;
pub mod providers;
pub mod response;
pub mod responses;
pub mod router;
pub mod stream;
pub mod tokens;

pub use client::Client;
pub use error::{ErrorKind, LlmError};
pub use llmgate_types::*;
pub use options::CallOptions;
pub use response::Response;
pub use responses::ResponseEventStream;
pub use stream::{ChunkStream, CompletionChunkStream};

/// Chat completion with the process-wide default client.
pub async fn completion(
    req: ChatCompletionRequest,
    opts: &CallOptions,
) -> Result<ChatCompletionResponse, LlmError> {
    Client::shared().chat(req, opts).await.map(|r| r.body)
}

/// Embeddings with the process-wide default client.
pub async fn embedding(
    req: EmbeddingRequest,
    opts: &CallOptions,
) -> Result<EmbeddingResponse, LlmError> {
    Client::shared().embedding(req, opts).await.map(|r| r.body)
}

/// Rerank with the process-wide default client.
pub async fn rerank(req: RerankRequest, opts: &CallOptions) -> Result<RerankResponse, LlmError> {
    Client::shared().rerank(req, opts).await.map(|r| r.body)
}

/// Seconds since the Unix epoch, for `created` fields.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
