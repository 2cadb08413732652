//! Google's Live API (`BidiGenerateContent` over a WebSocket) as its documentation describes
//! it: `GET /ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent
//! ?key=` (no key: 403 before the upgrade; a `bad-` key: 400 `API key not valid`).
//!
//! The first client message must be `setup` with a `models/...` model, answered with
//! `setupComplete`; anything else first, or a second `setup`, closes the socket with 1007
//! (`Request contains an invalid argument.`), as Google does. A `clientContent` turn with
//! `turnComplete` (or `realtimeInput.audioStreamEnd` / `activityEnd` after audio) is answered
//! with `serverContent.modelTurn` parts — text in three chunks when the setup's
//! `responseModalities` is `TEXT`, else two PCM audio chunks — then `generationComplete`, then
//! `turnComplete` with `usageMetadata`. Every server message is a binary frame of JSON, as
//! Google sends them. Each setup is recorded (path `.../BidiGenerateContent/setup`, the
//! message as the body) so tests can see what the gateway configured.
//!
//! Vertex AI's Live API is the same session at
//! `/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent`, wanting the mock's
//! access token as a bearer (401 before the upgrade otherwise) and a setup model named
//! `projects/{p}/locations/{l}/publishers/google/models/{m}`.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use crate::google::{error, ACCESS_TOKEN};
use crate::openai::recorded;
use crate::Shared;

pub const PATH: &str =
    "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
pub const VERTEX_PATH: &str = "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent";

/// The text every text turn streams.
const CHUNKS: [&str; 3] = ["Hello", " from the", " gemini live mock"];

type Upgrade = Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>;

fn key(uri: &Uri) -> Option<&str> {
    uri.query()?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "key")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

pub(crate) async fn live(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: Upgrade,
) -> Response {
    shared.record(|| recorded(&method, &uri, &headers, Value::Null));
    match key(&uri) {
        None => return error(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."),
        Some(k) if k.starts_with("bad-") => {
            return error(400, "API key not valid. Please pass a valid API key.")
        }
        Some(_) => {}
    }
    let Ok(ws) = ws else {
        return error(400, "expected a WebSocket upgrade");
    };
    let uri = uri.clone();
    ws.on_upgrade(move |socket| session(socket, shared, method, uri, headers, false))
}

pub(crate) async fn vertex_live(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    ws: Upgrade,
) -> Response {
    shared.record(|| recorded(&method, &uri, &headers, Value::Null));
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        );
    }
    let Ok(ws) = ws else {
        return error(400, "expected a WebSocket upgrade");
    };
    ws.on_upgrade(move |socket| session(socket, shared, method, uri, headers, true))
}

/// Whether a setup names a model as the API wants it.
fn model_ok(model: &str, vertex: bool) -> bool {
    if vertex {
        model.starts_with("projects/")
            && model
                .split_once("/publishers/google/models/")
                .is_some_and(|(scope, m)| scope.contains("/locations/") && !m.is_empty())
    } else {
        model.starts_with("models/") && model.len() > 7
    }
}

async fn invalid(socket: &mut WebSocket) {
    let frame = CloseFrame {
        code: 1007,
        reason: "Request contains an invalid argument.".into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn send(socket: &mut WebSocket, v: Value) -> Result<(), axum::Error> {
    socket
        .send(Message::Binary(v.to_string().into_bytes().into()))
        .await
}

async fn session(
    mut socket: WebSocket,
    shared: Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    vertex: bool,
) {
    let mut text = false;
    let mut set_up = false;
    let mut heard_audio = false;
    while let Some(Ok(msg)) = socket.recv().await {
        let raw = match msg {
            Message::Text(t) => t.as_str().as_bytes().to_vec(),
            Message::Binary(b) => b.to_vec(),
            Message::Close(_) => return,
            _ => continue,
        };
        let Ok(msg) = serde_json::from_slice::<Value>(&raw) else {
            return invalid(&mut socket).await;
        };
        if let Some(setup) = msg.get("setup") {
            let named = setup
                .get("model")
                .and_then(Value::as_str)
                .is_some_and(|m| model_ok(m, vertex));
            if set_up || !named {
                return invalid(&mut socket).await;
            }
            let path = format!("{}/setup", uri.path());
            let setup_uri: Uri = path.parse().unwrap_or_else(|_| uri.clone());
            shared.record(|| recorded(&method, &setup_uri, &headers, msg.clone()));
            text = setup
                .pointer("/generationConfig/responseModalities")
                .and_then(Value::as_array)
                .is_some_and(|m| m.iter().any(|v| v == "TEXT"));
            set_up = true;
            if send(&mut socket, json!({"setupComplete": {}}))
                .await
                .is_err()
            {
                return;
            }
            continue;
        }
        if !set_up {
            return invalid(&mut socket).await;
        }
        let answer = if let Some(c) = msg.get("clientContent") {
            c.get("turnComplete").and_then(Value::as_bool) == Some(true)
                && c.get("turns")
                    .and_then(Value::as_array)
                    .is_some_and(|t| !t.is_empty())
        } else if let Some(r) = msg.get("realtimeInput") {
            if r.pointer("/audio/data").and_then(Value::as_str).is_some() {
                heard_audio = true;
            }
            let end =
                r.get("audioStreamEnd") == Some(&json!(true)) || r.get("activityEnd").is_some();
            end && std::mem::take(&mut heard_audio)
        } else if msg.get("toolResponse").is_some() {
            true
        } else {
            return invalid(&mut socket).await;
        };
        if answer && turn(&mut socket, text).await.is_err() {
            return;
        }
    }
}

/// One model turn: its parts, `generationComplete`, then `turnComplete` with the usage.
async fn turn(socket: &mut WebSocket, text: bool) -> Result<(), axum::Error> {
    if text {
        for c in CHUNKS {
            send(
                socket,
                json!({"serverContent": {"modelTurn": {"role": "model", "parts": [{"text": c}]}}}),
            )
            .await?;
        }
    } else {
        for _ in 0..2 {
            send(socket, json!({"serverContent": {"modelTurn": {"role": "model", "parts": [
                {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "AAAAAAAAAAAAAAAA"}}]}}})).await?;
        }
    }
    send(
        socket,
        json!({"serverContent": {"generationComplete": true}}),
    )
    .await?;
    let out = if text { "TEXT" } else { "AUDIO" };
    send(
        socket,
        json!({
            "serverContent": {"turnComplete": true},
            "usageMetadata": {
                "promptTokenCount": 120, "responseTokenCount": 45, "totalTokenCount": 165,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 80}, {"modality": "AUDIO", "tokenCount": 40}],
                "responseTokensDetails": [{"modality": out, "tokenCount": 45}],
            },
        }),
    )
    .await
}
