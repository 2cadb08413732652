//! An A2A agent speaking the protocol's JSON-RPC binding (0.3 wire names) at `/a2a-agent`: its
//! card at `/a2a-agent/.well-known/agent-card.json`; `message/send` answers a completed task
//! whose artifact is `echo: <text>`; `message/stream` sends the same as SSE events (the task,
//! `working`, one artifact chunk per word, `completed`), 50 ms apart; `tasks/get` finds the
//! tasks it answered; anything else is JSON-RPC's method-not-found. A `message/send` whose text
//! says `usage` reports `usage: {prompt_tokens: 11, completion_tokens: 7}` with its answer. A request without
//! `Authorization: Bearer a2a-agent-key` is a 401, as an agent that wants its own key answers.

use std::sync::Mutex;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde_json::{json, Value};

/// Ids unique within the mock's run.
fn next_id(kind: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!("{kind}-{}", N.fetch_add(1, Ordering::Relaxed))
}

pub const KEY: &str = "a2a-agent-key";

static TASKS: Mutex<Vec<Value>> = Mutex::new(Vec::new());

pub async fn card(headers: HeaderMap) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    Json(json!({
        "protocolVersion": "0.3.0", "name": "Mock Echo", "description": "echoes", "version": "1.0.0",
        "url": format!("http://{host}/a2a-agent"), "preferredTransport": "JSONRPC",
        "capabilities": {"streaming": true}, "defaultInputModes": ["text"],
        "defaultOutputModes": ["text"], "skills": [],
    }))
    .into_response()
}

fn text_of(req: &Value) -> String {
    req.pointer("/params/message/parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

pub async fn rpc(headers: HeaderMap, body: Bytes) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {KEY}")) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "wrong agent key"})),
        )
            .into_response();
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        let e = json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}});
        return Json(e).into_response();
    };
    let id = req["id"].clone();
    let task_id = next_id("task");
    let context = next_id("ctx");
    let words: Vec<String> = format!("echo: {}", text_of(&req))
        .split(' ')
        .map(str::to_string)
        .collect();
    let artifact = json!({"artifactId": "echo", "name": "echo",
        "parts": [{"kind": "text", "text": words.join(" ")}]});
    let task = json!({"kind": "task", "id": task_id, "contextId": context,
        "status": {"state": "completed"}, "artifacts": [artifact],
        "history": [req["params"]["message"].clone()]});
    match req["method"].as_str().unwrap_or("") {
        "message/send" => {
            TASKS.lock().unwrap().push(task.clone());
            let mut answer = json!({"jsonrpc": "2.0", "id": id, "result": task});
            // `usage` in the text: the answer reports its usage, as LiteLLM's A2A answers do.
            if text_of(&req).contains("usage") {
                answer["usage"] = json!({"prompt_tokens": 11, "completion_tokens": 7});
            }
            Json(answer).into_response()
        }
        "message/stream" => {
            TASKS.lock().unwrap().push(task.clone());
            let mut events = vec![json!({"kind": "task", "id": task_id, "contextId": context,
                "status": {"state": "submitted"}})];
            events.push(
                json!({"kind": "status-update", "taskId": task_id, "contextId": context,
                "status": {"state": "working"}, "final": false}),
            );
            for (i, w) in words.iter().enumerate() {
                let text = if i == 0 { w.clone() } else { format!(" {w}") };
                events.push(
                    json!({"kind": "artifact-update", "taskId": task_id, "contextId": context,
                    "append": i > 0, "lastChunk": i + 1 == words.len(),
                    "artifact": {"artifactId": "echo", "parts": [{"kind": "text", "text": text}]}}),
                );
            }
            events.push(
                json!({"kind": "status-update", "taskId": task_id, "contextId": context,
                "status": {"state": "completed"}, "final": true}),
            );
            let stream = futures::stream::iter(events).then(move |ev| {
                let id = id.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let frame = json!({"jsonrpc": "2.0", "id": id, "result": ev});
                    Ok::<Bytes, std::io::Error>(Bytes::from(format!("data: {frame}\n\n")))
                }
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        "tasks/get" => {
            let want = req.pointer("/params/id").and_then(Value::as_str);
            let found = TASKS
                .lock()
                .unwrap()
                .iter()
                .find(|t| t["id"].as_str() == want)
                .cloned();
            let body = match found {
                Some(t) => json!({"jsonrpc": "2.0", "id": id, "result": t}),
                None => json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32001, "message": "Task not found"}}),
            };
            Json(body).into_response()
        }
        m => Json(json!({"jsonrpc": "2.0", "id": id,
            "error": {"code": -32601, "message": format!("Method not found: {m}")}}))
        .into_response(),
    }
}
