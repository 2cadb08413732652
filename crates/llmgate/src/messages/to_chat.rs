//! A Messages request as a chat request, for every provider that does not speak Anthropic's
//! protocol: system, text/image/document blocks, tool_use/tool_result turns, tools and
//! tool_choice, thinking as reasoning effort, stop sequences, the end user.

use llmgate_types::ChatCompletionRequest;
use serde_json::{json, Map, Value};

use super::names::sent;
use super::MessagesRequest;
use crate::LlmError;

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg)
}

pub fn to_chat(req: &MessagesRequest) -> Result<ChatCompletionRequest, LlmError> {
    let mut messages = Vec::new();
    if let Some(system) = &req.system {
        let text = system_text(system);
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
    }
    for (i, m) in req.messages.iter().enumerate() {
        turn(m, &mut messages).map_err(|e| bad(format!("messages.{i}: {}", e.message)))?;
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(n) = req.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    if req.is_stream() {
        body.insert("stream".into(), json!(true));
    }
    for (k, v) in [("temperature", req.temperature), ("top_p", req.top_p)] {
        if let Some(v) = v {
            body.insert(k.into(), json!(v));
        }
    }
    if let Some(stop) = req.stop_sequences.as_ref().filter(|s| !s.is_empty()) {
        body.insert("stop".into(), json!(stop));
    }
    if let Some(user) = req.end_user() {
        body.insert("user".into(), json!(user));
    }
    let tools: Vec<Value> = req.tools.iter().flatten().filter_map(tool).collect();
    // Anthropic's web search tool is the chat format's `web_search_options` (as LiteLLM).
    if req.tools.iter().flatten().any(is_web_search) {
        body.insert("web_search_options".into(), json!({}));
    }
    let tool_choice = req.tool_choice.as_ref().filter(|c| !c.is_null());
    // No tool the chat format can carry: a tool choice would name nothing.
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
        if let Some(tc) = tool_choice {
            let (choice, parallel) = tool_choice_of(tc)?;
            body.insert("tool_choice".into(), choice);
            if let Some(p) = parallel {
                body.insert("parallel_tool_calls".into(), json!(p));
            }
        }
    }
    if let Some(effort) = req.thinking.as_ref().and_then(reasoning_effort) {
        body.insert("reasoning_effort".into(), json!(effort));
    }
    if let Some(rf) = req.extra.get("output_format").and_then(response_format) {
        body.insert("response_format".into(), rf);
    }
    serde_json::from_value(Value::Object(body)).map_err(|e| bad(format!("invalid request: {e}")))
}

/// The system prompt as one string: its text blocks joined (every chat server takes a string;
/// `cache_control` means nothing to a non-Anthropic model).
fn system_text(system: &Value) -> String {
    match system {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => String::new(),
    }
}

/// One Messages turn as chat messages: a user turn's `tool_result` blocks become `tool`
/// messages (first: they answer the previous assistant turn), its other blocks one user
/// message; an assistant turn one message with its text, reasoning and tool calls.
fn turn(m: &Value, out: &mut Vec<Value>) -> Result<(), LlmError> {
    let role = m["role"].as_str().unwrap_or("user");
    let blocks: Vec<Value> = match &m["content"] {
        Value::String(s) => {
            out.push(json!({"role": role, "content": s}));
            return Ok(());
        }
        Value::Array(b) => b.clone(),
        Value::Null => Vec::new(),
        _ => return Err(bad("content must be a string or a list of blocks")),
    };
    if role == "assistant" {
        out.push(assistant(&blocks));
        return Ok(());
    }
    let mut parts = Vec::new();
    for b in &blocks {
        match b["type"].as_str().unwrap_or("") {
            "tool_result" => out.push(tool_result(b)),
            _ => parts.extend(user_part(b)?),
        }
    }
    if !parts.is_empty() {
        out.push(json!({"role": role, "content": simplified(parts)}));
    }
    Ok(())
}

