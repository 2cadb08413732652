//! IBM watsonx.ai and its IAM token endpoint. `POST /identity/token` checks the form body
//! (`grant_type=urn:ibm:params:oauth:grant-type:apikey`, `apikey` = [`WATSONX_API_KEY`]) and
//! issues a bearer token; `/ml/v1/text/{chat,chat_stream,generation,generation_stream,
//! embeddings}` (and `/ml/v1/deployments/{id}/text/...`) require an issued token (or
//! [`WATSONX_TOKEN`]), the `version` query, and — outside deployments — `model_id` with
//! `project_id` or `space_id`, answering in watsonx's shapes and error bodies.
//! `/ml/v1/audio/transcriptions` takes OpenAI's transcription form with `model` and
//! `project_id` beside the `file`, and answers OpenAI's `{"text": ...}`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::{recorded, sse};
use crate::Shared;

/// The IBM Cloud API key the IAM mock exchanges.
pub const WATSONX_API_KEY: &str = "llmgate-mock-watsonx-apikey";
/// A ready bearer token the mock accepts without an exchange.
pub const WATSONX_TOKEN: &str = "llmgate-mock-watsonx-token";

const CHAT_TEXT: &str = "Hello from the watsonx mock.";
const GEN_TEXT: &str = "Hello from watsonx text generation.";

/// Tokens the IAM mock issued.
#[derive(Default)]
pub(crate) struct Tokens {
    issued: Mutex<HashSet<String>>,
    count: AtomicUsize,
}

fn wx_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"code": code, "message": message}],
        "trace": "mock-trace-0001", "status_code": status});
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(body),
    )
        .into_response()
}

fn iam_error(code: &str, message: &str) -> Response {
    let body = json!({"errorCode": code, "errorMessage": message,
        "context": {"requestId": "mock-request", "requestType": "incoming.Identity_Token"}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

/// `POST /identity/token`.
pub async fn iam_token(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let fields = form(&bytes);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    shared.record(|| {
        let masked: serde_json::Map<String, Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), json!(if k == "apikey" { "***" } else { v })))
            .collect();
        recorded(&m, &u, &h, Value::Object(masked))
    });
    let form_type = h
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return iam_error("BXNIM0109E", "Property missing or empty: grant_type");
    }
    if get("grant_type") != Some("urn:ibm:params:oauth:grant-type:apikey") {
        return iam_error("BXNIM0103E", "Unsupported grant type");
    }
    if get("apikey") != Some(WATSONX_API_KEY) {
        return iam_error("BXNIM0415E", "Provided API key could not be found.");
    }
    let n = shared.watsonx.count.fetch_add(1, Ordering::SeqCst);
    let token = format!("wx-iam-token-{n}");
    shared
        .watsonx
        .issued
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(token.clone());
    axum::Json(
        json!({"access_token": token, "refresh_token": "not_supported",
        "token_type": "Bearer", "expires_in": 3600, "expiration": 4_102_444_800u64,
        "scope": "ibm openid"}),
    )
    .into_response()
}

fn authorized(shared: &Shared, h: &HeaderMap) -> bool {
    let Some(token) = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.strip_prefix("Bearer "))
    else {
        return false;
    };
    token == WATSONX_TOKEN
        || shared
            .watsonx
            .issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(token)
}

fn chat_answer(body: &Value, model: &str) -> Value {
    let tool = body["tools"][0]["function"]["name"].as_str();
    let answered = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .is_some_and(|m| m["role"] == "tool");
    let (message, finish) = match tool.filter(|_| !answered) {
        Some(name) => (
            json!({"role": "assistant", "tool_calls": [{"id": "chatcmpl-tool-wx1", "type": "function",
                "function": {"name": name, "arguments": "{\"city\": \"Paris\"}"}}]}),
            "tool_calls",
        ),
        None => (json!({"role": "assistant", "content": CHAT_TEXT}), "stop"),
    };
    json!({"id": "chatcmpl-wx", "model_id": model, "model": model, "created": 1_714_564_800,
        "model_version": "1.0.0", "created_at": "2024-05-01T12:00:00.000Z",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16}})
}

fn event(data: &Value) -> String {
    format!("id: 1\nevent: message\ndata: {data}\n\n")
}

