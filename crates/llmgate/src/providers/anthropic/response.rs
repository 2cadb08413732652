//! Anthropic Messages answer → OpenAI chat completion.

use llmgate_types::{
    ChatCompletionResponse, ChatMessage, Choice, FunctionCall, MessageContent, PromptTokensDetails,
    ToolCall, Usage,
};
use serde_json::{json, Map, Value};

use super::request::JSON_TOOL;

pub fn finish_reason(stop: &str) -> &'static str {
    match stop {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// Usage in OpenAI's convention: `prompt_tokens` counts cached reads and cache writes too (so
/// the catalog prices each once), with the split kept in the details and LiteLLM's fields.
pub fn usage(u: &Value) -> Usage {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    let (input, read, write) = (
        n("input_tokens"),
        n("cache_read_input_tokens"),
        n("cache_creation_input_tokens"),
    );
    let mut usage = Usage::new(input + read + write, n("output_tokens"));
    usage.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(read),
        extra: Map::from_iter([("cache_creation_tokens".to_string(), json!(write))]),
        ..Default::default()
    });
    usage
        .extra
        .insert("cache_creation_input_tokens".into(), json!(write));
    usage
        .extra
        .insert("cache_read_input_tokens".into(), json!(read));
    usage
}

pub fn translate(v: &Value, created: u64) -> ChatCompletionResponse {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    let mut json_answer = None;
    for block in v["content"].as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("text") => text.push_str(block["text"].as_str().unwrap_or("")),
            Some("thinking") => {
                reasoning.push_str(block["thinking"].as_str().unwrap_or(""));
                thinking_blocks.push(block.clone());
            }
            Some("redacted_thinking") => thinking_blocks.push(block.clone()),
            Some("tool_use") if block["name"] == JSON_TOOL => {
                json_answer = Some(block["input"].to_string())
            }
            Some("tool_use") => tool_calls.push(ToolCall {
                id: block["id"].as_str().map(str::to_string),
                kind: "function".into(),
                function: FunctionCall {
                    name: block["name"].as_str().unwrap_or("").to_string(),
                    arguments: block["input"].to_string(),
                },
                extra: Map::new(),
            }),
            _ => {}
        }
    }
    let stop = v["stop_reason"].as_str().unwrap_or("end_turn");
    let mut finish = finish_reason(stop);
    if let Some(j) = json_answer {
        // The forced JSON tool is how the answer was asked for: it is the content.
        text = j;
        if finish == "tool_calls" && tool_calls.is_empty() {
            finish = "stop";
        }
    }
    let mut message = ChatMessage {
        role: "assistant".into(),
        content: (!text.is_empty() || tool_calls.is_empty()).then_some(MessageContent::Text(text)),
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
        ..Default::default()
    };
    if !thinking_blocks.is_empty() {
        message
            .extra
            .insert("thinking_blocks".into(), Value::Array(thinking_blocks));
    }
    ChatCompletionResponse {
        id: v["id"].as_str().unwrap_or("").to_string(),
        object: "chat.completion".into(),
        created,
        model: v["model"].as_str().unwrap_or("").to_string(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(finish.into()),
            ..Default::default()
        }],
        usage: Some(usage(&v["usage"])),
        ..Default::default()
    }
}
