//! AWS SageMaker runtime: InvokeEndpoint (`/endpoints/{name}/invocations`) and
//! InvokeEndpointWithResponseStream (`/invocations-response-stream`), SigV4-verified for
//! service `sagemaker` with the Bedrock mock's checker. The body picks the container: TGI
//! (`inputs` a string → `[{"generated_text"}]`, streamed as TGI SSE in `PayloadPart` frames,
//! events split across parts), the Messages API (`messages` → OpenAI answers and chunks), or
//! an embedding model (`inputs` a list → vectors). `mock-stream-error` ends a stream with a
//! `ModelStreamError` exception frame.

use std::sync::Arc;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::bedrock::{aws_error, verify};
use crate::behaviour::Behaviour;
use crate::openai::recorded;
use crate::Shared;

const TGI_TEXT: &str = "Hello from the SageMaker mock.";

fn frame(headers: &[(&str, &str)], payload: Vec<u8>) -> Bytes {
    let mut m = Message::new(payload);
    for (k, v) in headers {
        m = m.add_header(Header::new(
            k.to_string(),
            HeaderValue::String(v.to_string().into()),
        ));
    }
    let mut out = Vec::new();
    // Writing a well-formed message to a Vec does not fail.
    let _ = write_message_to(&m, &mut out);
    Bytes::from(out)
}

fn part(bytes: &str) -> Bytes {
    frame(
        &[
            (":message-type", "event"),
            (":event-type", "PayloadPart"),
            (":content-type", "application/octet-stream"),
        ],
        bytes.as_bytes().to_vec(),
    )
}

/// The SSE text a container streams: TGI token events, or OpenAI chunks.
fn sse_text(messages_api: bool) -> String {
    let words: Vec<&str> = TGI_TEXT.split_inclusive(' ').collect();
    let mut out = String::new();
    if messages_api {
        for (i, w) in words.iter().enumerate() {
            let delta = if i == 0 {
                json!({"role": "assistant", "content": w})
            } else {
                json!({"content": w})
            };
            let c = json!({"id": "chatcmpl-sm", "object": "chat.completion.chunk", "created": 1,
                "model": "tgi", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]});
            out.push_str(&format!("data: {c}\n\n"));
        }
        let fin = json!({"id": "chatcmpl-sm", "object": "chat.completion.chunk", "created": 1,
            "model": "tgi", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 8, "completion_tokens": words.len(), "total_tokens": 8 + words.len()}});
        out.push_str(&format!("data: {fin}\n\ndata: [DONE]\n\n"));
    } else {
        for (i, w) in words.iter().enumerate() {
            let t = json!({"token": {"id": i, "text": w, "logprob": -0.1, "special": false},
                "generated_text": null, "details": null});
            out.push_str(&format!("data:{t}\n\n"));
        }
        let end = json!({"token": {"id": 0, "text": "<|endoftext|>", "special": true},
            "generated_text": TGI_TEXT, "details": null});
        out.push_str(&format!("data:{end}\n\n"));
    }
    out
}

fn stream(messages_api: bool, fail: bool) -> Response {
    let text = sse_text(messages_api);
    // Parts of 40 bytes: events split across parts, as a container's flushes can split them.
    let mut frames: Vec<Bytes> = text
        .as_bytes()
        .chunks(40)
        .map(|c| part(&String::from_utf8_lossy(c)))
        .collect();
    if fail {
        frames.truncate(3);
        frames.push(frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "ModelStreamError"),
                (":content-type", "application/json"),
            ],
            json!({"Message": "Your model failed while streaming.", "ErrorCode": "ModelError"})
                .to_string()
                .into_bytes(),
        ));
    }
    let body = futures::stream::iter(frames.into_iter().map(Ok::<_, std::io::Error>));
    Response::builder()
        .header("content-type", "application/vnd.amazon.eventstream")
        .header("x-amzn-sagemaker-content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap_or_default()
}

fn chat_answer(body: &Value) -> Value {
    let tool = body["tools"][0]["function"]["name"].as_str();
    let answered = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .is_some_and(|m| m["role"] == "tool");
    let (message, finish) = match tool.filter(|_| !answered) {
        Some(name) => (
            json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_sm1",
                "type": "function", "function": {"name": name, "arguments": "{\"city\": \"Paris\"}"}}]}),
            "tool_calls",
        ),
        None => (json!({"role": "assistant", "content": TGI_TEXT}), "stop"),
    };
    json!({"id": "chatcmpl-sm", "object": "chat.completion", "created": 1, "model": "tgi",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 8, "completion_tokens": 6, "total_tokens": 14}})
}

/// `POST /endpoints/{name}/{invocations|invocations-response-stream}`.
pub async fn invoke(
    State(shared): State<Arc<Shared>>,
    Path((name, action)): Path<(String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    if let Err((status, kind, message)) = verify(&shared, &m, &u, &h, &bytes, "sagemaker") {
        return aws_error(status, kind, &message);
    }
    let Some(body) = body else {
        return aws_error(400, "ValidationError", "Unable to parse the request body");
    };
    let model = h
        .get("x-mock-model")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| name.clone());
    let behaviour = shared.overrides.behaviour(&model);
    if let Behaviour::Error(code) = behaviour {
        let kind = match code {
            429 => "ThrottlingException",
            400 => "ValidationError",
            404 => "ResourceNotFound",
            _ => "InternalFailure",
        };
        return aws_error(code, kind, &format!("mock error {code}"));
    }
    let messages_api = body.get("messages").is_some();
    match action.as_str() {
        "invocations-response-stream" => {
            if !messages_api && body["inputs"].as_str().is_none() {
                return aws_error(400, "ValidationError", "inputs must be a string");
            }
            stream(messages_api, behaviour == Behaviour::StreamError)
        }
        "invocations" if messages_api => axum::Json(chat_answer(&body)).into_response(),
        "invocations" => match &body["inputs"] {
            Value::String(_) => axum::Json(json!([{"generated_text": TGI_TEXT}])).into_response(),
            Value::Array(items) => {
                if h.get("x-amzn-sagemaker-custom-attributes").is_none() {
                    return aws_error(400, "ValidationError", "accept_eula is required");
                }
                let vectors: Vec<Value> = (0..items.len())
                    .map(|i| json!([i as f64 / 10.0, 0.5, 1.0]))
                    .collect();
                axum::Json(Value::Array(vectors)).into_response()
            }
            _ => aws_error(400, "ValidationError", "inputs is required"),
        },
        _ => aws_error(404, "UnknownOperationException", "Unknown operation"),
    }
}
