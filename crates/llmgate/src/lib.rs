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

/// Enough of RFC 3339 for providers' timestamps (`2024-05-01T12:00:00.123Z`, or an offset).
pub(crate) fn parse_rfc3339(s: &str) -> Option<u64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let t = time.trim_end_matches('Z');
    let (clock, offset) = match t.rfind(['+', '-']) {
        Some(i) if i >= 8 => (&t[..i], &t[i..]),
        _ => (t, "+00:00"),
    };
    let mut c = clock.split(':');
    let (hh, mm) = (
        c.next()?.parse::<i64>().ok()?,
        c.next()?.parse::<i64>().ok()?,
    );
    let ss = c.next()?.split('.').next()?.parse::<i64>().ok()?;
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let mut o = offset[1..].split(':');
    let off = sign
        * (o.next()?.parse::<i64>().ok()? * 3600
            + o.next().unwrap_or("0").parse::<i64>().ok()? * 60);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss - off).ok()
}

/// Seconds since the Unix epoch, for `created` fields.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
