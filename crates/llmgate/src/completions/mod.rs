//! `/completions` for providers without a text-completion API, as LiteLLM's `text_completion`
//! does it: the prompt goes through chat as user messages, the answer comes back in the
//! completions shape (`choices[].text`), streamed chunk by chunk.

mod request;
mod response;

pub use request::chat_request;
pub use response::{completion_chunk, completion_response};

use futures::StreamExt;
use llmgate_types::{CompletionRequest, CompletionResponse};

use crate::providers::{Ctx, Provider};
use crate::stream::CompletionChunkStream;
use crate::{LlmError, Response};

/// A text completion answered by the provider's chat.
pub async fn via_chat<P: Provider + ?Sized>(
    provider: &P,
    cx: &Ctx<'_>,
    req: CompletionRequest,
) -> Result<Response<CompletionResponse>, LlmError> {
    let chat = chat_request(req, false).map_err(|e| e.with_provider(provider.name()))?;
    let r = provider.chat(cx, chat).await?;
    Ok(Response {
        body: completion_response(r.body),
        headers: r.headers,
        api_base: r.api_base,
    })
}

/// A streamed text completion answered by the provider's chat stream, each chat chunk
/// translated as it arrives.
pub async fn via_chat_stream<P: Provider + ?Sized>(
    provider: &P,
    cx: &Ctx<'_>,
    req: CompletionRequest,
) -> Result<Response<CompletionChunkStream>, LlmError> {
    let chat = chat_request(req, true).map_err(|e| e.with_provider(provider.name()))?;
    let r = provider.chat_stream(cx, chat).await?;
    let body: CompletionChunkStream = Box::pin(r.body.map(|chunk| chunk.map(completion_chunk)));
    Ok(Response {
        body,
        headers: r.headers,
        api_base: r.api_base,
    })
}
