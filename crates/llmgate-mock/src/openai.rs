//! OpenAI's wire format: chat, legacy completions, embeddings, models; JSON and SSE.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::agent::Reply;
use crate::behaviour::{error_type, Behaviour};
use crate::{RecordedRequest, Shared};

pub(crate) const CONTENT: &str = "Hello from mock";
pub(crate) const TOOL_ARGS: &str = r#"{"location":"Paris"}"#;

type St = State<Arc<Shared>>;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Chat,
    Completion,
    Embedding,
    /// Codestral's fill-in-the-middle: a prompt (and suffix) in, a chat-shaped answer out.
    Fim,
}

pub async fn chat(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
    handle(s, Endpoint::Chat, None, m, u, h, b).await
}

pub async fn completions(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
    handle(s, Endpoint::Completion, None, m, u, h, b).await
}

pub async fn embeddings(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
    handle(s, Endpoint::Embedding, None, m, u, h, b).await
}

pub async fn fim(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
    handle(s, Endpoint::Fim, None, m, u, h, b).await
}

pub async fn models(State(shared): St, m: Method, u: Uri, h: HeaderMap) -> Response {
    shared.record(|| recorded(&m, &u, &h, Value::Null));
    let data: Vec<Value> = ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 1686935002, "owned_by": "openai"}))
        .collect();
    with_headers(StatusCode::OK, json!({"object": "list", "data": data}))
}

/// Recorded too: a test that no request reached the mock must see one to an unknown path.
pub async fn not_found(
    State(shared): St,
    method: Method,
    uri: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body = serde_json::from_slice(&b).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &h, body));
    error(
        404,
        &format!("Invalid URL ({method} {})", uri.path()),
        None,
        None,
    )
}

pub(crate) fn recorded(m: &Method, u: &Uri, h: &HeaderMap, body: Value) -> RecordedRequest {
    RecordedRequest {
        method: m.to_string(),
        path: u.path().to_string(),
        query: u.query().map(str::to_string),
        headers: h
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    }
}

pub(crate) async fn handle(
    State(shared): St,
    endpoint: Endpoint,
    deployment: Option<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    shared.record(|| recorded(&method, &uri, &headers, body.clone().unwrap_or(Value::Null)));
    if !headers.contains_key("authorization") && !headers.contains_key("api-key") {
        return error(
            401,
            "You didn't provide an API key.",
            None,
            Some("invalid_request_error"),
        );
    }
    let Some(body) = body else {
        return error(
            400,
            "We could not parse the JSON body of your request.",
            None,
            None,
        );
    };
    // Azure's deployment paths, and its v1 API under `/azure` (see `azure.rs`).
    let azure = deployment.is_some() || uri.path().starts_with("/azure/");
    // `x-mock-model` names the behaviour in place of the model, so that a caller can send a
    // real model name (one its catalog knows) and still get `mock-error-429`, `*-tool`, ...
    let model = headers
        .get("x-mock-model")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| body["model"].as_str().map(str::to_string))
        .or(deployment)
        .unwrap_or_default();
    let stream = body["stream"].as_bool().unwrap_or(false);
    // A behaviour set at run time (`POST /_mock/behaviour`) wins over the name's own.
    let (behaviour, retry_after) = shared
        .overrides
        .take(&model)
        .unwrap_or_else(|| (Behaviour::of(&model), None));
    if let Some(mut res) = failure(behaviour, stream, &headers) {
        if let Some(v) = retry_after.and_then(|r| HeaderValue::from_str(&r).ok()) {
            res.headers_mut().insert("retry-after", v);
        }
        return res;
    }
    if let Behaviour::Slow(d) = behaviour {
        tokio::time::sleep(d).await;
    }
    match endpoint {
        Endpoint::Chat => {
            if !body["messages"].is_array() {
                return error(
                    400,
                    "Missing required parameter: 'messages'.",
                    Some(("messages", "missing_required_parameter")),
                    None,
                );
            }
            let reply = crate::agent::reply(&model, &body, &headers);
            let dialect = Dialect::of(azure, uri.path(), &model);
            let filtered = behaviour == Behaviour::ContentFilterOutput;
            if stream {
                let mut events = chat_events(&model, behaviour, &body, &reply, dialect);
                if dialect == Dialect::Azure {
                    events.iter_mut().for_each(with_azure_filter_results);
                }
                if filtered {
                    events.iter_mut().for_each(output_filtered);
                }
                sse(shared, behaviour, events)
            } else {
                let mut answer = chat_answer(&model, &body, &reply, dialect);
                if filtered {
                    for c in answer["choices"].as_array_mut().into_iter().flatten() {
                        c["finish_reason"] = json!("content_filter");
                        c["message"]["content"] = Value::Null;
                        c["content_filter_results"] = azure_filter_results_flagged();
                    }
                }
                with_headers(StatusCode::OK, answer)
            }
        }
        Endpoint::Completion => {
            if stream {
                sse(
                    shared,
                    behaviour,
                    completion_events(&model, behaviour, &body),
                )
            } else {
                with_headers(StatusCode::OK, completion_answer(&model))
            }
        }
        Endpoint::Embedding => embedding_answer(&model, &body),
        Endpoint::Fim => {
            if !body["prompt"].is_string() {
                return error(
                    422,
                    "prompt: Field required",
                    Some(("prompt", "missing")),
                    None,
                );
            }
            if stream {
                let events = chat_events(
                    &model,
                    behaviour,
                    &body,
                    &Reply::text(CONTENT),
                    Dialect::Mistral,
                );
                sse(shared, behaviour, events)
            } else {
                let answer = chat_answer(&model, &body, &Reply::text(CONTENT), Dialect::Mistral);
                with_headers(StatusCode::OK, answer)
            }
        }
    }
}

