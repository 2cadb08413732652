//! Streaming: wire-format readers and the typed chunk streams the SDK hands out.

pub mod sse;

use std::pin::Pin;

use futures::Stream;
use llmgate_types::{ChatCompletionChunk, CompletionResponse};

use crate::LlmError;

/// OpenAI chat chunks, one per upstream event, as they arrive.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<ChatCompletionChunk, LlmError>> + Send>>;

/// Legacy completion chunks (`text_completion` objects).
pub type CompletionChunkStream =
    Pin<Box<dyn Stream<Item = Result<CompletionResponse, LlmError>> + Send>>;
