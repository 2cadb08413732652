//! Streaming: wire-format readers and the typed chunk streams the SDK hands out.

pub mod sse;

use std::pin::Pin;

use futures::{Stream, StreamExt};
use llmgate_types::{ChatCompletionChunk, CompletionResponse};

use crate::LlmError;

/// OpenAI chat chunks, one per upstream event, as they arrive.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<ChatCompletionChunk, LlmError>> + Send>>;

/// Legacy completion chunks (`text_completion` objects).
pub type CompletionChunkStream =
    Pin<Box<dyn Stream<Item = Result<CompletionResponse, LlmError>> + Send>>;

/// A chat chunk stream turned into another API's stream events (Anthropic's Messages,
/// Google's generateContent), by a translator that keeps what spans chunks.
pub trait Translate: Send + 'static {
    type Event: Send + 'static;
    /// The events one chunk makes (none while a piece is still being gathered).
    fn on_chunk(&mut self, c: &ChatCompletionChunk) -> Vec<Self::Event>;
    /// The closing events, once the chunks end.
    fn on_end(&mut self) -> Vec<Self::Event>;
}

/// `chunks` translated as they arrive. An error is passed on and ends the stream (the gateway
/// sends it as its error event).
pub fn translate<T: Translate>(
    chunks: ChunkStream,
    t: T,
) -> Pin<Box<dyn Stream<Item = Result<T::Event, LlmError>> + Send>> {
    let items = chunks
        .map(Some)
        .chain(futures::stream::once(async { None }));
    let batches = items.scan((t, false), |(t, failed), item| {
        if *failed {
            return futures::future::ready(None);
        }
        let batch = match item {
            Some(Ok(c)) => t.on_chunk(&c).into_iter().map(Ok).collect(),
            Some(Err(e)) => {
                *failed = true;
                vec![Err(e)]
            }
            None => t.on_end().into_iter().map(Ok).collect::<Vec<_>>(),
        };
        futures::future::ready(Some(batch))
    });
    Box::pin(batches.flat_map(futures::stream::iter))
}

/// Chat chunks for the translators' tests.
#[cfg(test)]
pub(crate) mod testing {
    use llmgate_types::ChatCompletionChunk;
    use serde_json::{json, Value};

    /// A chunk with `v`'s fields over a minimal one.
    pub fn chunk(v: Value) -> ChatCompletionChunk {
        let mut base = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "m"});
        for (k, val) in v.as_object().unwrap() {
            base[k] = val.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    /// A chunk of one choice's `delta`.
    pub fn delta(d: Value, finish: Option<&str>) -> ChatCompletionChunk {
        chunk(json!({"choices": [{"index": 0, "delta": d, "finish_reason": finish}]}))
    }
}
