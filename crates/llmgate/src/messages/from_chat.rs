//! A chat answer as a Messages answer: thinking, text and tool_use blocks, the stop reason,
//! usage with cache tokens.

use llmgate_types::{ChatCompletionResponse, ChatMessage, Usage};
use serde_json::{json, Map, Value};

use super::names::ToolNames;
use super::usage::from_openai;
use super::MessagesAnswer;

/// A chat `finish_reason` as Anthropic's `stop_reason` (LiteLLM's mapping).
pub fn stop_reason(finish: &str) -> &'static str {
    match finish {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" | "refusal" => "refusal",
        _ => "end_turn",
    }
}

/// Thinking blocks of a message (or delta): LiteLLM's `thinking_blocks` when the provider
/// sent signed ones, else the reasoning text as one unsigned block.
pub fn thinking_blocks(extra: &Map<String, Value>, reasoning: Option<&str>) -> Vec<Value> {
    let signed: Vec<Value> = extra
        .get("thinking_blocks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|b| matches!(b["type"].as_str(), Some("thinking" | "redacted_thinking")))
        .cloned()
        .collect();
    if !signed.is_empty() {
        return signed;
    }
    reasoning
        .filter(|r| !r.is_empty())
        .map(|r| vec![json!({"type": "thinking", "thinking": r, "signature": ""})])
        .unwrap_or_default()
}

/// Tool arguments as the `input` object (arguments that are not JSON are kept as a string
/// under `arguments`, never lost).
pub fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({"arguments": arguments}),
    }
}

fn content(m: &ChatMessage, names: &ToolNames) -> Vec<Value> {
    let mut blocks = thinking_blocks(&m.extra, m.reasoning_content.as_deref());
    let text = m.text_content();
    if !text.is_empty() {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for c in m.tool_calls.iter().flatten() {
        blocks.push(json!({
            "type": "tool_use",
            "id": c.id,
            "name": names.original(&c.function.name),
            "input": tool_input(&c.function.arguments),
        }));
    }
    blocks
}

pub fn from_chat(answer: ChatCompletionResponse, names: &ToolNames) -> MessagesAnswer {
    let choice = answer.choices.into_iter().next();
    let (blocks, finish) = match &choice {
        Some(c) => (content(&c.message, names), c.finish_reason.as_deref()),
        None => (Vec::new(), None),
    };
    let has_tool = blocks.iter().any(|b| b["type"] == "tool_use");
    // Some providers end a tool call with `stop`: the client must still run the tool.
    let stop = match finish.map(stop_reason) {
        Some("end_turn") | None if has_tool => "tool_use",
        Some(s) => s,
        None => "end_turn",
    };
    let usage = answer.usage.unwrap_or_else(|| Usage::new(0, 0));
    let body = json!({
        "id": answer.id,
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": from_openai(&usage),
    });
    let Value::Object(body) = body else {
        unreachable!("a json! object literal")
    };
    MessagesAnswer { body, usage }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(v: Value) -> Value {
        let a: ChatCompletionResponse = serde_json::from_value(v).unwrap();
        Value::Object(from_chat(a, &ToolNames::default()).body)
    }

    #[test]
    fn text_tools_thinking_and_usage() {
        let a = answer(json!({
            "id": "chatcmpl-1", "model": "gpt", "choices": [{"index": 0, "finish_reason": "tool_calls",
              "message": {"role": "assistant", "content": "Let me look.", "reasoning_content": "think",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "Read", "arguments": "{\"p\":1}"}}]}}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 7, "total_tokens": 37,
                      "prompt_tokens_details": {"cached_tokens": 10}},
        }));
        assert_eq!(a["type"], "message");
        assert_eq!(
            a["content"][0],
            json!({"type": "thinking", "thinking": "think", "signature": ""})
        );
        assert_eq!(
            a["content"][1],
            json!({"type": "text", "text": "Let me look."})
        );
        assert_eq!(
            a["content"][2],
            json!({"type": "tool_use", "id": "call_1", "name": "Read", "input": {"p": 1}})
        );
        assert_eq!(a["stop_reason"], "tool_use");
        assert_eq!(a["usage"]["input_tokens"], 20);
        assert_eq!(a["usage"]["cache_read_input_tokens"], 10);
        assert_eq!(a["usage"]["output_tokens"], 7);
    }

    #[test]
    fn stop_reasons_and_a_tool_call_ended_by_stop() {
        assert_eq!(stop_reason("stop"), "end_turn");
        assert_eq!(stop_reason("length"), "max_tokens");
        assert_eq!(stop_reason("content_filter"), "refusal");
        let a = answer(json!({
            "id": "x", "model": "gemini", "choices": [{"index": 0, "finish_reason": "stop",
              "message": {"role": "assistant", "content": null,
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "not json"}}]}}],
        }));
        assert_eq!(a["stop_reason"], "tool_use");
        assert_eq!(a["content"][0]["input"], json!({"arguments": "not json"}));
    }
}
