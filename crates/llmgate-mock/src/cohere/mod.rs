//! Cohere's v2 API as its reference docs describe it: `POST /v2/chat` (JSON, or with
//! `"stream": true` SSE events `message-start`, `content-start/-delta/-end`,
//! `tool-plan-delta`, `tool-call-start/-delta/-end`, `citation-start/-end`, `message-end`),
//! `/v2/embed`, and `/v2/rerank` (`/v1/rerank` too). Every route wants
//! `Authorization: Bearer <key>`; errors are `{"id": ..., "message": ...}`. Like the real API
//! it refuses fields it does not know (OpenAI's `top_p`, `stop`, `n`, `stream_options`, ...),
//! a `tool_choice` other than `REQUIRED`/`NONE` and a `response_format` other than `text` or
//! `json_object`. The model name picks a behaviour as on the OpenAI routes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::{recorded, sse};
use crate::Shared;

mod embed;
pub use embed::{embed, rerank};

const WORDS: [&str; 3] = ["Hello", " from", " Cohere"];
/// Top-level chat fields Cohere v2 takes; anything else is refused.
const CHAT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "tools",
    "documents",
    "citation_options",
    "response_format",
    "safety_mode",
    "max_tokens",
    "stop_sequences",
    "temperature",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "k",
    "p",
    "logprobs",
    "tool_choice",
    "strict_tools",
    "thinking",
    "priority",
];

pub(crate) fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"id": "mock-error-id", "message": message});
    (code, axum::Json(body)).into_response()
}

/// The body (recorded), its model and the behaviour the model asks for; `Err` is the answer.
pub(crate) fn admit(
    shared: &Shared,
    m: &Method,
    u: &Uri,
    h: &HeaderMap,
    b: &Bytes,
) -> Result<(Value, String, Behaviour), Box<Response>> {
    let body: Option<Value> = serde_json::from_slice(b).ok();
    shared.record(|| recorded(m, u, h, body.clone().unwrap_or(Value::Null)));
    let bearer = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .filter(|k| !k.trim().is_empty());
    if bearer.is_none() {
        return Err(Box::new(error(401, "no api key supplied")));
    }
    let Some(body) = body.filter(Value::is_object) else {
        return Err(Box::new(error(
            400,
            "invalid request: body is not a JSON object",
        )));
    };
    let Some(model) = body["model"].as_str().map(str::to_string) else {
        return Err(Box::new(error(
            400,
            "invalid request: model must be a string",
        )));
    };
    let behaviour = shared.overrides.behaviour(&model);
    match behaviour {
        Behaviour::Error(code) => Err(Box::new(error(code, &format!("mock error {code}")))),
        Behaviour::ContextWindow => Err(Box::new(error(
            400,
            "invalid request: message must be at least 1 token long or tool results must be specified.",
        ))),
        b => Ok((body, model, b)),
    }
}

/// What the request asks of the chat that the real API would refuse.
fn invalid(body: &Value) -> Option<String> {
    let obj = body.as_object()?;
    if let Some(k) = obj.keys().find(|k| !CHAT_FIELDS.contains(&k.as_str())) {
        return Some(format!(
            "invalid request: unknown field: parameter {k} is not a valid field"
        ));
    }
    let messages = body["messages"].as_array().filter(|m| !m.is_empty());
    let Some(messages) = messages else {
        return Some("invalid request: messages must be a non-empty list".into());
    };
    for m in messages {
        match m["role"].as_str() {
            Some("system" | "user" | "assistant" | "tool") => {}
            _ => {
                return Some(
                    "invalid request: message role must be one of system, user, assistant, tool"
                        .into(),
                )
            }
        }
        if m.get("content").is_some_and(Value::is_null) {
            return Some("invalid request: content must not be null".into());
        }
        let fields = [
            "role",
            "content",
            "tool_calls",
            "tool_call_id",
            "tool_plan",
            "citations",
        ];
        if let Some(k) = m
            .as_object()?
            .keys()
            .find(|k| !fields.contains(&k.as_str()))
        {
            return Some(format!(
                "invalid request: unknown field: parameter messages.{k} is not a valid field"
            ));
        }
        for p in m["content"].as_array().into_iter().flatten() {
            let kind = p["type"].as_str().unwrap_or_default();
            if !["text", "image_url", "document", "thinking"].contains(&kind)
                || p.get("cache_control").is_some()
            {
                return Some(format!("invalid request: invalid content part {p}"));
            }
        }
        if m["role"] == "tool" && !m["tool_call_id"].is_string() {
            return Some("invalid request: tool messages need a tool_call_id".into());
        }
    }
    if let Some(c) = body.get("tool_choice") {
        if !matches!(c.as_str(), Some("REQUIRED" | "NONE")) {
            return Some("invalid request: tool_choice must be one of REQUIRED, NONE".into());
        }
    }
    if let Some(rf) = body.get("response_format") {
        if !matches!(rf["type"].as_str(), Some("text" | "json_object")) {
            return Some(
                "invalid request: response_format type must be text or json_object".into(),
            );
        }
    }
    None
}

