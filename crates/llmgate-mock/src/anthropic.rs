//! Anthropic's Messages API (`POST /v1/messages`), validating requests as the real API does:
//! required headers and fields, no unknown top-level fields, alternating user/assistant turns,
//! tool results that answer a preceding tool_use, supported image types.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::{pieces, recorded, sse};
use crate::Shared;

const CONTENT: &str = "Hello from mock";
/// Picks the behaviour instead of the model name (same names: `mock-error-429`, `mock-tool`...).
pub const BEHAVIOUR_HEADER: &str = "x-mock-behaviour";
const TOP_LEVEL: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
    "output_format",
    "output_config",
    "cache_control",
];
const BLOCKS: &[&str] = &[
    "text",
    "image",
    "document",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "search_result",
    "container_upload",
];
const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

fn error(status: u16, message: &str) -> Response {
    let kind = match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (
        code,
        axum::Json(json!({"type": "error", "error": {"type": kind, "message": message}})),
    )
        .into_response();
    headers(&mut res);
    if status == 429 {
        res.headers_mut()
            .insert("retry-after", HeaderValue::from_static("7"));
    }
    res
}

fn headers(res: &mut Response) {
    res.headers_mut()
        .insert("request-id", HeaderValue::from_static("req_mock_1"));
    res.headers_mut().insert(
        "anthropic-ratelimit-requests-remaining",
        HeaderValue::from_static("99"),
    );
}

/// What the real API would reject, as its message.
fn validate(h: &HeaderMap, body: &Value) -> Result<(), (u16, String)> {
    if !h.contains_key("x-api-key") {
        return Err((401, "x-api-key header is required".into()));
    }
    if !h.contains_key("anthropic-version") {
        return Err((400, "anthropic-version: header is required".into()));
    }
    let beta = h
        .get("anthropic-beta")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if body.get("output_format").is_some() && !beta.contains("structured-outputs") {
        return Err((
            400,
            "output_format: Extra inputs are not permitted (requires the structured-outputs beta)"
                .into(),
        ));
    }
    validate_body(body, None)
}

/// On Vertex and Bedrock (`version`: the `anthropic_version` the body must name) the model is
/// in the URL and the version in the body.
fn validate_body(body: &Value, version: Option<&str>) -> Result<(), (u16, String)> {
    let vertex = version.is_some();
    let obj = body
        .as_object()
        .ok_or((400, "body must be a JSON object".to_string()))?;
    let allowed = |k: &str| {
        if vertex {
            k == "anthropic_version" || (k != "model" && TOP_LEVEL.contains(&k))
        } else {
            TOP_LEVEL.contains(&k)
        }
    };
    if let Some(k) = obj.keys().find(|k| !allowed(k)) {
        return Err((400, format!("{k}: Extra inputs are not permitted")));
    }
    if let Some(v) = version.filter(|v| body["anthropic_version"] != *v) {
        return Err((400, format!("anthropic_version: Input should be '{v}'")));
    }
    if !vertex && !body["model"].is_string() {
        return Err((400, "model: Field required".into()));
    }
    if body["max_tokens"].as_u64().is_none_or(|n| n < 1) {
        return Err((400, "max_tokens: Field required".into()));
    }
    if let Some(t) = body["temperature"].as_f64() {
        if !(0.0..=1.0).contains(&t) {
            return Err((400, "temperature: range: 0..1".into()));
        }
    }
    if let Some(sys) = body.get("system") {
        let ok = sys.is_string()
            || sys
                .as_array()
                .is_some_and(|a| a.iter().all(|b| b["type"] == "text"));
        if !ok {
            return Err((
                400,
                "system: Input should be a valid string or a list of text blocks".into(),
            ));
        }
    }
    for (i, t) in body["tools"].as_array().into_iter().flatten().enumerate() {
        if !t["name"].is_string() || (t.get("type").is_none() && !t["input_schema"].is_object()) {
            return Err((
                400,
                format!("tools.{i}: name and input_schema are required"),
            ));
        }
    }
    let msgs = body["messages"]
        .as_array()
        .filter(|m| !m.is_empty())
        .ok_or((
            400,
            "messages: at least one message is required".to_string(),
        ))?;
    let mut prev_role = "";
    let mut prev_tool_ids: Vec<String> = vec![];
    for (i, m) in msgs.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or("");
        // Claude 4.8 and later take a system message inside the conversation: right after a
        // user turn, before an assistant turn or at the end.
        if role == "system" {
            let next = msgs.get(i + 1).map(|n| n["role"].as_str().unwrap_or(""));
            if prev_role != "user" || next.is_some_and(|n| n != "assistant") {
                return Err((400, format!("messages.{i}: a system message must follow a user turn and precede an assistant turn or end the conversation")));
            }
            continue;
        }
        if role != "user" && role != "assistant" {
            return Err((
                400,
                format!("messages.{i}.role: Input should be 'user' or 'assistant'"),
            ));
        }
        if i == 0 && role != "user" {
            return Err((
                400,
                "messages: first message must use the \"user\" role".into(),
            ));
        }
        if role == prev_role {
            return Err((400, format!("messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"{role}\" roles in a row")));
        }
        let blocks: Vec<Value> = match &m["content"] {
            Value::String(s) if !s.is_empty() => vec![json!({"type": "text", "text": s})],
            Value::Array(a) if !a.is_empty() => a.clone(),
            _ => {
                return Err((
                    400,
                    format!("messages.{i}: all messages must have non-empty content"),
                ))
            }
        };
        let mut tool_ids = vec![];
        for (j, b) in blocks.iter().enumerate() {
            let kind = b["type"].as_str().unwrap_or("");
            if !BLOCKS.contains(&kind) {
                return Err((
                    400,
                    format!("messages.{i}.content.{j}.type: unknown block type '{kind}'"),
                ));
            }
            match kind {
                "text" if b["text"].as_str().is_none_or(str::is_empty) => {
                    return Err((
                        400,
                        format!(
                            "messages.{i}.content.{j}.text: text content blocks must be non-empty"
                        ),
                    ))
                }
                "image" => {
                    let src = &b["source"];
                    if src["type"] == "base64"
                        && !IMAGE_TYPES.contains(&src["media_type"].as_str().unwrap_or(""))
                    {
                        return Err((400, format!("messages.{i}.content.{j}.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'")));
                    }
                }
                "tool_use" if role == "assistant" => {
                    tool_ids.push(b["id"].as_str().unwrap_or("").to_string())
                }
                "tool_result" => {
                    let id = b["tool_use_id"].as_str().unwrap_or("");
                    if role != "user" || !prev_tool_ids.iter().any(|t| t == id) {
                        return Err((400, format!("messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.")));
                    }
                }
                _ => {}
            }
        }
        prev_role = role;
        prev_tool_ids = tool_ids;
    }
    Ok(())
}

