//! `/chat/completions` with MCP tools (`mcp::chat`): the entries are expanded into function
//! tools, then each turn is an ordinary chat call (admission, guardrails, spend — every turn
//! charged and logged), and while the model asks only for MCP tools that may run unapproved,
//! the gateway runs them and asks again, up to `MAX_TURNS` (a streamed request's turns are
//! read whole and the last one replayed as a stream). Without MCP configured, or a body
//! that names no MCP tool, the request goes straight to [`serve`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::Value;

use super::serve;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::mcp::chat;
use crate::state::AppState;

type Chat = llmgate::ChatCompletionRequest;

/// Model turns one request may take while the gateway runs tools for it.
const MAX_TURNS: usize = 10;

/// The largest chat answer read back between turns.
const MAX_ANSWER_BYTES: usize = 64 << 20;

pub async fn serve_chat(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(gw) = state.mcp.clone().filter(|_| chat::mentions_mcp(&body)) else {
        return serve::<Chat>(State(state), Extension(auth), headers, body).await;
    };
    // A body that does not parse is the ordinary path's to refuse, with its error.
    let Ok(mut req) = serde_json::from_slice::<Value>(&body) else {
        return serve::<Chat>(State(state), Extension(auth), headers, body).await;
    };
    let plan = match chat::expand(&gw, &state, &auth, &headers, &mut req).await {
        Ok(Some(plan)) => plan,
        Ok(None) => return serve::<Chat>(State(state), Extension(auth), headers, body).await,
        Err(e) => return e.into_response(),
    };
    // Turns the gateway continues are read whole; a client that asked for a stream gets the
    // last turn replayed as one (`cache_forms::chat_replay`, as a cached answer is).
    let stream = plan.auto && req["stream"] == Value::Bool(true);
    let include_usage = req["stream_options"]["include_usage"] == Value::Bool(true);
    if stream {
        req["stream"] = Value::Bool(false);
        if let Some(m) = req.as_object_mut() {
            m.remove("stream_options");
        }
    }
    for _ in 0..MAX_TURNS {
        let turn = Bytes::from(serde_json::to_vec(&req).unwrap_or_default());
        let resp = serve::<Chat>(
            State(state.clone()),
            Extension(auth.clone()),
            headers.clone(),
            turn,
        )
        .await;
        if !plan.auto || !resp.status().is_success() {
            return resp;
        }
        let (parts, body) = resp.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_ANSWER_BYTES).await {
            Ok(b) => b,
            Err(e) => {
                return GatewayError::Internal(format!("reading the model's answer: {e}"))
                    .into_response()
            }
        };
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let Some(calls) = chat::calls(&plan, &answer) else {
            if stream {
                return replayed(parts, answer, include_usage);
            }
            return Response::from_parts(parts, axum::body::Body::from(bytes));
        };
        let message = answer["choices"][0]["message"].clone();
        let results = chat::run(&gw, &state, &auth, &headers, &plan, calls).await;
        if let Some(messages) = req["messages"].as_array_mut() {
            messages.push(message);
            messages.extend(results);
        }
    }
    GatewayError::BadRequest(format!(
        "the model was still calling MCP tools after {MAX_TURNS} turns"
    ))
    .into_response()
}

/// The final answer as the chat stream the client asked for (the gateway's headers kept).
fn replayed(
    mut parts: axum::http::response::Parts,
    mut answer: Value,
    include_usage: bool,
) -> Response {
    if !include_usage {
        if let Some(m) = answer.as_object_mut() {
            m.remove("usage");
        }
    }
    let mut body = String::new();
    for chunk in super::cache_forms::chat_replay(&answer).unwrap_or_default() {
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/event-stream"),
    );
    Response::from_parts(parts, axum::body::Body::from(body))
}
