//! A chat answer as a response object: reasoning, message and function-call output items,
//! usage in Responses terms, and the request's settings echoed as OpenAI echoes them.

use llmgate_types::{ChatCompletionResponse, ResponseObject, ResponseUsage, ResponsesRequest};
use serde_json::{json, Map, Value};

/// A fresh id with OpenAI's prefix (`resp`, `msg`, `fc`, `rs`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// The response object's fields that repeat the request (OpenAI's defaults where unset).
pub fn echo(req: &ResponsesRequest) -> Map<String, Value> {
    let mut m = Map::new();
    let or = |v: Option<Value>, d: Value| v.unwrap_or(d);
    m.insert("error".into(), Value::Null);
    m.insert("incomplete_details".into(), Value::Null);
    m.insert(
        "instructions".into(),
        req.instructions.clone().unwrap_or(Value::Null),
    );
    m.insert("max_output_tokens".into(), json!(req.max_output_tokens));
    m.insert(
        "metadata".into(),
        or(req.metadata.clone(), Value::Object(Map::new())),
    );
    m.insert(
        "parallel_tool_calls".into(),
        json!(req.parallel_tool_calls.unwrap_or(true)),
    );
    m.insert(
        "previous_response_id".into(),
        json!(req.previous_response_id),
    );
    let reasoning = req.reasoning.clone().unwrap_or(Value::Null);
    m.insert(
        "reasoning".into(),
        json!({
            "effort": reasoning.get("effort").cloned().unwrap_or(Value::Null),
            "summary": reasoning.get("summary").cloned().unwrap_or(Value::Null),
        }),
    );
    m.insert("store".into(), json!(req.stores()));
    m.insert("temperature".into(), json!(req.temperature.unwrap_or(1.0)));
    m.insert(
        "text".into(),
        or(req.text.clone(), json!({"format": {"type": "text"}})),
    );
    m.insert(
        "tool_choice".into(),
        or(req.tool_choice.clone(), json!("auto")),
    );
    m.insert(
        "tools".into(),
        Value::Array(req.tools.clone().unwrap_or_default()),
    );
    m.insert("top_p".into(), json!(req.top_p.unwrap_or(1.0)));
    m.insert("truncation".into(), json!("disabled"));
    m.insert("user".into(), json!(req.user));
    m
}

/// The status and `incomplete_details` a chat finish reason means.
pub fn status_of(finish: Option<&str>) -> (&'static str, Value) {
    match finish {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

pub fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({
        "id": id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [text_part(text)],
    })
}

pub fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A reasoning item; signed thinking blocks (Anthropic's) travel in `encrypted_content`, as
/// LiteLLM carries them, so a later turn can send them back.
pub fn reasoning_item(id: &str, text: &str, blocks: &[Value]) -> Value {
    let mut item = json!({
        "id": id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text}],
    });
    if let Some(enc) = encode_thinking(blocks) {
        item["encrypted_content"] = json!(enc);
    }
    item
}

/// A thinking block the provider can verify: signed thinking, or redacted thinking.
fn verifiable(b: &Value) -> bool {
    match b.get("type").and_then(Value::as_str) {
        Some("thinking") => b
            .get("signature")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
        Some("redacted_thinking") => b.get("data").is_some_and(|d| !d.is_null()),
        _ => false,
    }
}

pub fn encode_thinking(blocks: &[Value]) -> Option<String> {
    let kept: Vec<&Value> = blocks.iter().filter(|b| verifiable(b)).collect();
    (!kept.is_empty())
        .then(|| Value::from(kept.into_iter().cloned().collect::<Vec<_>>()).to_string())
}

/// The thinking blocks an `encrypted_content` carries (None for any other content, such as
/// OpenAI's own encrypted reasoning).
pub fn decode_thinking(enc: &str) -> Option<Vec<Value>> {
    let blocks: Vec<Value> = serde_json::from_str::<Vec<Value>>(enc)
        .ok()?
        .into_iter()
        .filter(verifiable)
        .collect();
    (!blocks.is_empty()).then_some(blocks)
}

/// A chat message's thinking blocks (LiteLLM's `thinking_blocks`).
fn thinking_blocks(extra: &Map<String, Value>) -> Vec<Value> {
    extra
        .get("thinking_blocks")
        .or_else(|| {
            extra
                .get("provider_specific_fields")?
                .get("thinking_blocks")
        })
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

pub fn function_call_item(id: &str, call_id: &str, name: &str, args: &str, status: &str) -> Value {
    json!({
        "id": id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": args,
    })
}

/// The response object for a chat answer to `req`.
pub fn from_chat(req: &ResponsesRequest, chat: ChatCompletionResponse) -> ResponseObject {
    let mut output = Vec::new();
    let choice = chat.choices.into_iter().next();
    let finish = choice.as_ref().and_then(|c| c.finish_reason.clone());
    if let Some(c) = choice {
        let m = c.message;
        let blocks = thinking_blocks(&m.extra);
        let reasoning = m.reasoning_content.as_deref().unwrap_or("");
        if !reasoning.is_empty() || encode_thinking(&blocks).is_some() {
            output.push(reasoning_item(&new_id("rs"), reasoning, &blocks));
        }
        let text = m.text_content();
        if !text.is_empty() {
            output.push(message_item(&new_id("msg"), &text, "completed"));
        }
        for call in m.tool_calls.into_iter().flatten() {
            let call_id = call.id.clone().unwrap_or_else(|| new_id("call"));
            output.push(function_call_item(
                &new_id("fc"),
                &call_id,
                &call.function.name,
                &call.function.arguments,
                "completed",
            ));
        }
    }
    let (status, incomplete) = status_of(finish.as_deref());
    let mut extra = echo(req);
    extra.insert("incomplete_details".into(), incomplete);
    let mut r = ResponseObject {
        id: new_id("resp"),
        object: "response".into(),
        created_at: chat.created,
        status: status.into(),
        model: chat.model,
        output,
        usage: chat.usage.as_ref().map(ResponseUsage::from_chat),
        extra,
        chat_usage: None,
    };
    // Priced from the chat usage itself (its cache-write tokens and cost fields kept).
    r.chat_usage = chat.usage;
    r
}
