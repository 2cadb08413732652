//! OpenAI chat request → Bedrock Converse request body.

use base64::Engine;
use llmgate_types::{ChatCompletionRequest, ChatMessage, ImageUrl, MessageContent};
use serde_json::{json, Map, Value};

use crate::LlmError;

/// The name a tool with an empty name gets: Bedrock refuses empty names.
const UNNAMED_TOOL: &str = "unnamed_tool";

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg).with_provider(super::NAME)
}

/// A name Bedrock accepts (`[a-zA-Z][a-zA-Z0-9_-]*`, as LiteLLM normalizes it): an empty name
/// becomes [`UNNAMED_TOOL`], a leading non-letter gets an `a`, other characters become `_`.
/// [`original_names`] maps the answer's names back.
pub fn tool_name(name: &str) -> String {
    if name.trim().is_empty() {
        return UNNAMED_TOOL.to_string();
    }
    let mut out = String::with_capacity(name.len() + 1);
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.push('a');
    }
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            c
        } else {
            '_'
        }
    }));
    out
}

/// Bedrock's name → the client's, for every tool whose name [`tool_name`] changed.
pub fn original_names(req: &ChatCompletionRequest) -> Vec<(String, String)> {
    req.tools
        .iter()
        .flatten()
        .filter_map(|t| t.function.as_ref())
        .map(|f| (tool_name(&f.name), f.name.clone()))
        .filter(|(b, o)| b != o)
        .collect()
}

/// Whether the model is one of Anthropic's Claude models (any region prefix).
pub fn is_claude(model: &str) -> bool {
    model.contains("anthropic.") || model.contains("claude")
}

/// `data:<mime>;base64,<data>` → (mime, base64 data).
fn data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (mime, data) = rest.split_once(";base64,")?;
    Some((mime, data))
}

/// An `image_url` part (a data URL by now: remote ones are inlined by [`super::media`]) → an
/// image block, or a document block for `application/*` and `text/*` as LiteLLM sends them.
/// `format` (a MIME type) overrides the data URL's.
fn image_block(url: &str, format: Option<&str>, docs: &mut usize) -> Result<Value, LlmError> {
    let (mime, data) = data_url(url).ok_or_else(|| {
        bad("Bedrock takes images as base64 data URLs (data:image/png;base64,...) or http(s) URLs")
    })?;
    let mime = format.unwrap_or(mime);
    if mime.starts_with("application/") || mime.starts_with("text/") {
        *docs += 1;
        return document(mime, data, None, *docs);
    }
    let format = match mime.strip_prefix("image/") {
        Some("jpg") | Some("jpeg") => "jpeg",
        Some(f @ ("png" | "gif" | "webp")) => f,
        _ => return Err(bad(format!("unsupported image type for Bedrock: {mime}"))),
    };
    Ok(json!({"image": {"format": format, "source": {"bytes": data}}}))
}

/// An OpenAI `file` part (`file_data` as a data URL) → a Converse document block.
fn document_block(file: &Value, n: usize) -> Result<Value, LlmError> {
    let url = file["file_data"]
        .as_str()
        .ok_or_else(|| bad("Bedrock takes documents as file_data data URLs"))?;
    let (mime, data) = data_url(url).ok_or_else(|| bad("file_data must be a base64 data URL"))?;
    document(mime, data, file["filename"].as_str(), n)
}

fn document(mime: &str, data: &str, filename: Option<&str>, n: usize) -> Result<Value, LlmError> {
    let format = match mime {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "text/html" => "html",
        "text/plain" => "txt",
        "text/markdown" => "md",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        other => {
            return Err(bad(format!(
                "unsupported document type for Bedrock: {other}"
            )))
        }
    };
    // Bedrock allows letters, digits, spaces, hyphens, parentheses and brackets in names.
    let name: String = filename
        .map(|f| f.rsplit_once('.').map_or(f, |(stem, _)| stem))
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -()[]".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = if name.trim().is_empty() {
        format!("document-{n}")
    } else {
        name
    };
    // Validate the base64 now: Bedrock would answer a less helpful 400.
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| bad(format!("file_data is not valid base64: {e}")))?;
    Ok(json!({"document": {"format": format, "name": name, "source": {"bytes": data}}}))
}

