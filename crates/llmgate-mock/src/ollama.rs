//! Ollama's native API (`/api/generate`, `/api/chat`, `/api/embed`), as its API docs describe:
//! JSON answers, or (the default, `stream` absent or true) one JSON object per line, the last
//! with `done: true` and the token counts. Errors are `{"error": "..."}`; an unknown model is a
//! 404. The model name picks a behaviour as on the OpenAI routes (`mock-error-500`,
//! `mock-stream-error`, ...); `mock-not-found` answers as Ollama does for a model not pulled.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::{recorded, sse};
use crate::Shared;

const CREATED_AT: &str = "2026-01-01T00:00:00.000000Z";
const WORDS: [&str; 3] = ["Hello", " from", " Ollama"];

fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(json!({"error": message}))).into_response()
}

/// The request body, recorded, and the behaviour its model asks for; `Err` is the answer.
fn admit(
    shared: &Shared,
    m: &Method,
    u: &Uri,
    h: &HeaderMap,
    b: &Bytes,
) -> Result<(Value, String, Behaviour), Box<Response>> {
    let body: Option<Value> = serde_json::from_slice(b).ok();
    shared.record(|| recorded(m, u, h, body.clone().unwrap_or(Value::Null)));
    let Some(body) = body.filter(Value::is_object) else {
        return Err(Box::new(error(400, "invalid request body")));
    };
    let Some(model) = body["model"].as_str().map(str::to_string) else {
        return Err(Box::new(error(400, "model is required")));
    };
    let behaviour = shared.overrides.behaviour(&model);
    if model == "mock-not-found" {
        return Err(Box::new(error(
            404,
            &format!("model \"{model}\" not found, try pulling it first"),
        )));
    }
    match behaviour {
        Behaviour::Error(code) => Err(Box::new(error(code, &format!("mock error {code}")))),
        Behaviour::ContextWindow => Err(Box::new(error(
            400,
            "input length exceeds the context length",
        ))),
        _ => Ok((body, model, behaviour)),
    }
}

fn streams(body: &Value) -> bool {
    body["stream"].as_bool().unwrap_or(true)
}

/// What the model "says": JSON when `format` asks for it (a `get_weather` call when the
/// prompt lists that tool, as LiteLLM describes tools to `/api/generate`), else the greeting.
fn text(body: &Value) -> String {
    let prompt = body["prompt"].as_str().unwrap_or_default();
    if body["format"] == "json" && prompt.contains("{'name': 'get_weather'") {
        return r#"{"name": "get_weather", "arguments": {"location": "Paris"}}"#.to_string();
    }
    if body["format"].is_null() {
        WORDS.concat()
    } else {
        r#"{"answer": 42}"#.to_string()
    }
}

fn thinks(body: &Value) -> bool {
    matches!(&body["think"], Value::Bool(true) | Value::String(_))
}

fn done_fields(model: &str, out: &mut Value) {
    let extra = json!({
        "model": model, "created_at": CREATED_AT, "done": true, "done_reason": "stop",
        "total_duration": 1_000_000, "load_duration": 1000, "prompt_eval_count": 12,
        "prompt_eval_duration": 1000, "eval_count": 3, "eval_duration": 1000,
    });
    if let (Some(o), Some(e)) = (out.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
}

fn lines(shared: Arc<Shared>, behaviour: Behaviour, mut objs: Vec<Value>) -> Response {
    if behaviour == Behaviour::StreamError {
        objs.truncate(2);
        objs.push(json!({"error": "an error was encountered while running the model"}));
    }
    let events = objs.iter().map(|o| format!("{o}\n")).collect();
    let mut res = sse(shared, behaviour, events);
    res.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-ndjson"),
    );
    res
}

async fn pause(b: Behaviour) {
    if let Behaviour::Slow(d) = b {
        tokio::time::sleep(d).await;
    }
}