/// A single text part as a plain string (what every chat server takes).
fn simplified(parts: Vec<Value>) -> Value {
    match parts.as_slice() {
        [p] if p["type"] == "text" => p["text"].clone(),
        _ => Value::Array(parts),
    }
}

fn user_part(b: &Value) -> Result<Option<Value>, LlmError> {
    Ok(match b["type"].as_str().unwrap_or("") {
        "text" => Some(json!({"type": "text", "text": b["text"].as_str().unwrap_or("")})),
        "image" => {
            Some(json!({"type": "image_url", "image_url": {"url": source_url(&b["source"])?}}))
        }
        "document" => Some(document(b)?),
        // Thinking in a user turn (a client echoing it) and unknown blocks carry nothing a
        // chat model reads.
        _ => None,
    })
}

/// An image or document source as a URL (`data:` for base64).
fn source_url(s: &Value) -> Result<String, LlmError> {
    match s["type"].as_str() {
        Some("base64") => Ok(format!(
            "data:{};base64,{}",
            s["media_type"]
                .as_str()
                .unwrap_or("application/octet-stream"),
            s["data"].as_str().unwrap_or("")
        )),
        Some("url") => Ok(s["url"].as_str().unwrap_or("").to_string()),
        other => Err(bad(format!(
            "a {} source cannot be sent to this model",
            other.unwrap_or("missing")
        ))),
    }
}

/// A document block: plain text as text, base64 (a PDF) as a chat `file` part, a URL as an
/// image URL part (as LiteLLM).
fn document(b: &Value) -> Result<Value, LlmError> {
    let s = &b["source"];
    match s["type"].as_str() {
        Some("text") => Ok(json!({"type": "text", "text": s["data"].as_str().unwrap_or("")})),
        Some("base64") => Ok(json!({"type": "file", "file": {
            "filename": b["title"].as_str().filter(|t| !t.is_empty()).unwrap_or("document.pdf"),
            "file_data": source_url(s)?,
        }})),
        _ => Ok(json!({"type": "image_url", "image_url": {"url": source_url(s)?}})),
    }
}

fn tool_result(b: &Value) -> Value {
    let content = match &b["content"] {
        Value::String(s) => json!(s),
        Value::Array(items) => {
            let parts: Vec<Value> = items
                .iter()
                .filter_map(|i| user_part(i).ok().flatten())
                .collect();
            if parts.iter().all(|p| p["type"] == "text") {
                let texts: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
                json!(texts.join("\n"))
            } else {
                Value::Array(parts)
            }
        }
        _ => json!(""),
    };
    json!({"role": "tool", "tool_call_id": b["tool_use_id"], "content": content})
}

/// An assistant turn: text joined, thinking as `reasoning_content` and LiteLLM's
/// `thinking_blocks` (signatures kept), tool uses as tool calls.
fn assistant(blocks: &[Value]) -> Value {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut calls = Vec::new();
    for b in blocks {
        match b["type"].as_str().unwrap_or("") {
            "text" => text.push_str(b["text"].as_str().unwrap_or("")),
            "thinking" => {
                reasoning.push_str(b["thinking"].as_str().unwrap_or(""));
                thinking_blocks.push(b.clone());
            }
            "redacted_thinking" => thinking_blocks.push(b.clone()),
            "tool_use" => calls.push(json!({
                "id": b["id"],
                "type": "function",
                "function": {
                    "name": sent(b["name"].as_str().unwrap_or_default()),
                    "arguments": serde_json::to_string(&b["input"]).unwrap_or_else(|_| "{}".into()),
                },
            })),
            _ => {}
        }
    }
    let mut m = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) }});
    if !calls.is_empty() {
        m["tool_calls"] = Value::Array(calls);
    }
    if !reasoning.is_empty() {
        m["reasoning_content"] = json!(reasoning);
    }
    if !thinking_blocks.is_empty() {
        m["thinking_blocks"] = Value::Array(thinking_blocks);
    }
    m
}