/// The answer's content blocks: thinking when asked, a tool call when the model name says so
/// (or a tool is forced), else text.
fn blocks(name: &str, req: &Value) -> (Vec<Value>, &'static str) {
    let (out, stop) = answer_blocks(name, req);
    // `mock-stop-<reason>`: the text answer, ended for that reason.
    let stop = match name.strip_prefix("mock-stop-") {
        Some("max_tokens") => "max_tokens",
        Some("stop_sequence") => "stop_sequence",
        Some("refusal") => "refusal",
        Some("pause_turn") => "pause_turn",
        _ => stop,
    };
    (out, stop)
}

fn answer_blocks(name: &str, req: &Value) -> (Vec<Value>, &'static str) {
    let mut out = vec![];
    if req["thinking"]["type"] == "enabled" || req["thinking"]["type"] == "adaptive" {
        out.push(json!({"type": "thinking", "thinking": "Let me think.", "signature": "sig-mock"}));
    }
    let last_is_tool_result = req["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_array())
        .is_some_and(|c| c.iter().any(|b| b["type"] == "tool_result"));
    let forced = req["tool_choice"]["name"].as_str();
    let tool = forced.or_else(|| {
        (name.contains("tool") && !last_is_tool_result)
            .then(|| req["tools"][0]["name"].as_str())
            .flatten()
    });
    if req.get("output_format").is_some() {
        out.push(json!({"type": "text", "text": "{\"location\": \"Paris\"}"}));
        return (out, "end_turn");
    }
    match tool {
        Some(tool) => {
            out.push(json!({"type": "tool_use", "id": "toolu_mock_1", "name": tool, "input": {"location": "Paris"}}));
            // `mock-tool-parallel`: a second call in the same turn.
            if name.contains("parallel") && forced.is_none() {
                out.push(json!({"type": "tool_use", "id": "toolu_mock_2", "name": tool, "input": {"location": "Rome"}}));
            }
            (out, "tool_use")
        }
        None => {
            out.push(json!({"type": "text", "text": CONTENT}));
            (out, "end_turn")
        }
    }
}

fn usage(name: &str) -> Value {
    let (write, read) = if name.contains("cache") {
        (20, 50)
    } else {
        (0, 0)
    };
    json!({"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": write, "cache_read_input_tokens": read})
}

fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

fn stream_events(model: &str, name: &str, req: &Value) -> Vec<String> {
    let mut u = usage(name);
    u["output_tokens"] = json!(1);
    let mut ev = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {
            "id": "msg_mock", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": null, "stop_sequence": null, "usage": u}}),
        ),
        event("ping", json!({"type": "ping"})),
    ];
    let (content, stop) = blocks(name, req);
    let failing = Behaviour::of(name) == Behaviour::StreamError;
    for (i, b) in content.iter().enumerate() {
        let start = match b["type"].as_str() {
            Some("text") => json!({"type": "text", "text": ""}),
            Some("thinking") => json!({"type": "thinking", "thinking": ""}),
            _ => json!({"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}),
        };
        ev.push(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": i, "content_block": start}),
        ));
        let deltas: Vec<Value> = match b["type"].as_str() {
            Some("text") => pieces(CONTENT)
                .into_iter()
                .map(|p| json!({"type": "text_delta", "text": p}))
                .collect(),
            Some("thinking") => vec![
                json!({"type": "thinking_delta", "thinking": b["thinking"]}),
                json!({"type": "signature_delta", "signature": b["signature"]}),
            ],
            _ => pieces(&b["input"].to_string())
                .into_iter()
                .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                .collect(),
        };
        for (k, d) in deltas.into_iter().enumerate() {
            if failing && k == 2 {
                ev.push(event("error", json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})));
                return ev;
            }
            ev.push(event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": i, "delta": d}),
            ));
        }
        ev.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": i}),
        ));
    }
    ev.push(event(
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 5}}),
    ));
    ev.push(event("message_stop", json!({"type": "message_stop"})));
    ev
}

