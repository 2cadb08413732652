//! `/completions` on Ollama, as LiteLLM serves it: the prompt as one user turn (sent as it is to
//! `/api/generate`, not in the `### User:` template), the chat answer and chunks back as text
//! completions.

use futures::StreamExt;
use llmgate_types::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage,
    CompletionChoice, CompletionRequest, CompletionResponse,
};

use crate::stream::{ChunkStream, CompletionChunkStream};

pub fn to_chat(req: CompletionRequest) -> (ChatCompletionRequest, String) {
    let prompt = req.prompt_text();
    let chat = ChatCompletionRequest {
        model: req.model,
        messages: vec![ChatMessage::text("user", prompt.clone())],
        stream: req.stream,
        stream_options: req.stream_options,
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        n: req.n,
        stop: req.stop,
        user: req.user,
        extra: req.extra,
        ..Default::default()
    };
    (chat, prompt)
}

fn choice(text: String, finish: Option<String>) -> CompletionChoice {
    CompletionChoice {
        text,
        index: 0,
        logprobs: None,
        finish_reason: finish,
        extra: Default::default(),
    }
}

fn id(chat_id: &str) -> String {
    format!(
        "cmpl-{}",
        chat_id.strip_prefix("chatcmpl-").unwrap_or(chat_id)
    )
}

pub fn answer(r: ChatCompletionResponse) -> CompletionResponse {
    let c = r.choices.into_iter().next();
    let text = c
        .as_ref()
        .and_then(|c| c.message.content.as_ref())
        .map(|m| m.text())
        .unwrap_or_default();
    CompletionResponse {
        id: id(&r.id),
        object: "text_completion".into(),
        created: r.created,
        model: r.model,
        choices: vec![choice(text, c.and_then(|c| c.finish_reason))],
        usage: r.usage,
        system_fingerprint: None,
        extra: Default::default(),
    }
}

fn chunk(c: ChatCompletionChunk) -> Option<CompletionResponse> {
    let choices: Vec<CompletionChoice> = c
        .choices
        .into_iter()
        .filter(|ch| ch.delta.content.is_some() || ch.finish_reason.is_some())
        .map(|ch| choice(ch.delta.content.unwrap_or_default(), ch.finish_reason))
        .collect();
    if choices.is_empty() && c.usage.is_none() {
        return None;
    }
    Some(CompletionResponse {
        id: id(&c.id),
        object: "text_completion".into(),
        created: c.created,
        model: c.model,
        choices,
        usage: c.usage,
        system_fingerprint: None,
        extra: Default::default(),
    })
}

/// Chunks as text-completion chunks, one by one as they arrive.
pub fn stream(s: ChunkStream) -> CompletionChunkStream {
    Box::pin(s.filter_map(|item| async move {
        match item {
            Ok(c) => chunk(c).map(Ok),
            Err(e) => Some(Err(e)),
        }
    }))
}