fn is_web_search(t: &Value) -> bool {
    t["type"]
        .as_str()
        .is_some_and(|k| k.starts_with("web_search"))
        || (t["name"] == "web_search" && t.get("input_schema").is_none())
}

/// A client tool as a chat function. Anthropic's server tools (`web_search_*`, `bash_*`, ...)
/// have no chat form: left out.
fn tool(t: &Value) -> Option<Value> {
    let kind = t["type"].as_str().unwrap_or("custom");
    if kind != "custom" && t.get("input_schema").is_none() {
        return None;
    }
    let mut f = json!({
        "name": sent(t["name"].as_str().unwrap_or_default()),
        "parameters": t.get("input_schema").cloned().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
    });
    if let Some(d) = t["description"].as_str() {
        f["description"] = json!(d);
    }
    Some(json!({"type": "function", "function": f}))
}

/// `tool_choice` exactly: auto → auto, any → required, tool → that function, none → none;
/// `disable_parallel_tool_use` → `parallel_tool_calls: false`.
fn tool_choice_of(tc: &Value) -> Result<(Value, Option<bool>), LlmError> {
    let choice = match tc["type"].as_str() {
        Some("auto") => json!("auto"),
        Some("any") => json!("required"),
        Some("none") => json!("none"),
        Some("tool") => {
            json!({"type": "function", "function": {"name": sent(tc["name"].as_str().unwrap_or_default())}})
        }
        other => {
            return Err(bad(format!(
                "tool_choice.type: {} is not one of auto, any, tool, none",
                other.unwrap_or("missing")
            )))
        }
    };
    let parallel = tc["disable_parallel_tool_use"].as_bool().map(|d| !d);
    Ok((choice, parallel))
}

/// Thinking as OpenAI's reasoning effort, bucketed by budget as LiteLLM does (1 024 low,
/// 2 048 medium, 4 096 high); adaptive thinking asks the model's default depth.
fn reasoning_effort(thinking: &Value) -> Option<&'static str> {
    match thinking["type"].as_str()? {
        "enabled" => {
            let budget = thinking["budget_tokens"].as_u64().unwrap_or(0);
            Some(match budget {
                b if b >= 4096 => "high",
                b if b >= 2048 => "medium",
                b if b >= 1024 => "low",
                _ => "minimal",
            })
        }
        "adaptive" => Some("medium"),
        _ => None,
    }
}

/// Structured outputs (`output_format: {type: json_schema, schema}`) as a response format.
fn response_format(of: &Value) -> Option<Value> {
    (of["type"] == "json_schema").then(|| {
        json!({"type": "json_schema", "json_schema": {"name": "output", "schema": of["schema"], "strict": true}})
    })
}

