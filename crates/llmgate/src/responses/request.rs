//! A Responses request as a chat request: instructions and input items become messages,
//! function tools become chat tools, `text.format` becomes `response_format`.

use llmgate_types::{
    ChatCompletionRequest, ChatMessage, ContentPart, FunctionCall, FunctionDef, ImageUrl,
    MessageContent, ResponsesRequest, StreamOptions, Tool, ToolCall,
};
use serde_json::{json, Map, Value};

use crate::LlmError;

/// The chat request that serves `req` (its `input` already holds any earlier turns).
pub fn to_chat(req: &ResponsesRequest) -> Result<ChatCompletionRequest, LlmError> {
    let mut messages = Vec::new();
    match &req.instructions {
        Some(Value::String(s)) if !s.is_empty() => messages.push(ChatMessage::text("system", s)),
        Some(Value::Array(items)) => push_items(&mut messages, items)?,
        _ => {}
    }
    push_items(&mut messages, &req.input_items())?;
    if messages.is_empty() {
        return Err(LlmError::bad_request("input is a required field"));
    }
    let stream = req.is_stream();
    Ok(ChatCompletionRequest {
        model: req.model.clone(),
        messages,
        stream: stream.then_some(true),
        // The closing usage is what `response.completed` reports.
        stream_options: stream.then(|| StreamOptions {
            include_usage: Some(true),
            ..Default::default()
        }),
        temperature: req.temperature,
        top_p: req.top_p,
        max_tokens: req.max_output_tokens,
        user: req.user.clone(),
        tools: tools(req.tools.as_deref()),
        // Without a function tool left (hosted ones are not sent), a choice has nothing to pick.
        tool_choice: req
            .tool_choice
            .as_ref()
            .filter(|_| has_tools(req))
            .and_then(tool_choice),
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| has_tools(req)),
        response_format: req
            .text
            .as_ref()
            .and_then(|t| t.get("format"))
            .and_then(response_format),
        reasoning_effort: req
            .reasoning
            .as_ref()
            .and_then(|r| r.get("effort"))
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Default::default()
    })
}

fn has_tools(req: &ResponsesRequest) -> bool {
    tools(req.tools.as_deref()).is_some()
}

/// Messages from input items, in order. Consecutive function calls join one assistant turn
/// (as chat expects), and a reasoning item's text goes on the assistant turn that follows it.
fn push_items(out: &mut Vec<ChatMessage>, items: &[Value]) -> Result<(), LlmError> {
    let mut reasoning: Option<String> = None;
    // Signed thinking blocks from reasoning items, for the next assistant turn.
    let mut thinking: Vec<Value> = Vec::new();
    for item in items {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or(
            // An "easy" input message has a role and no type.
            if item.get("role").is_some() {
                "message"
            } else {
                ""
            },
        );
        match kind {
            "message" => {
                let role = match item.get("role").and_then(Value::as_str) {
                    Some("developer") | Some("system") => "system",
                    Some("assistant") => "assistant",
                    Some("user") | None => "user",
                    Some(other) => {
                        return Err(LlmError::bad_request(format!(
                            "input message role '{other}' is not supported"
                        )))
                    }
                };
                let mut m = ChatMessage {
                    role: role.into(),
                    content: Some(content(item.get("content"), role == "assistant")),
                    ..Default::default()
                };
                if role == "assistant" {
                    m.reasoning_content = reasoning.take();
                    with_thinking(&mut m, &mut thinking);
                }
                out.push(m);
            }
            "function_call" => {
                let call = ToolCall {
                    id: str_of(item, "call_id").or_else(|| str_of(item, "id")),
                    kind: "function".into(),
                    function: FunctionCall {
                        name: str_of(item, "name").unwrap_or_default(),
                        arguments: str_of(item, "arguments").unwrap_or_default(),
                    },
                    extra: Map::new(),
                };
                match out.last_mut() {
                    Some(last)
                        if last.role == "assistant"
                            && reasoning.is_none()
                            && thinking.is_empty() =>
                    {
                        last.tool_calls.get_or_insert_with(Vec::new).push(call)
                    }
                    _ => {
                        let mut m = ChatMessage {
                            role: "assistant".into(),
                            content: None,
                            tool_calls: Some(vec![call]),
                            reasoning_content: reasoning.take(),
                            ..Default::default()
                        };
                        with_thinking(&mut m, &mut thinking);
                        out.push(m);
                    }
                }
            }
            "function_call_output" => out.push(ChatMessage {
                role: "tool".into(),
                content: Some(MessageContent::Text(output_text(item.get("output")))),
                tool_call_id: str_of(item, "call_id"),
                ..Default::default()
            }),
            "reasoning" => {
                let text = reasoning_text(item);
                if !text.is_empty() {
                    reasoning.get_or_insert_with(String::new).push_str(&text);
                }
                if let Some(blocks) = item
                    .get("encrypted_content")
                    .and_then(Value::as_str)
                    .and_then(super::answer::decode_thinking)
                {
                    thinking.extend(blocks);
                }
            }
            // References to stored items, and hosted tools' calls (web search, file search...)
            // that no chat model can replay: left out.
            _ => tracing::debug!(kind, "responses input item not sent to a chat model"),
        }
    }
    Ok(())
}