/// The error answer a behaviour gives in place of an answer, if it gives one.
pub(crate) fn failure(behaviour: Behaviour, stream: bool, headers: &HeaderMap) -> Option<Response> {
    Some(match behaviour {
        Behaviour::Error(code) => error(code, &format!("mock error {code}"), None, None),
        Behaviour::ContextWindow => error(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
            Some(("messages", "context_length_exceeded")),
            None,
        ),
        Behaviour::ContentFilter => {
            let body = json!({"error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
                "type": null, "param": "prompt", "code": "content_filter", "status": 400,
                "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {
                    "hate": {"filtered": true, "severity": "high"},
                    "self_harm": {"filtered": false, "severity": "safe"}}}}});
            let mut res = Response::new(Body::from(body.to_string()));
            *res.status_mut() = StatusCode::BAD_REQUEST;
            res.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            res
        }
        Behaviour::EchoKey => echo_key(headers),
        Behaviour::StreamError if !stream => error(500, "mock stream failure", None, None),
        _ => return None,
    })
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Where an OpenAI-compatible upstream's answers differ from OpenAI's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    OpenAi,
    /// Azure OpenAI: content-filter verdicts on the prompt (`prompt_filter_results`, in a
    /// stream's first, choice-less chunk) and on each choice (`content_filter_results`).
    Azure,
    /// Mistral (picked by its model names): usage without details, and in a stream always on
    /// the finish chunk (Mistral has no `stream_options`).
    Mistral,
    /// Groq (its `/openai/v1` base path): `service_tier` `on_demand` and `x_groq` on answers.
    Groq,
}

impl Dialect {
    fn of(azure: bool, path: &str, model: &str) -> Dialect {
        const MISTRAL: &[&str] = &[
            "mistral-",
            "open-mistral",
            "open-mixtral",
            "codestral",
            "magistral",
            "ministral",
            "pixtral",
            "devstral",
        ];
        if azure {
            Dialect::Azure
        } else if path.starts_with("/openai/v1/") {
            Dialect::Groq
        } else if MISTRAL.iter().any(|p| model.starts_with(p)) {
            Dialect::Mistral
        } else {
            Dialect::OpenAi
        }
    }

    fn usage(self) -> Value {
        match self {
            Dialect::Mistral => {
                json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15})
            }
            _ => usage(),
        }
    }
}

/// Azure's verdict on a piece of text: every category checked, nothing filtered.
fn azure_filter_results() -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    json!({"hate": safe, "self_harm": safe, "sexual": safe, "violence": safe})
}

/// A stream event's choices get Azure's verdict on their text.
fn with_azure_filter_results(event: &mut String) {
    let Some(mut c) = event
        .strip_prefix("data: ")
        .and_then(|d| serde_json::from_str::<Value>(d.trim()).ok())
    else {
        return;
    };
    let Some(choices) = c["choices"].as_array_mut().filter(|c| !c.is_empty()) else {
        return;
    };
    for choice in choices {
        choice["content_filter_results"] = azure_filter_results();
    }
    *event = format!("data: {c}\n\n");
}

