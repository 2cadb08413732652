//! Chat answers and chunks in the completions shape, field for field as LiteLLM converts them.

use llmgate_types::{
    ChatCompletionChunk, ChatCompletionResponse, CompletionChoice, CompletionResponse,
};
use serde_json::Value;

const OBJECT: &str = "text_completion";

/// A chat answer as a `text_completion`: each choice's message content as its `text`.
pub fn completion_response(chat: ChatCompletionResponse) -> CompletionResponse {
    let choices = chat
        .choices
        .into_iter()
        .map(|c| CompletionChoice {
            text: c.message.content.map(|m| m.text()).unwrap_or_default(),
            index: c.index,
            logprobs: c.logprobs,
            finish_reason: c.finish_reason,
            extra: Default::default(),
        })
        .collect();
    CompletionResponse {
        id: chat.id,
        object: OBJECT.into(),
        created: chat.created,
        model: chat.model,
        choices,
        usage: chat.usage,
        system_fingerprint: chat.system_fingerprint,
        extra: Default::default(),
    }
}

/// A chat chunk as a `text_completion` chunk: the delta's content as `text`, the reasoning
/// (if any) as `reasoning_content`, usage where the chat stream reported it.
pub fn completion_chunk(chunk: ChatCompletionChunk) -> CompletionResponse {
    let choices = chunk
        .choices
        .into_iter()
        .map(|c| {
            let mut extra = llmgate_types::Extra::default();
            if let Some(r) = c.delta.reasoning_content {
                extra.insert("reasoning_content".into(), Value::String(r));
            }
            CompletionChoice {
                text: c.delta.content.unwrap_or_default(),
                index: c.index,
                logprobs: c.logprobs,
                finish_reason: c.finish_reason,
                extra,
            }
        })
        .collect();
    CompletionResponse {
        id: chunk.id,
        object: OBJECT.into(),
        created: chunk.created,
        model: chunk.model,
        choices,
        usage: chunk.usage,
        system_fingerprint: chunk.system_fingerprint,
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_keep_text_finish_reason_and_usage() {
        let chat: ChatCompletionResponse = serde_json::from_value(json!({
            "id": "msg_1", "object": "chat.completion", "created": 5, "model": "claude-x",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"},
                "finish_reason": "length"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
        }))
        .unwrap();
        let v = serde_json::to_value(completion_response(chat)).unwrap();
        assert_eq!(v["object"], "text_completion");
        assert_eq!(v["id"], "msg_1");
        assert_eq!(v["choices"][0]["text"], "Hello");
        assert_eq!(v["choices"][0]["finish_reason"], "length");
        assert_eq!(v["usage"]["total_tokens"], 4);
    }

    #[test]
    fn chunks_carry_deltas_and_usage_only_chunks_stay_choiceless() {
        let c: ChatCompletionChunk = serde_json::from_value(json!({
            "id": "c", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "Hi", "reasoning_content": "hm"}, "finish_reason": null}]
        }))
        .unwrap();
        let v = serde_json::to_value(completion_chunk(c)).unwrap();
        assert_eq!(v["object"], "text_completion");
        assert_eq!(v["choices"][0]["text"], "Hi");
        assert_eq!(v["choices"][0]["reasoning_content"], "hm");
        let u: ChatCompletionChunk = serde_json::from_value(json!({
            "id": "c", "model": "m", "choices": [],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        }))
        .unwrap();
        let v = serde_json::to_value(completion_chunk(u)).unwrap();
        assert_eq!(v["choices"], json!([]));
        assert_eq!(v["usage"]["completion_tokens"], 2);
    }
}