pub async fn messages(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    let Some(body) = body else {
        return error(400, "There was an error parsing the body of your request");
    };
    if let Err((status, msg)) = validate(&h, &body) {
        return error(status, &msg);
    }
    let model = body["model"].as_str().unwrap_or("");
    // A behaviour header lets a client pick a behaviour while naming a real model (an unknown
    // model name changes what clients send, e.g. the default max_tokens).
    let name = h
        .get(BEHAVIOUR_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(model);
    let stream = body["stream"].as_bool().unwrap_or(false);
    respond(shared, model, name, stream, &body).await
}

/// `POST /v1/messages/count_tokens`: a count for any valid request (the model field included).
pub async fn count_tokens(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    shared.record(|| recorded(&m, &u, &h, body.clone()));
    if !h.contains_key("x-api-key") && !h.contains_key("authorization") {
        return error(401, "x-api-key header is required");
    }
    let mut probe = body.clone();
    probe["max_tokens"] = json!(1);
    if let Err((status, msg)) = validate_body(&probe, None) {
        return error(status, &msg);
    }
    axum::Json(json!({"input_tokens": 13})).into_response()
}

/// Claude on Vertex AI: `rawPredict` / `streamRawPredict` (auth checked by the caller).
pub async fn vertex_claude(
    shared: Arc<Shared>,
    model: &str,
    method: &str,
    body: Option<Value>,
) -> Response {
    let Some(body) = body else {
        return error(400, "There was an error parsing the body of your request");
    };
    if let Err((status, msg)) = validate_body(&body, Some("vertex-2023-10-16")) {
        return error(status, &msg);
    }
    let stream = method == "streamRawPredict";
    if stream != body["stream"].as_bool().unwrap_or(false) {
        return error(
            400,
            "streamRawPredict requires \"stream\": true (and rawPredict its absence)",
        );
    }
    respond(shared, model, model, stream, &body).await
}

/// Answers as the behaviour `name` picks (the model name, or the behaviour header).
async fn respond(
    shared: Arc<Shared>,
    model: &str,
    name: &str,
    stream: bool,
    body: &Value,
) -> Response {
    match Behaviour::of(name) {
        Behaviour::Error(code) => return error(code, &format!("mock error {code}")),
        Behaviour::ContextWindow => {
            return error(400, "prompt is too long: 200001 tokens > 200000 maximum")
        }
        Behaviour::Slow(d) => tokio::time::sleep(d).await,
        Behaviour::StreamError if !stream => return error(529, "Overloaded"),
        _ => {}
    }
    if stream {
        let mut res = sse(
            shared,
            Behaviour::of(name),
            stream_events(model, name, body),
        );
        headers(&mut res);
        return res;
    }
    let mut res = (StatusCode::OK, axum::Json(message(model, name, body))).into_response();
    headers(&mut res);
    res
}

/// The Messages API's answer to `body`.
fn message(model: &str, name: &str, body: &Value) -> Value {
    let (content, stop) = blocks(name, body);
    json!({
        "id": "msg_mock", "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": stop, "stop_sequence": null, "usage": usage(name),
    })
}

/// Claude on Bedrock as InvokeModel (and a batch record's `modelInput`) takes it: the answer,
/// or why the body is refused.
pub(crate) fn bedrock_claude(model: &str, body: &Value) -> Result<Value, (u16, String)> {
    validate_body(body, Some("bedrock-2023-05-31"))?;
    Ok(message(model, model, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdrs() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_static("k"));
        h.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        h
    }

    #[test]
    fn rejects_what_the_api_rejects() {
        let ok =
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
        assert!(validate(&hdrs(), &ok).is_ok());
        assert!(validate(&HeaderMap::new(), &ok).is_err());
        let two_users = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"}]});
        assert!(validate(&hdrs(), &two_users)
            .unwrap_err()
            .1
            .contains("alternate"));
        let extra = json!({"model": "m", "max_tokens": 5, "n": 2, "messages": [{"role": "user", "content": "a"}]});
        assert!(validate(&hdrs(), &extra)
            .unwrap_err()
            .1
            .contains("Extra inputs"));
        let no_max = json!({"model": "m", "messages": [{"role": "user", "content": "a"}]});
        assert!(validate(&hdrs(), &no_max).is_err());
        let orphan = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "x", "content": "r"}]}]});
        assert!(validate(&hdrs(), &orphan).is_err());
    }
}
