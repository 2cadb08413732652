//! OpenAI's Realtime API over a WebSocket: `GET /v1/realtime?model=` (a bearer key required)
//! and Azure's `GET /openai/realtime?api-version=&deployment=` (`api-version` and an `api-key`
//! required, as on its deployment paths) or its GA `GET /openai/v1/realtime?model=`.
//!
//! As OpenAI documents the session: `session.created` on connect; `session.update` →
//! `session.updated`; `conversation.item.create` → the item created; `response.create` →
//! `response.created`, text deltas, audio deltas, their `.done` events and `response.done`
//! with `usage`. A client that sent `OpenAI-Beta: realtime=v1` gets the beta event names
//! (`response.text.delta`, `response.audio.delta`, `conversation.item.created`), any other the
//! GA names (`response.output_text.delta`, ...). A binary frame is echoed back as binary. A
//! model named `mock-error-<status>` is refused with that status before the upgrade; one named
//! `*mock-hangup*` closes the session (1000, `hangup`) after its first response.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::openai::recorded;
use crate::Shared;

/// The usage every `response.done` reports.
pub const USAGE: &str = r#"{"total_tokens":165,"input_tokens":120,"output_tokens":45,"input_token_details":{"text_tokens":80,"audio_tokens":40,"cached_tokens":16,"cached_tokens_details":{"text_tokens":16,"audio_tokens":0}},"output_token_details":{"text_tokens":15,"audio_tokens":30}}"#;

/// The text every response streams, in three deltas.
const DELTAS: [&str; 3] = ["Hello", " from the", " realtime mock"];

fn query(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.replace("%2F", "/"))
        .filter(|v| !v.is_empty())
}

fn refusal(status: u16, message: &str, code: &str) -> Response {
    let s = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        s,
        axum::Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}})),
    )
        .into_response()
}

fn mock_status(model: &str) -> Option<u16> {
    model.strip_prefix("mock-error-")?.parse().ok()
}

type Upgrade = Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>;

pub(crate) async fn openai(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: Upgrade,
) -> Response {
    shared.record(|| recorded(&method, &uri, &headers, Value::Null));
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|k| !k.is_empty());
    if bearer.is_none() {
        return refusal(401, "You didn't provide an API key.", "missing_api_key");
    }
    let Some(model) = query(&uri, "model") else {
        return refusal(400, "Missing required parameter: 'model'.", "missing_model");
    };
    accept(ws, &headers, model)
}

/// Azure's beta path (`/openai/realtime`) and GA path (`/openai/v1/realtime`).
pub(crate) async fn azure(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: Upgrade,
) -> Response {
    shared.record(|| recorded(&method, &uri, &headers, Value::Null));
    let ga = uri.path().ends_with("/v1/realtime");
    let model = if ga {
        query(&uri, "model")
    } else {
        if query(&uri, "api-version").is_none() {
            return refusal(404, "Resource not found", "404");
        }
        query(&uri, "deployment")
    };
    if headers
        .get("api-key")
        .and_then(|v| v.to_str().ok())
        .is_none_or(str::is_empty)
    {
        return refusal(
            401,
            "Access denied due to invalid subscription key or wrong API endpoint.",
            "401",
        );
    }
    let Some(model) = model else {
        return refusal(
            404,
            "The API deployment for this resource does not exist.",
            "DeploymentNotFound",
        );
    };
    accept(ws, &headers, model)
}

fn accept(ws: Upgrade, headers: &HeaderMap, model: String) -> Response {
    if let Some(status) = mock_status(&model) {
        return refusal(status, &format!("mock error {status}"), "mock_error");
    }
    let Ok(ws) = ws else {
        return refusal(400, "expected a WebSocket upgrade", "not_websocket");
    };
    let beta = headers
        .get("openai-beta")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("realtime=v1"));
    ws.on_upgrade(move |socket| session(socket, model, beta))
}

/// Event names of the protocol the client speaks.
struct Names {
    item_created: &'static str,
    text_delta: &'static str,
    text_done: &'static str,
    audio_delta: &'static str,
    audio_done: &'static str,
}

const BETA: Names = Names {
    item_created: "conversation.item.created",
    text_delta: "response.text.delta",
    text_done: "response.text.done",
    audio_delta: "response.audio.delta",
    audio_done: "response.audio.done",
};

const GA: Names = Names {
    item_created: "conversation.item.added",
    text_delta: "response.output_text.delta",
    text_done: "response.output_text.done",
    audio_delta: "response.output_audio.delta",
    audio_done: "response.output_audio.done",
};

struct Ids(u64);

impl Ids {
    fn next(&mut self, prefix: &str) -> String {
        self.0 += 1;
        format!("{prefix}_mock{:06}", self.0)
    }
}