fn chat_events(model: &str) -> Vec<String> {
    let words: Vec<&str> = CHAT_TEXT.split_inclusive(' ').collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let delta = if i == 0 {
            json!({"role": "assistant", "content": w})
        } else {
            json!({"content": w})
        };
        out.push(event(
            &json!({"id": "chatcmpl-wx", "model_id": model, "created": 1_714_564_800,
            "choices": [{"index": 0, "delta": delta, "finish_reason": null}]}),
        ));
    }
    out.push(event(&json!({"id": "chatcmpl-wx", "model_id": model, "created": 1_714_564_800,
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": words.len(), "total_tokens": 9 + words.len()}})));
    out
}

fn gen_result(text: &str, n: usize, stop: &str) -> Value {
    json!({"generated_text": text, "generated_token_count": n, "input_token_count": 5,
        "stop_reason": stop})
}

fn gen_events(model: &str) -> Vec<String> {
    let words: Vec<&str> = GEN_TEXT.split_inclusive(' ').collect();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let stop = if i + 1 == words.len() {
                "eos_token"
            } else {
                "not_finished"
            };
            event(
                &json!({"model_id": model, "created_at": "2024-05-01T12:00:00.000Z",
                "results": [gen_result(w, i + 1, stop)]}),
            )
        })
        .collect()
}

/// `POST /ml/v1/text/{op}`.
pub async fn text(
    State(shared): State<Arc<Shared>>,
    Path(op): Path<String>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    serve(shared, None, op, m, u, h, bytes)
}

/// `POST /ml/v1/deployments/{id}/text/{op}`.
pub async fn deployment(
    State(shared): State<Arc<Shared>>,
    Path((id, op)): Path<(String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    serve(shared, Some(id), op, m, u, h, bytes)
}

fn serve(
    shared: Arc<Shared>,
    deployment: Option<String>,
    op: String,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    shared.record(|| recorded(&m, &u, &h, body.clone()));
    if !authorized(&shared, &h) {
        return wx_error(
            401,
            "authentication_token_not_valid",
            "Failed to authenticate the request due to invalid token: Failed to parse and verify token",
        );
    }
    let version = u
        .query()
        .unwrap_or("")
        .split('&')
        .any(|p| p.strip_prefix("version=").is_some_and(|v| !v.is_empty()));
    if !version {
        return wx_error(400, "missing_version", "Missing version query parameter");
    }
    if !body.is_object() {
        return wx_error(400, "json_validation_error", "Invalid JSON body");
    }
    let model = match &deployment {
        Some(id) => id.clone(),
        None => {
            let Some(model) = body["model_id"].as_str() else {
                return wx_error(400, "json_validation_error", "Missing field 'model_id'");
            };
            let scoped = ["project_id", "space_id"]
                .iter()
                .any(|k| body[*k].as_str().is_some_and(|s| !s.is_empty()));
            if !scoped {
                return wx_error(
                    400,
                    "json_validation_error",
                    "Either 'space_id' or 'project_id' has to be provided",
                );
            }
            model.to_string()
        }
    };
    let name = h
        .get("x-mock-model")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| model.clone());
    let behaviour = shared.overrides.behaviour(&name);
    if let Behaviour::Error(code) = behaviour {
        return wx_error(code, "mock_error", &format!("mock error {code}"));
    }
    let chat = op.starts_with("chat");
    if chat && body["messages"].as_array().is_none_or(|m| m.is_empty()) {
        return wx_error(400, "json_validation_error", "Missing field 'messages'");
    }
    if op.starts_with("generation") && body["input"].as_str().is_none() {
        return wx_error(400, "json_validation_error", "Missing field 'input'");
    }
    match op.as_str() {
        "chat" => axum::Json(chat_answer(&body, &model)).into_response(),
        "chat_stream" => sse(shared.clone(), behaviour, chat_events(&model)),
        "generation" => axum::Json(json!({"model_id": model,
            "created_at": "2024-05-01T12:00:00.000Z",
            "results": [gen_result(GEN_TEXT, 6, "eos_token")]}))
        .into_response(),
        "generation_stream" => sse(shared.clone(), behaviour, gen_events(&model)),
        "embeddings" => {
            let Some(inputs) = body["inputs"].as_array() else {
                return wx_error(400, "json_validation_error", "Missing field 'inputs'");
            };
            let words: usize = inputs
                .iter()
                .filter_map(Value::as_str)
                .map(|s| s.split_whitespace().count())
                .sum();
            let results: Vec<Value> = (0..inputs.len())
                .map(|i| json!({"embedding": [i as f64 / 10.0, 0.25, 0.5]}))
                .collect();
            axum::Json(json!({"model_id": model, "results": results,
                "created_at": "2024-05-01T12:00:00.000Z", "input_token_count": words}))
            .into_response()
        }
        _ => wx_error(404, "not_found", "Unknown operation"),
    }
}

/// `POST /ml/v1/audio/transcriptions?version=`: a multipart form of `file`, `model` and
/// `project_id` (OpenAI's `language`, `prompt`, `response_format`, `temperature` beside them).
pub async fn transcriptions(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    use crate::media::{form_json, parse_form, seconds, transcript_text};
    let form = parse_form(&h, &bytes);
    let body = form.as_ref().map_or(Value::Null, form_json);
    shared.record(|| recorded(&m, &u, &h, body));
    if !authorized(&shared, &h) {
        return wx_error(
            401,
            "authentication_token_not_valid",
            "Failed to authenticate the request due to invalid token: Failed to parse and verify token",
        );
    }
    if !u.query().unwrap_or("").contains("version=") {
        return wx_error(400, "missing_version", "Missing version query parameter");
    }
    let Some(form) = form else {
        return wx_error(400, "invalid_request", "Expected multipart/form-data");
    };
    if form.field("model").is_none_or(str::is_empty) {
        return wx_error(400, "invalid_request", "Missing field 'model'");
    }
    if form.field("project_id").is_none_or(str::is_empty) {
        return wx_error(400, "invalid_request", "Missing field 'project_id'");
    }
    let Some(file) = form.file("file") else {
        return wx_error(400, "invalid_request", "Missing field 'file'");
    };
    let text = transcript_text(file);
    match form.field("response_format").unwrap_or("json") {
        "verbose_json" => crate::openai::with_headers(
            StatusCode::OK,
            json!({"task": "transcribe", "language": form.field("language").unwrap_or("english"),
                   "duration": seconds(&file.data), "text": text, "segments": []}),
        ),
        "text" => {
            let mut res = (StatusCode::OK, format!("{text}\n")).into_response();
            res.headers_mut().insert(
                "content-type",
                axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            res
        }
        _ => crate::openai::with_headers(StatusCode::OK, json!({"text": text})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let f = form(b"grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=a+b%2F");
        assert_eq!(f[0].1, "urn:ibm:params:oauth:grant-type:apikey");
        assert_eq!(f[1].1, "a b/");
    }
}