/// Puts pending signed thinking blocks on an assistant turn (Anthropic wants them back).
fn with_thinking(m: &mut ChatMessage, thinking: &mut Vec<Value>) {
    if !thinking.is_empty() {
        m.extra.insert(
            "thinking_blocks".into(),
            Value::Array(std::mem::take(thinking)),
        );
    }
}

fn str_of(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// A reasoning item's text: its summary, else its reasoning content.
pub(crate) fn reasoning_text(item: &Value) -> String {
    let texts = |k: &str| -> String {
        item.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let summary = texts("summary");
    if summary.is_empty() {
        texts("content")
    } else {
        summary
    }
}

/// A function call's output: a string, or content parts whose text is joined.
fn output_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A message's content: a string, or input/output parts as chat parts. An assistant turn's
/// output text is sent as a string (every chat server takes that).
fn content(v: Option<&Value>, assistant: bool) -> MessageContent {
    let parts = match v {
        Some(Value::String(s)) => return MessageContent::Text(s.clone()),
        Some(Value::Array(parts)) => parts,
        _ => return MessageContent::Text(String::new()),
    };
    let converted: Vec<ContentPart> = parts.iter().filter_map(part).collect();
    if assistant || converted.iter().all(|p| p.kind == "text") {
        let text: String = converted.iter().filter_map(|p| p.text.as_deref()).collect();
        return MessageContent::Text(text);
    }
    MessageContent::Parts(converted)
}

fn part(p: &Value) -> Option<ContentPart> {
    let kind = p.get("type").and_then(Value::as_str)?;
    match kind {
        "input_text" | "output_text" | "text" | "refusal" => Some(ContentPart {
            kind: "text".into(),
            text: str_of(p, "text").or_else(|| str_of(p, "refusal")),
            ..Default::default()
        }),
        "input_image" => {
            let url = str_of(p, "image_url").or_else(|| {
                p.get("image_url")
                    .and_then(|u| u.get("url"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })?;
            Some(ContentPart {
                kind: "image_url".into(),
                image_url: Some(ImageUrl::Object {
                    url,
                    detail: str_of(p, "detail"),
                    extra: Map::new(),
                }),
                ..Default::default()
            })
        }
        "input_file" => {
            let mut file = Map::new();
            for k in ["file_data", "file_id", "filename"] {
                if let Some(v) = p.get(k) {
                    file.insert(k.into(), v.clone());
                }
            }
            let mut extra = Map::new();
            extra.insert("file".into(), Value::Object(file));
            Some(ContentPart {
                kind: "file".into(),
                extra,
                ..Default::default()
            })
        }
        _ => None,
    }
}

/// Function tools as chat tools; hosted tools (web search, file search, namespaces, custom
/// grammars...) cannot be served by a chat model and are left out.
fn tools(tools: Option<&[Value]>) -> Option<Vec<Tool>> {
    let out: Vec<Tool> = tools?
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .filter_map(|t| {
            Some(Tool {
                kind: "function".into(),
                function: Some(FunctionDef {
                    name: str_of(t, "name")?,
                    description: str_of(t, "description"),
                    parameters: t.get("parameters").filter(|p| !p.is_null()).cloned(),
                    strict: t.get("strict").and_then(Value::as_bool),
                    extra: Map::new(),
                }),
                extra: Map::new(),
            })
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

/// `auto` / `none` / `required`, or one function by name; a hosted tool's choice has no chat
/// equivalent (left out: the model chooses).
fn tool_choice(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) if matches!(s.as_str(), "auto" | "none" | "required") => Some(v.clone()),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            let name = o.get("name").or_else(|| o.get("function")?.get("name"))?;
            Some(json!({"type": "function", "function": {"name": name}}))
        }
        // A subset of tools: chat has no subset, its mode is kept.
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("allowed_tools") => {
            match o.get("mode").and_then(Value::as_str) {
                Some("required") => Some(json!("required")),
                _ => Some(json!("auto")),
            }
        }
        _ => None,
    }
}

/// `text.format` as chat's `response_format`.
fn response_format(f: &Value) -> Option<Value> {
    match f.get("type").and_then(Value::as_str)? {
        "json_schema" => {
            let mut schema = Map::new();
            for k in ["name", "schema", "strict", "description"] {
                if let Some(v) = f.get(k).filter(|v| !v.is_null()) {
                    schema.insert(k.into(), v.clone());
                }
            }
            Some(json!({"type": "json_schema", "json_schema": schema}))
        }
        "json_object" => Some(json!({"type": "json_object"})),
        _ => None,
    }
}