fn words(v: &Value) -> u64 {
    v.to_string().split_whitespace().count() as u64
}

/// The call the mock makes when tools are offered and the last turn is not a tool's answer.
fn tool_call(body: &Value) -> Option<Value> {
    let last = body["messages"].as_array()?.last()?;
    let name = body["tools"][0]["function"]["name"].as_str()?;
    (last["role"] != "tool" && body["tool_choice"] != "NONE").then(|| {
        json!({"id": format!("{name}_mock1"), "type": "function",
               "function": {"name": name, "arguments": "{\"location\":\"Paris\"}"}})
    })
}

fn text(body: &Value) -> Vec<String> {
    if body["response_format"]["type"] == "json_object" {
        return vec![r#"{"answer": 42}"#.to_string()];
    }
    WORDS.iter().map(|w| w.to_string()).collect()
}

/// A citation of the first document, when the request has documents.
fn citation(body: &Value) -> Option<Value> {
    let doc = body["documents"].as_array()?.first()?;
    let id = doc["id"].as_str().unwrap_or("doc_0");
    let data = doc.get("data").unwrap_or(doc);
    Some(
        json!({"start": 0, "end": 5, "text": "Hello", "type": "TEXT_CONTENT",
        "sources": [{"type": "document", "id": id, "document": data}]}),
    )
}

fn usage(input: u64, output: u64) -> Value {
    json!({"billed_units": {"input_tokens": input, "output_tokens": output},
           "tokens": {"input_tokens": input + 10, "output_tokens": output}})
}

/// `POST /v2/chat`.
pub async fn chat(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let (body, _model, behaviour) = match admit(&shared, &m, &u, &h, &b) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if let Some(msg) = invalid(&body) {
        return error(400, &msg);
    }
    if let Behaviour::Slow(d) = behaviour {
        tokio::time::sleep(d).await;
    }
    let input = words(&body["messages"]);
    let call = tool_call(&body);
    let pieces = text(&body);
    let cite = citation(&body);
    if body["stream"] != true {
        let mut msg = json!({"role": "assistant"});
        let finish = if let Some(c) = &call {
            msg["tool_plan"] = json!("I will call the tool.");
            msg["tool_calls"] = json!([c]);
            "TOOL_CALL"
        } else {
            msg["content"] = json!([{"type": "text", "text": pieces.concat()}]);
            if let Some(c) = &cite {
                msg["citations"] = json!([c]);
            }
            "COMPLETE"
        };
        let out = pieces.len() as u64;
        return axum::Json(
            json!({"id": "mock-chat-1", "finish_reason": finish, "message": msg,
            "usage": usage(input, out)}),
        )
        .into_response();
    }
    let mut events = vec![(
        "message-start",
        json!({"id": "mock-chat-1", "delta": {"message": {"role": "assistant", "content": [],
            "tool_plan": "", "tool_calls": [], "citations": []}}}),
    )];
    let finish = if let Some(c) = &call {
        events.push((
            "tool-plan-delta",
            json!({"delta": {"message": {"tool_plan": "I will call the tool."}}}),
        ));
        let mut start = c.clone();
        start["function"]["arguments"] = json!("");
        events.push((
            "tool-call-start",
            json!({"index": 0, "delta": {"message": {"tool_calls": start}}}),
        ));
        for part in ["{\"location\":", "\"Paris\"}"] {
            events.push((
                "tool-call-delta",
                json!({"index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": part}}}}}),
            ));
        }
        events.push(("tool-call-end", json!({"index": 0})));
        "TOOL_CALL"
    } else {
        events.push((
            "content-start",
            json!({"index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
        ));
        for p in &pieces {
            events.push((
                "content-delta",
                json!({"index": 0, "delta": {"message": {"content": {"text": p}}}}),
            ));
        }
        if let Some(c) = &cite {
            events.push((
                "citation-start",
                json!({"index": 0, "delta": {"message": {"citations": c}}}),
            ));
            events.push(("citation-end", json!({"index": 0})));
        }
        events.push(("content-end", json!({"index": 0})));
        "COMPLETE"
    };
    let end = if behaviour == Behaviour::StreamError {
        events.truncate(3);
        json!({"delta": {"finish_reason": "ERROR", "error": "mock stream error"}})
    } else {
        json!({"delta": {"finish_reason": finish, "usage": usage(input, pieces.len() as u64)}})
    };
    events.push(("message-end", end));
    let frames = events
        .into_iter()
        .map(|(kind, mut data)| {
            data["type"] = json!(kind);
            format!("event: {kind}\ndata: {data}\n\n")
        })
        .collect();
    sse(shared, behaviour, frames)
}