/// The request's prompt as chat messages, for counting tokens locally.
pub fn prompt_messages(req: &MessagesRequest) -> Vec<Value> {
    to_chat(req).map_or_else(|_| Vec::new(), |c| crate::tokens::chat_prompt(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> MessagesRequest {
        serde_json::from_value(v).unwrap()
    }

    fn chat(v: Value) -> Value {
        serde_json::to_value(to_chat(&req(v)).unwrap()).unwrap()
    }

    #[test]
    fn system_blocks_text_and_params() {
        let c = chat(json!({
            "model": "m", "max_tokens": 100, "stream": true, "temperature": 0.5,
            "stop_sequences": ["X"], "metadata": {"user_id": "u-1"},
            "system": [{"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}},
                       {"type": "text", "text": "B"}],
            "messages": [{"role": "user", "content": "hi"}],
        }));
        assert_eq!(
            c["messages"][0],
            json!({"role": "system", "content": "A\n\nB"})
        );
        assert_eq!(c["messages"][1], json!({"role": "user", "content": "hi"}));
        assert_eq!(c["max_tokens"], 100);
        assert_eq!(c["stop"], json!(["X"]));
        assert_eq!(c["user"], "u-1");
        assert_eq!(c["stream"], true);
    }

    #[test]
    fn images_documents_and_tool_turns() {
        let c = chat(json!({
            "model": "m",
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}},
                    {"type": "document", "title": "r.pdf", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVB"}},
                ]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "text", "text": "calling"},
                    {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"path": "/x"}},
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "file body"}]},
                    {"type": "text", "text": "and now?"},
                ]},
            ],
        }));
        let m = &c["messages"];
        assert_eq!(
            m[0]["content"][1]["image_url"]["url"],
            "data:image/png;base64,AAA"
        );
        assert_eq!(m[0]["content"][2]["file"]["filename"], "r.pdf");
        assert_eq!(
            m[0]["content"][2]["file"]["file_data"],
            "data:application/pdf;base64,JVB"
        );
        assert_eq!(m[1]["content"], "calling");
        assert_eq!(m[1]["reasoning_content"], "hmm");
        assert_eq!(m[1]["thinking_blocks"][0]["signature"], "sig");
        assert_eq!(m[1]["tool_calls"][0]["id"], "toolu_1");
        assert_eq!(
            m[1]["tool_calls"][0]["function"]["arguments"],
            r#"{"path":"/x"}"#
        );
        assert_eq!(
            m[2],
            json!({"role": "tool", "tool_call_id": "toolu_1", "content": "file body"})
        );
        assert_eq!(m[3], json!({"role": "user", "content": "and now?"}));
    }

    #[test]
    fn tools_and_every_tool_choice() {
        let base = |tc: Value| {
            chat(json!({
                "model": "m", "messages": [{"role": "user", "content": "x"}],
                "tools": [{"name": "get", "description": "d", "input_schema": {"type": "object"}},
                          {"type": "web_search_20250305", "name": "web_search"}],
                "tool_choice": tc,
            }))
        };
        let c = base(json!({"type": "auto"}));
        assert_eq!(
            c["tools"].as_array().unwrap().len(),
            1,
            "server tools are left out"
        );
        assert_eq!(
            c["tools"][0]["function"]["parameters"],
            json!({"type": "object"})
        );
        assert_eq!(c["tool_choice"], "auto");
        assert_eq!(base(json!({"type": "none"}))["tool_choice"], "none");
        assert_eq!(base(json!({"type": "any"}))["tool_choice"], "required");
        let t = base(json!({"type": "tool", "name": "get", "disable_parallel_tool_use": true}));
        assert_eq!(t["tool_choice"]["function"]["name"], "get");
        assert_eq!(t["parallel_tool_calls"], false);
        assert!(to_chat(&req(
            json!({"model": "m", "messages": [], "tools": [{"name": "a", "input_schema": {}}],
                                    "tool_choice": {"type": "bogus"}})
        ))
        .is_err());
    }

    #[test]
    fn long_tool_names_are_sent_shortened_everywhere() {
        let long = format!("mcp__server__{}", "t".repeat(70));
        let short = super::super::names::sent(&long);
        let c = chat(json!({
            "model": "m", "tools": [{"name": long, "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "tool", "name": long},
            "messages": [{"role": "user", "content": "x"},
                         {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": long, "input": {}}]}],
        }));
        assert_eq!(c["tools"][0]["function"]["name"], json!(short));
        assert_eq!(c["tool_choice"]["function"]["name"], json!(short));
        assert_eq!(
            c["messages"][1]["tool_calls"][0]["function"]["name"],
            json!(short)
        );
    }

    #[test]
    fn thinking_budgets_become_efforts() {
        let effort = |t: Value| {
            chat(json!({"model": "m", "messages": [], "thinking": t}))["reasoning_effort"].clone()
        };
        assert_eq!(
            effort(json!({"type": "enabled", "budget_tokens": 1024})),
            "low"
        );
        assert_eq!(
            effort(json!({"type": "enabled", "budget_tokens": 3000})),
            "medium"
        );
        assert_eq!(
            effort(json!({"type": "enabled", "budget_tokens": 10000})),
            "high"
        );
        assert_eq!(effort(json!({"type": "disabled"})), Value::Null);
    }
}