fn content_blocks(
    content: &Option<MessageContent>,
    docs: &mut usize,
) -> Result<Vec<Value>, LlmError> {
    let Some(content) = content else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    match content {
        MessageContent::Text(t) => {
            if !t.is_empty() {
                out.push(json!({"text": t}));
            }
        }
        MessageContent::Parts(parts) => {
            for p in parts {
                match p.kind.as_str() {
                    "text" => {
                        if let Some(t) = p.text.as_deref().filter(|t| !t.is_empty()) {
                            out.push(json!({"text": t}));
                        }
                    }
                    "image_url" => {
                        let url = p.image_url.as_ref().map(|u| u.url()).unwrap_or("");
                        let format = match &p.image_url {
                            Some(ImageUrl::Object { extra, .. }) => {
                                extra.get("format").and_then(Value::as_str)
                            }
                            _ => None,
                        };
                        out.push(image_block(url, format, docs)?);
                    }
                    "file" => {
                        *docs += 1;
                        out.push(document_block(&p.extra["file"], *docs)?);
                    }
                    other => return Err(bad(format!("unsupported content part type: {other}"))),
                }
                if p.extra.get("cache_control").is_some_and(|c| !c.is_null()) {
                    out.push(json!({"cachePoint": {"type": "default"}}));
                }
            }
        }
    }
    Ok(out)
}

fn tool_result(m: &ChatMessage) -> Value {
    let text = m.text_content();
    json!({"toolResult": {
        "toolUseId": m.tool_call_id.clone().unwrap_or_default(),
        "content": [{"text": if text.is_empty() { ".".to_string() } else { text }}],
    }})
}

fn assistant_blocks(m: &ChatMessage, docs: &mut usize) -> Result<Vec<Value>, LlmError> {
    let mut out = content_blocks(&m.content, docs)?;
    for call in m.tool_calls.iter().flatten() {
        let input: Value = if call.function.arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&call.function.arguments)
                .map_err(|e| bad(format!("tool call arguments are not valid JSON: {e}")))?
        };
        out.push(json!({"toolUse": {
            "toolUseId": call.id.clone().unwrap_or_default(),
            "name": tool_name(&call.function.name),
            "input": input,
        }}));
    }
    Ok(out)
}

/// Appends blocks to the conversation, merging into the previous message of the same role:
/// Converse wants user and assistant turns to alternate.
fn push(messages: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut().filter(|m| m["role"] == role) {
        if let Some(c) = last["content"].as_array_mut() {
            c.extend(blocks);
            return;
        }
    }
    messages.push(json!({"role": role, "content": blocks}));
}

fn tool_config(req: &ChatCompletionRequest, history_has_tools: bool) -> Option<Value> {
    let tools: Vec<Value> = req
        .tools
        .iter()
        .flatten()
        .filter_map(|t| t.function.as_ref())
        .map(|f| {
            let mut spec = Map::new();
            spec.insert("name".into(), json!(tool_name(&f.name)));
            if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
                spec.insert("description".into(), json!(d));
            }
            let schema = f
                .parameters
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            spec.insert("inputSchema".into(), json!({"json": schema}));
            json!({"toolSpec": spec})
        })
        .collect();
    let choice = match &req.tool_choice {
        Some(Value::String(s)) if s == "none" => None,
        Some(Value::String(s)) if s == "required" => Some(json!({"any": {}})),
        Some(Value::String(s)) if s == "auto" => Some(json!({"auto": {}})),
        Some(Value::Object(o)) => o["function"]["name"]
            .as_str()
            .map(|n| json!({"tool": {"name": tool_name(n)}})),
        _ => None,
    };
    if tools.is_empty() || req.tool_choice.as_ref().is_some_and(|c| c == "none") {
        // Converse refuses a history with tool blocks and no toolConfig: LiteLLM adds a
        // placeholder tool the model is never told to use.
        return history_has_tools.then(|| {
            json!({"tools": [{"toolSpec": {"name": "dummy_tool", "description": "This is a dummy tool call", "inputSchema": {"json": {"type": "object", "properties": {}}}}}]})
        });
    }
    let mut cfg = json!({"tools": tools});
    if let Some(c) = choice {
        cfg["toolChoice"] = c;
    }
    Some(cfg)
}