/// `POST /api/generate`.
pub async fn generate(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let (body, model, behaviour) = match admit(&shared, &m, &u, &h, &b) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !body["prompt"].is_string() {
        return error(400, "prompt is required");
    }
    pause(behaviour).await;
    let thinking = thinks(&body).then_some("Let me think.");
    if !streams(&body) {
        let mut out = json!({"response": text(&body)});
        if let Some(t) = thinking {
            out["thinking"] = json!(t);
        }
        done_fields(&model, &mut out);
        return axum::Json(out).into_response();
    }
    let mut objs = Vec::new();
    if let Some(t) = thinking {
        objs.push(json!({"model": model, "created_at": CREATED_AT, "response": "", "thinking": t, "done": false}));
    }
    let words: Vec<String> = if body["format"].is_null() {
        WORDS.iter().map(|w| w.to_string()).collect()
    } else {
        vec![text(&body)]
    };
    for w in words {
        objs.push(json!({"model": model, "created_at": CREATED_AT, "response": w, "done": false}));
    }
    let mut last = json!({"response": ""});
    done_fields(&model, &mut last);
    objs.push(last);
    lines(shared, behaviour, objs)
}

/// The tool call the mock makes when the request offers tools (and the last message is not a
/// tool's answer): the first tool, with fixed arguments.
fn tool_call(body: &Value) -> Option<Value> {
    let last_role = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["role"].as_str());
    let name = body["tools"][0]["function"]["name"].as_str()?;
    (last_role != Some("tool"))
        .then(|| json!({"function": {"name": name, "arguments": {"location": "Paris"}}}))
}

/// `POST /api/chat`.
pub async fn chat(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let (body, model, behaviour) = match admit(&shared, &m, &u, &h, &b) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if !body["messages"].is_array() {
        return error(400, "messages is required");
    }
    pause(behaviour).await;
    let thinking = thinks(&body).then_some("Let me think.");
    let call = tool_call(&body);
    if !streams(&body) {
        let mut msg = json!({"role": "assistant", "content": if call.is_some() { String::new() } else { text(&body) }});
        if let Some(t) = thinking {
            msg["thinking"] = json!(t);
        }
        if let Some(c) = call {
            msg["tool_calls"] = json!([c]);
        }
        let mut out = json!({"message": msg});
        done_fields(&model, &mut out);
        return axum::Json(out).into_response();
    }
    let chunk = |msg: Value| json!({"model": model, "created_at": CREATED_AT, "message": msg, "done": false});
    let mut objs = Vec::new();
    if let Some(t) = thinking {
        objs.push(chunk(
            json!({"role": "assistant", "content": "", "thinking": t}),
        ));
    }
    if let Some(c) = call {
        objs.push(chunk(
            json!({"role": "assistant", "content": "", "tool_calls": [c]}),
        ));
    } else if body["format"].is_null() {
        for w in WORDS {
            objs.push(chunk(json!({"role": "assistant", "content": w})));
        }
    } else {
        objs.push(chunk(json!({"role": "assistant", "content": text(&body)})));
    }
    let mut last = json!({"message": {"role": "assistant", "content": ""}});
    done_fields(&model, &mut last);
    objs.push(last);
    lines(shared, behaviour, objs)
}

/// `POST /api/embed`: `input` a string or a list of strings; 4 numbers per input.
pub async fn embed(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let (body, model, _) = match admit(&shared, &m, &u, &h, &b) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let n = match &body["input"] {
        Value::String(_) => 1,
        Value::Array(a) if a.iter().all(Value::is_string) => a.len(),
        _ => return error(400, "invalid input type"),
    };
    let embeddings: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..4)
                .map(|j| 0.1 * (i + 1) as f64 + 0.01 * j as f64)
                .collect()
        })
        .collect();
    axum::Json(json!({
        "model": model, "embeddings": embeddings,
        "total_duration": 1000, "load_duration": 100, "prompt_eval_count": 4 * n,
    }))
    .into_response()
}