async fn session(mut socket: WebSocket, model: String, beta: bool) {
    let names = if beta { &BETA } else { &GA };
    let mut ids = Ids(0);
    let mut session = json!({
        "id": ids.next("sess"),
        "object": "realtime.session",
        "type": "realtime",
        "model": model,
        "modalities": ["text", "audio"],
        "instructions": "",
        "voice": "alloy",
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "turn_detection": null,
        "tools": [],
        "tool_choice": "auto",
        "temperature": 0.8,
        "max_response_output_tokens": "inf",
    });
    let created =
        json!({"type": "session.created", "event_id": ids.next("event"), "session": session});
    if send(&mut socket, created).await.is_err() {
        return;
    }
    while let Some(Ok(msg)) = socket.recv().await {
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(b) => {
                if socket.send(Message::Binary(b)).await.is_err() {
                    return;
                }
                continue;
            }
            Message::Close(_) => return,
            _ => continue,
        };
        let Ok(event) = serde_json::from_str::<Value>(text.as_str()) else {
            let err = json!({"type": "error", "event_id": ids.next("event"), "error": {
                "type": "invalid_request_error", "code": "invalid_json",
                "message": "The server could not parse the event as JSON.", "param": null, "event_id": null}});
            if send(&mut socket, err).await.is_err() {
                return;
            }
            continue;
        };
        let client_event = event.get("event_id").cloned().unwrap_or(Value::Null);
        let out: Vec<Value> = match event.get("type").and_then(Value::as_str) {
            Some("session.update") => {
                if let (Some(s), Some(new)) =
                    (session.as_object_mut(), event["session"].as_object())
                {
                    for (k, v) in new {
                        s.insert(k.clone(), v.clone());
                    }
                }
                vec![
                    json!({"type": "session.updated", "event_id": ids.next("event"), "session": session}),
                ]
            }
            Some("conversation.item.create") => {
                let mut item = event.get("item").cloned().unwrap_or_else(|| json!({}));
                if item.get("id").is_none() {
                    item["id"] = json!(ids.next("item"));
                }
                item["object"] = json!("realtime.item");
                item["status"] = json!("completed");
                vec![
                    json!({"type": names.item_created, "event_id": ids.next("event"), "previous_item_id": null, "item": item}),
                ]
            }
            Some("response.create") => {
                let mut events = response(&mut ids, names);
                if model.contains("mock-hangup") {
                    // The server ends the session after its first response.
                    for e in events.drain(..) {
                        if send(&mut socket, e).await.is_err() {
                            return;
                        }
                    }
                    let bye = CloseFrame {
                        code: 1000,
                        reason: "hangup".into(),
                    };
                    let _ = socket.send(Message::Close(Some(bye))).await;
                    return;
                }
                events
            }
            Some("input_audio_buffer.append") => Vec::new(),
            other => vec![
                json!({"type": "error", "event_id": ids.next("event"), "error": {
                "type": "invalid_request_error", "code": "unknown_event",
                "message": format!("Unknown event type {other:?}"), "param": "type", "event_id": client_event}}),
            ],
        };
        for e in out {
            if send(&mut socket, e).await.is_err() {
                return;
            }
        }
    }
}

/// One response's events, in the order OpenAI sends them.
fn response(ids: &mut Ids, n: &Names) -> Vec<Value> {
    let resp_id = ids.next("resp");
    let item_id = ids.next("item");
    let usage: Value = serde_json::from_str(USAGE).expect("the mock's usage is JSON");
    let text: String = DELTAS.concat();
    let mut out = vec![
        json!({"type": "response.created", "event_id": ids.next("event"), "response": {
            "id": resp_id, "object": "realtime.response", "status": "in_progress",
            "status_details": null, "output": [], "usage": null}}),
        json!({"type": "response.output_item.added", "event_id": ids.next("event"),
            "response_id": resp_id, "output_index": 0, "item": {
                "id": item_id, "object": "realtime.item", "type": "message",
                "status": "in_progress", "role": "assistant", "content": []}}),
    ];
    for d in DELTAS {
        out.push(
            json!({"type": n.text_delta, "event_id": ids.next("event"), "response_id": resp_id,
            "item_id": item_id, "output_index": 0, "content_index": 0, "delta": d}),
        );
    }
    out.push(
        json!({"type": n.text_done, "event_id": ids.next("event"), "response_id": resp_id,
        "item_id": item_id, "output_index": 0, "content_index": 0, "text": text}),
    );
    // 24 kHz PCM16 silence, base64.
    for _ in 0..2 {
        out.push(json!({"type": n.audio_delta, "event_id": ids.next("event"), "response_id": resp_id,
            "item_id": item_id, "output_index": 0, "content_index": 1, "delta": "AAAAAAAAAAAAAAAA"}));
    }
    out.push(
        json!({"type": n.audio_done, "event_id": ids.next("event"), "response_id": resp_id,
        "item_id": item_id, "output_index": 0, "content_index": 1}),
    );
    out.push(json!({"type": "response.done", "event_id": ids.next("event"), "response": {
        "id": resp_id, "object": "realtime.response", "status": "completed", "status_details": null,
        "output": [{"id": item_id, "object": "realtime.item", "type": "message", "status": "completed",
            "role": "assistant", "content": [{"type": "text", "text": text}]}],
        "usage": usage}}));
    out
}

async fn send(socket: &mut WebSocket, event: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(event.to_string().into())).await
}