/// Claude's extended thinking from `thinking` or `reasoning_effort`; other families'
/// reasoning config (Nova) from `reasoning_effort`.
fn reasoning(
    req: &ChatCompletionRequest,
    model: &str,
) -> Result<Option<(String, Value)>, LlmError> {
    if let Some(t) = req.extra.get("thinking").filter(|t| !t.is_null()) {
        return Ok(Some(("thinking".into(), t.clone())));
    }
    let Some(effort) = req.reasoning_effort.as_deref() else {
        return Ok(None);
    };
    if is_claude(model) {
        let budget = match effort {
            "none" => return Ok(None),
            "minimal" | "low" => 1024,
            "medium" => 2048,
            "high" => 4096,
            other => {
                return Err(bad(format!(
                    "Unmapped reasoning effort: '{other}'. Must be one of: 'minimal', 'low', 'medium', 'high', 'none'."
                )))
            }
        };
        return Ok(Some((
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": budget}),
        )));
    }
    if effort == "none" {
        return Ok(None);
    }
    Ok(Some((
        "reasoningConfig".into(),
        json!({"type": "enabled", "maxReasoningEffort": effort}),
    )))
}

/// The Converse body for `req` (`model` is the Bedrock model id).
pub fn build(req: &ChatCompletionRequest, model: &str) -> Result<Value, LlmError> {
    let mut system = Vec::new();
    let mut messages = Vec::new();
    let mut docs = 0usize;
    let mut history_has_tools = false;
    for m in &req.messages {
        match m.role.as_str() {
            "system" | "developer" => system.extend(content_blocks(&m.content, &mut docs)?),
            "user" => push(
                &mut messages,
                "user",
                content_blocks(&m.content, &mut docs)?,
            ),
            "assistant" => {
                history_has_tools |= m.tool_calls.as_ref().is_some_and(|c| !c.is_empty());
                push(&mut messages, "assistant", assistant_blocks(m, &mut docs)?)
            }
            "tool" | "function" => {
                history_has_tools = true;
                push(&mut messages, "user", vec![tool_result(m)])
            }
            other => return Err(bad(format!("unsupported message role: {other}"))),
        }
    }
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let mut inference = Map::new();
    if let Some(n) = req.max_completion_tokens.or(req.max_tokens) {
        inference.insert("maxTokens".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        inference.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        inference.insert("topP".into(), json!(p));
    }
    match &req.stop {
        Some(Value::String(s)) => {
            inference.insert("stopSequences".into(), json!([s]));
        }
        Some(Value::Array(a)) if !a.is_empty() => {
            inference.insert("stopSequences".into(), Value::Array(a.clone()));
        }
        _ => {}
    }
    let mut additional = match req.extra.get("additionalModelRequestFields") {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    if let Some((k, v)) = reasoning(req, model)? {
        if k == "thinking" {
            // Claude wants room past the thinking budget and no sampling changes while thinking.
            let budget = v["budget_tokens"].as_u64().unwrap_or(0);
            let max = inference.get("maxTokens").and_then(Value::as_u64);
            if max.is_none_or(|m| m <= budget) {
                inference.insert("maxTokens".into(), json!(budget + 4096));
            }
        }
        additional.insert(k, v);
    }
    if let Some(k) = req.extra.get("top_k").filter(|v| !v.is_null()) {
        additional.insert(
            if is_claude(model) { "top_k" } else { "topK" }.into(),
            k.clone(),
        );
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if !additional.is_empty() {
        body.insert(
            "additionalModelRequestFields".into(),
            Value::Object(additional),
        );
    }
    if let Some(cfg) = tool_config(req, history_has_tools) {
        body.insert("toolConfig".into(), cfg);
    }
    for key in [
        "guardrailConfig",
        "performanceConfig",
        "promptVariables",
        "requestMetadata",
    ] {
        if let Some(v) = req.extra.get(key).filter(|v| !v.is_null()) {
            body.insert(key.into(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> ChatCompletionRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn system_inference_and_stop() {
        let b = build(
            &req(json!({"model": "m", "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"}],
                "max_tokens": 10, "temperature": 0.5, "top_p": 0.9, "stop": "END"})),
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
        )
        .unwrap();
        assert_eq!(b["system"], json!([{"text": "be brief"}]));
        assert_eq!(
            b["messages"],
            json!([{"role": "user", "content": [{"text": "hi"}]}])
        );
        assert_eq!(
            b["inferenceConfig"],
            json!({"maxTokens": 10, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]})
        );
    }

    #[test]
    fn tools_calls_and_results() {
        let b = build(
            &req(json!({"model": "m", "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
                {"role": "tool", "tool_call_id": "t2", "content": "rain"}],
                "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}}})),
            "m",
        )
        .unwrap();
        let msgs = b["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[1]["content"][0]["toolUse"]["name"], "unnamed_tool");
        assert_eq!(
            msgs[1]["content"][0]["toolUse"]["input"],
            json!({"city": "Paris"})
        );
        assert_eq!(msgs[2]["content"].as_array().unwrap().len(), 2);
        assert_eq!(msgs[2]["content"][1]["toolResult"]["toolUseId"], "t2");
        assert_eq!(
            b["toolConfig"]["toolChoice"],
            json!({"tool": {"name": "get_weather"}})
        );
        assert_eq!(
            b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["type"],
            "object"
        );
    }

    #[test]
    fn image_parts_by_mime_type() {
        let b = build(
            &req(json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:application/pdf;base64,JVBERi0="}},
                {"type": "image_url", "image_url": {"url": "data:application/octet-stream;base64,AAAA", "format": "image/jpeg"}}]}]})),
            "amazon.nova-lite-v1:0",
        )
        .unwrap();
        let c = &b["messages"][0]["content"];
        assert_eq!(
            c[0]["document"],
            json!({"format": "pdf", "name": "document-1", "source": {"bytes": "JVBERi0="}})
        );
        assert_eq!(c[1]["image"]["format"], "jpeg");
        let err = build(
            &req(
                json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]}]}),
            ),
            "amazon.nova-lite-v1:0",
        )
        .unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::BadRequest);
    }

    #[test]
    fn thinking_images_documents_and_guardrails() {
        let b = build(
            &req(json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "file", "file": {"filename": "report.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}}]}],
                "reasoning_effort": "low", "guardrailConfig": {"guardrailIdentifier": "g", "guardrailVersion": "1"}})),
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        )
        .unwrap();
        let c = &b["messages"][0]["content"];
        assert_eq!(c[1]["image"]["format"], "png");
        assert_eq!(
            c[2]["document"],
            json!({"format": "pdf", "name": "report", "source": {"bytes": "JVBERi0="}})
        );
        assert_eq!(
            b["additionalModelRequestFields"]["thinking"],
            json!({"type": "enabled", "budget_tokens": 1024})
        );
        assert_eq!(b["inferenceConfig"]["maxTokens"], 1024 + 4096);
        assert_eq!(b["guardrailConfig"]["guardrailIdentifier"], "g");
        let nova = build(
            &req(json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "high"})),
            "us.amazon.nova-2-lite-v1:0",
        )
        .unwrap();
        assert_eq!(
            nova["additionalModelRequestFields"]["reasoningConfig"]["maxReasoningEffort"],
            "high"
        );
    }
}