/// Azure's verdict on an answer it cut: violence filtered.
fn azure_filter_results_flagged() -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    json!({"hate": safe, "self_harm": safe, "sexual": safe,
           "violence": {"filtered": true, "severity": "medium"}})
}

/// A stream whose answer Azure's filter cut: the finish chunk says `content_filter`, with the
/// flagged verdict.
fn output_filtered(event: &mut String) {
    let Some(mut c) = event
        .strip_prefix("data: ")
        .and_then(|d| serde_json::from_str::<Value>(d.trim()).ok())
    else {
        return;
    };
    let mut changed = false;
    for choice in c["choices"].as_array_mut().into_iter().flatten() {
        if choice["finish_reason"].is_string() {
            choice["finish_reason"] = json!("content_filter");
            choice["content_filter_results"] = azure_filter_results_flagged();
            changed = true;
        }
    }
    if changed {
        *event = format!("data: {c}\n\n");
    }
}

fn azure_prompt_filter_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": azure_filter_results()}])
}

fn usage() -> Value {
    json!({
        "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    })
}

fn tool_call(name: &str, arguments: &str) -> Value {
    json!({"id": "call_mock_1", "type": "function", "function": {"name": name, "arguments": arguments}})
}

fn chat_answer(model: &str, req: &Value, reply: &Reply, dialect: Dialect) -> Value {
    let n = req["n"].as_u64().unwrap_or(1).max(1);
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            let (mut message, finish) = match &reply.tool {
                Some((name, args)) => (
                    json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [tool_call(name, args)]}),
                    "tool_calls",
                ),
                None => (json!({"role": "assistant", "content": reply.text, "refusal": null}), "stop"),
            };
            if let Some(r) = &reply.reasoning {
                message["reasoning_content"] = json!(r);
            }
            let mut c =
                json!({"index": i, "message": message, "logprobs": null, "finish_reason": finish});
            if dialect == Dialect::Azure {
                c["content_filter_results"] = azure_filter_results();
            }
            c
        })
        .collect();
    let mut answer = json!({
        "id": answer_id(), "object": "chat.completion", "created": now(), "model": model,
        "system_fingerprint": "fp_mock", "choices": choices, "usage": dialect.usage(),
    });
    match dialect {
        Dialect::Azure => answer["prompt_filter_results"] = azure_prompt_filter_results(),
        Dialect::Groq => {
            answer["service_tier"] = json!("on_demand");
            answer["x_groq"] = json!({"id": "req_mock"});
        }
        _ => {}
    }
    answer
}

/// A new id per answer, as OpenAI's are: spend logs are keyed by it, and a repeated id makes
/// the gateway's spend writer take its slower path for ids another call already used.
fn answer_id() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("chatcmpl-mock-{n}")
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let c = json!({
        "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": now(), "model": model,
        "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
    });
    format!("data: {c}\n\n")
}

/// The pieces a stream sends the text in: 3 characters each, so tests see several deltas.
pub(crate) fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(3).map(|c| c.iter().collect()).collect()
}

fn include_usage(req: &Value) -> bool {
    req["stream_options"]["include_usage"]
        .as_bool()
        .unwrap_or(false)
}

fn done_events(
    (id, object): (&str, &str),
    model: &str,
    req: &Value,
    mut events: Vec<String>,
) -> Vec<String> {
    if include_usage(req) {
        let u = json!({
            "id": id, "object": object, "created": now(), "model": model,
            "choices": [], "usage": usage(),
        });
        events.push(format!("data: {u}\n\n"));
    }
    events.push("data: [DONE]\n\n".to_string());
    events
}

