//! OpenAI's Responses API (`POST /v1/responses`), plain and streamed as OpenAI documents it:
//! named events with sequence numbers, ending with `response.completed` (no `[DONE]`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::{error, failure, now, pieces, recorded, sse, with_headers, CONTENT, TOOL_ARGS};
use crate::Shared;

fn new_id(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "{prefix}_mock{}_{}",
        now(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn usage() -> Value {
    json!({"input_tokens": 12, "output_tokens": 6, "total_tokens": 18,
           "input_tokens_details": {"cached_tokens": 2},
           "output_tokens_details": {"reasoning_tokens": 0}})
}

pub async fn responses(
    State(shared): State<Arc<Shared>>,
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
    if body["input"].is_null() {
        return error(
            400,
            "Missing required parameter: 'input'.",
            Some(("input", "missing_required_parameter")),
            None,
        );
    }
    let model = headers
        .get("x-mock-model")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| body["model"].as_str().map(str::to_string))
        .unwrap_or_default();
    let stream = body["stream"].as_bool().unwrap_or(false);
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
    let tool = model
        .contains("tool")
        .then(|| {
            body["tools"]
                .as_array()?
                .iter()
                .find(|t| t["type"] == "function")?["name"]
                .as_str()
        })
        .flatten()
        .map(str::to_string);
    let mut response = json!({
        "id": new_id("resp"), "object": "response", "created_at": now(), "status": "in_progress",
        "model": model, "output": [], "usage": null, "error": null, "incomplete_details": null,
        "instructions": body["instructions"], "metadata": body.get("metadata").cloned().unwrap_or(json!({})),
        "parallel_tool_calls": body["parallel_tool_calls"].as_bool().unwrap_or(true),
        "previous_response_id": body["previous_response_id"],
        "store": body["store"].as_bool().unwrap_or(true),
        "tools": body.get("tools").cloned().unwrap_or(json!([])),
        "tool_choice": body.get("tool_choice").cloned().unwrap_or(json!("auto")),
        "text": {"format": {"type": "text"}}, "truncation": "disabled",
    });
    let item_id = new_id(if tool.is_some() { "fc" } else { "msg" });
    let done_item = match &tool {
        Some(name) => json!({"id": item_id, "type": "function_call", "status": "completed",
                             "call_id": "call_mock_1", "name": name, "arguments": TOOL_ARGS}),
        None => {
            json!({"id": item_id, "type": "message", "status": "completed", "role": "assistant",
                       "content": [{"type": "output_text", "text": CONTENT, "annotations": []}]})
        }
    };
    if !stream {
        response["status"] = json!("completed");
        response["output"] = json!([done_item]);
        response["usage"] = usage();
        return with_headers(StatusCode::OK, response);
    }
    let mut seq = 0u64;
    let mut events = Vec::new();
    let mut push = |kind: &str, mut data: Value| {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(seq);
        seq += 1;
        events.push(format!("event: {kind}\ndata: {data}\n\n"));
    };
    push("response.created", json!({"response": response}));
    push("response.in_progress", json!({"response": response}));
    let mut added = done_item.clone();
    added["status"] = json!("in_progress");
    match &tool {
        Some(_) => {
            added["arguments"] = json!("");
            push(
                "response.output_item.added",
                json!({"output_index": 0, "item": added}),
            );
            for p in pieces(TOOL_ARGS) {
                push(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": 0, "delta": p}),
                );
            }
            push(
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": 0, "arguments": TOOL_ARGS}),
            );
        }
        None => {
            added["content"] = json!([]);
            push(
                "response.output_item.added",
                json!({"output_index": 0, "item": added}),
            );
            let part = json!({"type": "output_text", "text": "", "annotations": []});
            push(
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part}),
            );
            let ps = pieces(CONTENT);
            let n = if behaviour == Behaviour::StreamError {
                2
            } else {
                ps.len()
            };
            for p in ps.iter().take(n) {
                push(
                    "response.output_text.delta",
                    json!({"item_id": item_id, "output_index": 0, "content_index": 0, "delta": p, "logprobs": []}),
                );
            }
            if behaviour == Behaviour::StreamError {
                let mut failed = response.clone();
                failed["status"] = json!("failed");
                failed["error"] = json!({"code": "server_error", "message": "mock stream failure"});
                push("response.failed", json!({"response": failed}));
                return sse(shared, behaviour, events);
            }
            push(
                "response.output_text.done",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "text": CONTENT, "logprobs": []}),
            );
            push(
                "response.content_part.done",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": done_item["content"][0]}),
            );
        }
    }
    push(
        "response.output_item.done",
        json!({"output_index": 0, "item": done_item}),
    );
    response["status"] = json!("completed");
    response["output"] = json!([done_item]);
    response["usage"] = usage();
    push("response.completed", json!({"response": response}));
    sse(shared, behaviour, events)
}
