//! LiteLLM's `mock_response`: answers built locally, shaped like a provider's, no upstream.

use futures::stream;
use llmgate_types::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, Choice,
    ChunkChoice, CompletionChoice, CompletionRequest, CompletionResponse, Delta, Embedding,
    EmbeddingRequest, EmbeddingResponse, RerankBilledUnits, RerankMeta, RerankRequest,
    RerankResponse, RerankResult, Usage,
};
use serde_json::Value;

use crate::now_secs;
use crate::stream::{ChunkStream, CompletionChunkStream};

/// LiteLLM reports these fixed numbers for mock answers.
fn mock_usage() -> Usage {
    Usage::new(10, 20)
}

fn text_of(mock: &Value) -> String {
    match mock {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn chat_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4())
}

pub fn chat(req: &ChatCompletionRequest, mock: &Value) -> ChatCompletionResponse {
    let n = req.n.unwrap_or(1).max(1);
    ChatCompletionResponse {
        id: chat_id(),
        object: "chat.completion".into(),
        created: now_secs(),
        model: req.model.clone(),
        choices: (0..n)
            .map(|i| Choice {
                index: i,
                message: ChatMessage::text("assistant", text_of(mock)),
                finish_reason: Some("stop".into()),
                ..Default::default()
            })
            .collect(),
        usage: Some(mock_usage()),
        system_fingerprint: None,
        extra: Default::default(),
    }
}

/// The text in pieces of three characters, as LiteLLM's mock stream sends it.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(3).map(|c| c.iter().collect()).collect()
}

pub fn chat_stream(req: &ChatCompletionRequest, mock: &Value) -> ChunkStream {
    let id = chat_id();
    let created = now_secs();
    let chunk = |choices: Vec<ChunkChoice>, usage: Option<Usage>| ChatCompletionChunk {
        id: id.clone(),
        object: "chat.completion.chunk".into(),
        created,
        model: req.model.clone(),
        choices,
        usage,
        system_fingerprint: None,
        extra: Default::default(),
    };
    let mut out: Vec<_> = pieces(&text_of(mock))
        .into_iter()
        .map(|p| {
            chunk(
                vec![ChunkChoice {
                    delta: Delta {
                        role: Some("assistant".into()),
                        content: Some(p),
                        ..Default::default()
                    },
                    ..Default::default()
                }],
                None,
            )
        })
        .collect();
    out.push(chunk(
        vec![ChunkChoice {
            finish_reason: Some("stop".into()),
            ..Default::default()
        }],
        None,
    ));
    if req.include_usage() {
        out.push(chunk(vec![], Some(mock_usage())));
    }
    Box::pin(stream::iter(out.into_iter().map(Ok)))
}

fn text_id() -> String {
    format!("cmpl-{}", uuid::Uuid::new_v4())
}

pub fn text_completion(req: &CompletionRequest, mock: &Value) -> CompletionResponse {
    CompletionResponse {
        id: text_id(),
        object: "text_completion".into(),
        created: now_secs(),
        model: req.model.clone(),
        choices: vec![CompletionChoice {
            text: text_of(mock),
            index: 0,
            logprobs: None,
            finish_reason: Some("stop".into()),
            extra: Default::default(),
        }],
        usage: Some(mock_usage()),
        system_fingerprint: None,
        extra: Default::default(),
    }
}

pub fn text_completion_stream(req: &CompletionRequest, mock: &Value) -> CompletionChunkStream {
    let id = text_id();
    let created = now_secs();
    let mut items: Vec<_> = pieces(&text_of(mock))
        .into_iter()
        .map(|p| (p, None))
        .collect();
    items.push((String::new(), Some("stop".to_string())));
    let model = req.model.clone();
    Box::pin(stream::iter(items.into_iter().map(
        move |(text, finish)| {
            Ok(CompletionResponse {
                id: id.clone(),
                object: "text_completion".into(),
                created,
                model: model.clone(),
                choices: vec![CompletionChoice {
                    text,
                    index: 0,
                    logprobs: None,
                    finish_reason: finish,
                    extra: Default::default(),
                }],
                usage: None,
                system_fingerprint: None,
                extra: Default::default(),
            })
        },
    )))
}

/// A fixed small vector per input, so mocks need no model.
pub fn embedding(req: &EmbeddingRequest) -> EmbeddingResponse {
    let count = match &req.input {
        Value::Array(a) => a.len().max(1),
        _ => 1,
    };
    let tokens: usize = req
        .input_texts()
        .iter()
        .map(|t| t.split_whitespace().count().max(1))
        .sum();
    EmbeddingResponse {
        object: "list".into(),
        data: (0..count)
            .map(|i| Embedding {
                object: "embedding".into(),
                embedding: serde_json::json!([0.1, 0.2, 0.3]),
                index: i as u32,
                extra: Default::default(),
            })
            .collect(),
        model: req.model.clone(),
        usage: Some(Usage::new(tokens as u64, 0)),
        extra: Default::default(),
    }
}

/// Every document in the order given, with falling scores, cut to `top_n`; one search unit.
pub fn rerank(req: &RerankRequest) -> RerankResponse {
    let docs = req.documents();
    let n = req
        .top_n
        .map_or(docs.len(), |t| (t as usize).min(docs.len()));
    RerankResponse {
        id: format!("mock-{}", uuid::Uuid::new_v4()),
        results: docs
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, d)| RerankResult {
                index: i as u32,
                relevance_score: 1.0 / (i + 1) as f64,
                document: req
                    .return_documents
                    .unwrap_or(false)
                    .then(|| serde_json::json!({"text": d.text()})),
                extra: Default::default(),
            })
            .collect(),
        meta: RerankMeta {
            billed_units: Some(RerankBilledUnits {
                search_units: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        },
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn stream_sends_three_character_pieces_then_stop_then_usage() {
        let req = ChatCompletionRequest {
            model: "demo".into(),
            stream_options: Some(llmgate_types::StreamOptions {
                include_usage: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        let chunks: Vec<_> = chat_stream(&req, &Value::String("Hello!!".into()))
            .map(|c| c.unwrap())
            .collect()
            .await;
        let text: Vec<_> = chunks
            .iter()
            .filter_map(|c| c.choices.first()?.delta.content.clone())
            .collect();
        assert_eq!(text, ["Hel", "lo!", "!"]);
        assert_eq!(chunks[3].choices[0].finish_reason.as_deref(), Some("stop"));
        assert_eq!(chunks[4].usage.as_ref().unwrap().total_tokens, 30);
        assert!(chunks.iter().all(|c| c.id == chunks[0].id));
    }
}