fn chat_events(
    model: &str,
    behaviour: Behaviour,
    req: &Value,
    reply: &Reply,
    dialect: Dialect,
) -> Vec<String> {
    let mut ev = vec![chunk(
        model,
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    if dialect == Dialect::Azure {
        let first = json!({"id": "", "object": "", "created": 0, "model": "", "choices": [],
                           "prompt_filter_results": azure_prompt_filter_results()});
        ev.insert(0, format!("data: {first}\n\n"));
    }
    if behaviour == Behaviour::StreamError {
        for p in pieces(CONTENT).iter().take(2) {
            ev.push(chunk(model, json!({"content": p}), None));
        }
        ev.push(stream_error_event());
        return ev;
    }
    if behaviour == Behaviour::StreamDrop {
        // `sse` cuts the connection after the last of these.
        for p in pieces(CONTENT).iter().take(3) {
            ev.push(chunk(model, json!({"content": p}), None));
        }
        return ev;
    }
    if let Some(r) = &reply.reasoning {
        for p in pieces(r) {
            ev.push(chunk(model, json!({"reasoning_content": p}), None));
        }
    }
    let finish = match &reply.tool {
        Some((name, args)) => {
            let mut call = tool_call(name, "");
            call["index"] = json!(0);
            ev.push(chunk(model, json!({"tool_calls": [call]}), None));
            for p in pieces(args) {
                ev.push(chunk(
                    model,
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
                    None,
                ));
            }
            "tool_calls"
        }
        None => {
            for p in pieces(&reply.text) {
                ev.push(chunk(model, json!({"content": p}), None));
            }
            "stop"
        }
    };
    let on_finish = behaviour == Behaviour::UsageOnFinish && include_usage(req);
    if on_finish || dialect == Dialect::Mistral {
        let mut last: Value = serde_json::from_str(
            chunk(model, json!({}), Some(finish))
                .trim_start_matches("data: ")
                .trim_end(),
        )
        .unwrap_or_default();
        last["usage"] = dialect.usage();
        ev.push(format!("data: {last}\n\n"));
        ev.push("data: [DONE]\n\n".to_string());
        return ev;
    }
    ev.push(chunk(model, json!({}), Some(finish)));
    done_events(("chatcmpl-mock", "chat.completion.chunk"), model, req, ev)
}

/// What OpenAI sends when a stream fails midway: an error object in place of a chunk, no [DONE].
fn stream_error_event() -> String {
    let err = json!({"error": {"message": "mock stream failure", "type": "server_error", "param": null, "code": null}});
    format!("data: {err}\n\n")
}

fn completion_answer(model: &str) -> Value {
    json!({
        "id": "cmpl-mock", "object": "text_completion", "created": now(), "model": model,
        "choices": [{"text": CONTENT, "index": 0, "logprobs": null, "finish_reason": "stop"}],
        "usage": usage(),
    })
}

fn completion_events(model: &str, behaviour: Behaviour, req: &Value) -> Vec<String> {
    let event = |text: &str, finish: Option<&str>| {
        let c = json!({
            "id": "cmpl-mock", "object": "text_completion", "created": now(), "model": model,
            "choices": [{"text": text, "index": 0, "logprobs": null, "finish_reason": finish}],
        });
        format!("data: {c}\n\n")
    };
    let mut ev: Vec<String> = pieces(CONTENT).iter().map(|p| event(p, None)).collect();
    if behaviour == Behaviour::StreamError {
        ev.truncate(2);
        ev.push(stream_error_event());
        return ev;
    }
    ev.push(event("", Some("stop")));
    done_events(("cmpl-mock", "text_completion"), model, req, ev)
}

fn embedding_answer(model: &str, req: &Value) -> Response {
    let n = match &req["input"] {
        Value::String(_) => 1,
        Value::Array(items) if items.iter().all(Value::is_number) && !items.is_empty() => 1,
        Value::Array(items) if !items.is_empty() => items.len(),
        _ => {
            return error(
                400,
                "'input' is a required property and must be a non-empty string or array",
                Some(("input", "invalid_value")),
                None,
            )
        }
    };
    let base64 = req["encoding_format"].as_str() == Some("base64");
    let texts: Vec<&str> = match &req["input"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().map(|v| v.as_str().unwrap_or("")).collect(),
        _ => Vec::new(),
    };
    let data: Vec<Value> = (0..n)
        .map(|i| {
            // `*semantic*` models embed the words of the text (similar texts are close);
            // others answer by position.
            let v: Vec<f32> = if model.contains("semantic") {
                words_vector(texts.get(i).copied().unwrap_or(""))
            } else {
                (0..8)
                    .map(|j| 0.1 * (i + 1) as f32 + 0.01 * j as f32)
                    .collect()
            };
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(base64_encode(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let tokens = 2 * n;
    with_headers(
        StatusCode::OK,
        json!({"object": "list", "data": data, "model": model,
               "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
    )
}

/// A deterministic bag-of-words embedding: each lower-cased word adds 1 to one of 64
/// dimensions (FNV-1a hash), normalized. Texts sharing most words have a cosine near 1.
fn words_vector(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; 64];
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut h: u32 = 0x811c9dc5;
        for b in w.to_lowercase().bytes() {
            h = (h ^ b as u32).wrapping_mul(0x01000193);
        }
        v[(h % 64) as usize] += 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= c.len() {
                out.push(A[(n >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn provider_headers(res: &mut Response) {
    let h = res.headers_mut();
    h.insert("x-request-id", HeaderValue::from_static("mock-req-1"));
    h.insert("openai-processing-ms", HeaderValue::from_static("1"));
}

pub(crate) fn with_headers(status: StatusCode, body: Value) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    provider_headers(&mut res);
    res
}

/// An OpenAI error body; `param_code` gives `param` and `code` when the real API sets them.
pub(crate) fn error(
    status: u16,
    message: &str,
    param_code: Option<(&str, &str)>,
    kind: Option<&str>,
) -> Response {
    let (param, code) = match param_code {
        Some((p, c)) => (json!(p), json!(c)),
        None => (Value::Null, Value::Null),
    };
    let kind = kind.unwrap_or_else(|| error_type(status));
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = with_headers(
        status,
        json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        res.headers_mut()
            .insert("retry-after", HeaderValue::from_static("7"));
    }
    res
}

/// OpenAI's 401 for a wrong key, quoting it whole and then as OpenAI abbreviates it.
fn echo_key(headers: &HeaderMap) -> Response {
    let key = headers
        .get("authorization")
        .or_else(|| headers.get("api-key"))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v))
        .unwrap_or("");
    let short = match (key.get(..8), key.get(key.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if key.len() >= 12 => {
            format!("{head}{}{tail}", "*".repeat(key.len() - 12))
        }
        _ => key.to_string(),
    };
    let message = format!(
        "Incorrect API key provided: {key}. (You sent {short}.) You can find your API key at \
         https://platform.openai.com/account/api-keys."
    );
    with_headers(
        StatusCode::UNAUTHORIZED,
        json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
    )
}

/// Counts the stream as cancelled when it is dropped before its last event went out.
struct CancelGuard {
    shared: Arc<Shared>,
    finished: bool,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.stream_cancelled();
        }
    }
}

pub(crate) fn sse(shared: Arc<Shared>, behaviour: Behaviour, events: Vec<String>) -> Response {
    let delay = match behaviour {
        Behaviour::StreamSlow(d) => d,
        _ => Duration::ZERO,
    };
    let cut = behaviour == Behaviour::StreamDrop;
    let guard = CancelGuard {
        shared,
        finished: false,
    };
    let state = (events.into_iter().enumerate().peekable(), guard);
    let stream = futures::stream::unfold(state, move |(mut events, mut guard)| async move {
        let Some((i, event)) = events.next() else {
            if !cut || guard.finished {
                return None;
            }
            // Lets what was sent reach the client, then an error item makes the server abort
            // the connection mid-body.
            tokio::time::sleep(Duration::from_millis(50)).await;
            guard.finished = true;
            let cut = std::io::Error::other("mock connection cut");
            return Some((Err(cut), (events, guard)));
        };
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if events.peek().is_none() && !cut {
            guard.finished = true;
        }
        Some((Ok::<_, std::io::Error>(Bytes::from(event)), (events, guard)))
    });
    let mut res = Response::new(Body::from_stream(stream));
    res.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    res.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-cache"));
    provider_headers(&mut res);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_encode(b"M"), "TQ==");
    }

    #[test]
    fn streams_end_with_usage_and_done() {
        let req = json!({"stream_options": {"include_usage": true}});
        let ev = chat_events(
            "gpt-4o",
            Behaviour::Normal,
            &req,
            &Reply::text(CONTENT),
            Dialect::OpenAi,
        );
        assert_eq!(ev.last().unwrap(), "data: [DONE]\n\n");
        assert!(ev[ev.len() - 2].contains("\"usage\""));
        let text: String = ev
            .iter()
            .filter_map(|e| serde_json::from_str::<Value>(e.strip_prefix("data: ")?.trim()).ok())
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        assert_eq!(text, CONTENT);
    }
}
