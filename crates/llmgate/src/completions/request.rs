//! A completions request as the chat request LiteLLM makes of it.

use llmgate_types::{ChatCompletionRequest, ChatMessage, CompletionRequest};
use serde_json::Value;

use crate::LlmError;

/// Completions-only parameters that chat does not have (or, like `logprobs`, has with
/// another meaning): left out of the chat request.
const COMPLETION_ONLY: &[&str] = &["prompt", "echo", "best_of", "suffix", "logprobs"];

/// The chat request for `req`: a string prompt is one user message, a list of strings one
/// user message each (LiteLLM's mapping); token arrays have no chat form.
pub fn chat_request(
    req: CompletionRequest,
    stream: bool,
) -> Result<ChatCompletionRequest, LlmError> {
    let messages = messages(&req.prompt)?;
    let mut body = serde_json::to_value(&req)
        .map_err(|e| LlmError::bad_request(format!("invalid request: {e}")))?;
    let obj = body
        .as_object_mut()
        .ok_or_else(|| LlmError::bad_request("invalid request: not an object"))?;
    for k in COMPLETION_ONLY {
        obj.remove(*k);
    }
    obj.insert("stream".into(), Value::Bool(stream));
    if !stream {
        obj.remove("stream_options");
    }
    obj.insert(
        "messages".into(),
        serde_json::to_value(messages).unwrap_or_default(),
    );
    serde_json::from_value(body).map_err(|e| LlmError::bad_request(format!("invalid request: {e}")))
}

fn messages(prompt: &Value) -> Result<Vec<ChatMessage>, LlmError> {
    match prompt {
        Value::String(s) => Ok(vec![ChatMessage::text("user", s.as_str())]),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| ChatMessage::text("user", s))
            .collect()),
        _ => Err(LlmError::bad_request(format!(
            "Unmapped prompt format. Your prompt is neither a list of strings nor a string. prompt={prompt}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> CompletionRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_string_prompt_is_one_user_message_and_params_carry_over() {
        let c = chat_request(
            req(
                json!({"model": "claude", "prompt": "Say hi", "max_tokens": 7, "temperature": 0.5,
                "stop": ["\n"], "seed": 3, "echo": false, "logprobs": 2, "stream": true,
                "stream_options": {"include_usage": true}}),
            ),
            false,
        )
        .unwrap();
        assert_eq!(c.messages.len(), 1);
        assert_eq!(c.messages[0].role, "user");
        assert_eq!(c.messages[0].content.as_ref().unwrap().text(), "Say hi");
        assert_eq!(c.max_tokens, Some(7));
        assert_eq!(c.temperature, Some(0.5));
        assert_eq!(c.stop, Some(json!(["\n"])));
        assert_eq!(c.seed, Some(3));
        assert_eq!(c.logprobs, None);
        assert!(!c.extra.contains_key("echo"));
        assert!(!c.is_stream());
        assert!(c.stream_options.is_none());
    }

    #[test]
    fn a_list_of_strings_is_a_message_each_and_streams_keep_usage_options() {
        let c = chat_request(
            req(json!({"model": "m", "prompt": ["a", "b"], "stream_options": {"include_usage": true}})),
            true,
        )
        .unwrap();
        let texts: Vec<_> = c
            .messages
            .iter()
            .map(|m| m.content.as_ref().unwrap().text())
            .collect();
        assert_eq!(texts, ["a", "b"]);
        assert!(c.is_stream());
        assert!(c.include_usage());
    }

    #[test]
    fn token_prompts_are_a_bad_request() {
        for p in [json!([1, 2, 3]), json!([[1, 2]]), json!([]), Value::Null] {
            let e = chat_request(req(json!({"model": "m", "prompt": p})), false).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::BadRequest);
            assert!(e.message.contains("Unmapped prompt format"));
        }
    }
}
