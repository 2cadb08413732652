//! `/chat/completions`, `/v1/responses` and `/v1/messages` with MCP tools (`mcp::chat`): the
//! entries are expanded into function tools of the request's API, then each turn is an
//! ordinary call of that endpoint (admission, guardrails, spend — every turn charged and
//! logged), and while the model asks only for MCP tools and an entry lets them run unapproved,
//! the gateway runs them and asks again, up to `MAX_TURNS` (a streamed request's turns are read
//! whole and the last one replayed as the endpoint's stream). Without MCP configured, or a body
//! that names no MCP tool, the request goes straight to [`serve`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use super::{serve, Endpoint};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::mcp::chat::{self, Dialect};
use crate::state::AppState;

type Chat = llmgate::ChatCompletionRequest;
type Messages = llmgate::messages::MessagesRequest;
type Responses = super::ResponsesCall;

/// Model turns one request may take while the gateway runs tools for it.
const MAX_TURNS: usize = 10;

/// The largest chat answer read back between turns.
const MAX_ANSWER_BYTES: usize = 64 << 20;

pub async fn serve_chat(
    state: State<AppState>,
    auth: Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_with_mcp::<Chat>(
        state,
        auth,
        headers,
        body,
        Dialect::Chat,
        "/chat/completions",
    )
    .await
}

pub async fn serve_responses(
    state: State<AppState>,
    auth: Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_with_mcp::<Responses>(
        state,
        auth,
        headers,
        body,
        Dialect::Responses,
        "/v1/responses",
    )
    .await
}

pub async fn serve_messages(
    state: State<AppState>,
    auth: Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve_with_mcp::<Messages>(
        state,
        auth,
        headers,
        body,
        Dialect::Messages,
        "/v1/messages",
    )
    .await
}

async fn serve_with_mcp<E: Endpoint>(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
    dialect: Dialect,
    route: &'static str,
) -> Response {
    let Some(gw) = state.mcp.clone().filter(|_| chat::mentions_mcp(&body)) else {
        return serve::<E>(State(state), Extension(auth), headers, body).await;
    };
    // A body that does not parse is the ordinary path's to refuse, with its error.
    let Ok(mut req) = serde_json::from_slice::<Value>(&body) else {
        return serve::<E>(State(state), Extension(auth), headers, body).await;
    };
    let plan = match chat::expand(&gw, &state, &auth, &headers, &mut req, dialect).await {
        Ok(Some(plan)) => plan,
        Ok(None) => return serve::<E>(State(state), Extension(auth), headers, body).await,
        Err(e) => return e.into_response(),
    };
    if dialect == Dialect::Responses {
        return responses_loop(state, auth, headers, req, &gw, plan).await;
    }
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
        let resp = serve::<E>(
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
                return match dialect {
                    Dialect::Chat => replayed(parts, answer, include_usage),
                    Dialect::Responses => replay_events(parts, responses_replay(&answer)),
                    Dialect::Messages => replay_events(parts, messages_replay(&answer)),
                };
            }
            return Response::from_parts(parts, axum::body::Body::from(bytes));
        };
        let results = chat::run(&gw, &state, &auth, &headers, &plan, calls, route).await;
        chat::feed(&plan, &mut req, &answer, results);
    }
    GatewayError::BadRequest(format!(
        "the model was still calling MCP tools after {MAX_TURNS} turns"
    ))
    .into_response()
}

/// One turn of the loop, read whole: its headers and answer, or the response to give the
/// client as it is (a refusal, a failed call).
async fn turn<E: Endpoint>(
    state: &AppState,
    auth: &AuthContext,
    headers: &HeaderMap,
    req: &Value,
) -> Result<(axum::http::response::Parts, Value), Response> {
    let body = Bytes::from(serde_json::to_vec(req).unwrap_or_default());
    let resp = serve::<E>(
        State(state.clone()),
        Extension(auth.clone()),
        headers.clone(),
        body,
    )
    .await;
    if !resp.status().is_success() {
        return Err(resp);
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ANSWER_BYTES)
        .await
        .map_err(|e| {
            GatewayError::Internal(format!("reading the model's answer: {e}")).into_response()
        })?;
    Ok((parts, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// `/v1/responses` with MCP tools, as OpenAI's Responses API shows them: the answer's output
/// starts with an `mcp_list_tools` item per entry (unless the conversation has it already),
/// then an `mcp_call` item per call the gateway ran (`output`, `error`), then the model's last
/// turn, whose calls to tools that need approval are `mcp_approval_request` items. A follow-up
/// (`previous_response_id`, or the items sent back) with `mcp_approval_response` items runs
/// the approved calls (each an `mcp_call` naming its `approval_request_id`), tells the model
/// of the declined ones, and continues. The turns are not stored; the answer the client gets
/// is (when `store` is not false), with the client's own input.
async fn responses_loop(
    state: AppState,
    auth: AuthContext,
    headers: HeaderMap,
    mut req: Value,
    gw: &crate::mcp::McpGateway,
    plan: chat::Plan,
) -> Response {
    let stream = req["stream"] == Value::Bool(true);
    let store = req["store"] != Value::Bool(false);
    req["stream"] = Value::Bool(false);
    req["store"] = Value::Bool(false);
    if let Some(m) = req.as_object_mut() {
        m.remove("stream_options");
    }
    let input: Vec<Value> = match req["input"].clone() {
        Value::String(s) => vec![json!({"type": "message", "role": "user",
                                        "content": [{"type": "input_text", "text": s}]})],
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let previous = req["previous_response_id"].as_str().map(str::to_string);
    let context = match &previous {
        None => Vec::new(),
        Some(id) => match crate::routes::responses::load(&state, id).await {
            Ok(Some(s)) if crate::routes::responses::may_read(&auth, &s) => s.conversation(),
            Ok(_) => {
                return GatewayError::NotFound(format!(
                    "Previous response with id '{id}' not found."
                ))
                .into_response()
            }
            Err(e) => return e.into_response(),
        },
    };
    let seen = |i: &Value, kind: &str| i["type"] == kind;
    let mut mcp_items: Vec<Value> = plan
        .listed
        .iter()
        .filter(|l| {
            !context
                .iter()
                .chain(&input)
                .any(|i| seen(i, "mcp_list_tools") && i["server_label"] == l["server_label"])
        })
        .cloned()
        .collect();
    let route = "/v1/responses";
    // The client's answers to earlier approval requests.
    let mut turn_input = Vec::with_capacity(input.len());
    for item in &input {
        turn_input.push(item.clone());
        if !seen(item, "mcp_approval_response") || item["approve"] != Value::Bool(true) {
            continue;
        }
        let rid = &item["approval_request_id"];
        let done = context
            .iter()
            .chain(&input)
            .any(|i| seen(i, "mcp_call") && i["approval_request_id"] == *rid);
        if done {
            continue;
        }
        let Some(asked) = context
            .iter()
            .chain(&input)
            .find(|i| seen(i, "mcp_approval_request") && i["id"] == *rid)
        else {
            return GatewayError::BadRequest(format!(
                "mcp_approval_response: no mcp_approval_request with id {rid} in this conversation"
            ))
            .into_response();
        };
        let call = chat::Call {
            id: rid.as_str().unwrap_or_default().to_string(),
            name: asked["name"].as_str().unwrap_or_default().to_string(),
            arguments: asked["arguments"].as_str().unwrap_or("{}").to_string(),
        };
        if !plan.offers(&call.name) {
            return GatewayError::BadRequest(format!(
                "mcp_approval_response {rid}: the tool `{}` is not among this request's MCP tools",
                call.name
            ))
            .into_response();
        }
        let done = mcp_call(gw, &state, &auth, &headers, &plan, &call, Some(rid), route).await;
        turn_input.push(done.clone());
        mcp_items.push(done);
    }
    req["input"] = Value::Array(turn_input);
    for _ in 0..MAX_TURNS {
        let (parts, mut answer) = match turn::<Responses>(&state, &auth, &headers, &req).await {
            Ok(t) => t,
            Err(resp) => return resp,
        };
        let calls = chat::calls(&plan, &answer).unwrap_or_default();
        let (auto, asked): (Vec<_>, Vec<_>) = calls
            .into_iter()
            .partition(|c| !plan.needs_approval(&c.name));
        let mut results = Vec::new();
        for c in &auto {
            let item = mcp_call(gw, &state, &auth, &headers, &plan, c, None, route).await;
            results.push((c.id.clone(), model_text(&item)));
            mcp_items.push(item);
        }
        if asked.is_empty() && !auto.is_empty() {
            chat::feed(&plan, &mut req, &answer, results);
            continue;
        }
        // The last turn: the calls that ran are the `mcp_call` items, those that wait are
        // approval requests.
        let ran: std::collections::HashSet<&str> = auto.iter().map(|c| c.id.as_str()).collect();
        let mut output = std::mem::take(&mut mcp_items);
        for item in answer["output"].as_array().cloned().unwrap_or_default() {
            let call_id = item["call_id"].as_str().unwrap_or_default();
            if item["type"] != "function_call" {
                output.push(item);
            } else if ran.contains(call_id) {
                continue;
            } else if let Some(c) = asked.iter().find(|c| c.id == call_id) {
                output.push(
                    json!({"id": chat::item_id("mcpr"), "type": "mcp_approval_request",
                    "server_label": plan.label(&c.name), "name": c.name,
                    "arguments": c.arguments}),
                );
            } else {
                output.push(item);
            }
        }
        answer["output"] = Value::Array(output);
        answer["store"] = Value::Bool(store);
        if store {
            if let Ok(obj) = serde_json::from_value::<llmgate::ResponseObject>(answer.clone()) {
                let rec = crate::routes::responses::Record {
                    owner: crate::routes::responses::owner(&auth),
                    previous: previous.clone(),
                    context,
                    input,
                };
                crate::routes::responses::save(&state, rec, &obj);
            }
        }
        if stream {
            return replay_events(parts, responses_replay(&answer));
        }
        let mut parts = parts;
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        return Response::from_parts(
            parts,
            axum::body::Body::from(serde_json::to_vec(&answer).unwrap_or_default()),
        );
    }
    GatewayError::BadRequest(format!(
        "the model was still calling MCP tools after {MAX_TURNS} turns"
    ))
    .into_response()
}

/// Runs one call and gives its `mcp_call` item.
#[allow(clippy::too_many_arguments)]
async fn mcp_call(
    gw: &crate::mcp::McpGateway,
    state: &AppState,
    auth: &AuthContext,
    headers: &HeaderMap,
    plan: &chat::Plan,
    c: &chat::Call,
    approval_request_id: Option<&Value>,
    route: &'static str,
) -> Value {
    let o = chat::run_one(gw, state, auth, headers, plan, c, route).await;
    let status = if o.error.is_some() {
        "failed"
    } else {
        "completed"
    };
    json!({"id": chat::item_id("mcp"), "type": "mcp_call", "server_label": plan.label(&c.name),
           "name": c.name, "arguments": c.arguments,
           "approval_request_id": approval_request_id.cloned().unwrap_or(Value::Null),
           "output": o.output, "error": o.error,
           "status": status})
}

/// An `mcp_call` item as the text the model reads (as `chat::model_items` gives it).
fn model_text(item: &Value) -> String {
    chat::model_items(&[], vec![item.clone()])
        .get(1)
        .and_then(|o| o["output"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Named SSE events (`event: <type>` + `data: <json>`), as the Responses and Messages APIs
/// stream them, with the gateway's headers kept.
fn replay_events(mut parts: axum::http::response::Parts, events: Vec<Value>) -> Response {
    let mut body = String::new();
    for e in events {
        let kind = e["type"].as_str().unwrap_or("message").to_string();
        body.push_str(&format!("event: {kind}\ndata: {e}\n\n"));
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/event-stream"),
    );
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// A Responses API answer as its stream: `response.created`, each output item added, its text
/// (or arguments) as one delta, done, then `response.completed` with the whole answer.
fn responses_replay(answer: &Value) -> Vec<Value> {
    let mut seq = 0u64;
    let mut ev = |mut v: Value| {
        v["sequence_number"] = json!(seq);
        seq += 1;
        v
    };
    let mut created = answer.clone();
    created["status"] = json!("in_progress");
    created["output"] = json!([]);
    let mut out = vec![
        ev(json!({"type": "response.created", "response": created})),
        ev(json!({"type": "response.in_progress", "response": created})),
    ];
    for (i, item) in answer["output"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let id = item["id"].clone();
        let mut added = item.clone();
        if item["type"] == "message" {
            added["content"] = json!([]);
        }
        added["status"] = json!("in_progress");
        out.push(ev(
            json!({"type": "response.output_item.added", "output_index": i, "item": added}),
        ));
        if item["type"] == "message" {
            for (j, part) in item["content"].as_array().into_iter().flatten().enumerate() {
                let text = part["text"].as_str().unwrap_or_default();
                let mut empty = part.clone();
                empty["text"] = json!("");
                out.push(ev(
                    json!({"type": "response.content_part.added", "item_id": id,
                    "output_index": i, "content_index": j, "part": empty}),
                ));
                out.push(ev(
                    json!({"type": "response.output_text.delta", "item_id": id,
                    "output_index": i, "content_index": j, "delta": text, "logprobs": []}),
                ));
                out.push(ev(
                    json!({"type": "response.output_text.done", "item_id": id,
                    "output_index": i, "content_index": j, "text": text, "logprobs": []}),
                ));
                out.push(ev(
                    json!({"type": "response.content_part.done", "item_id": id,
                    "output_index": i, "content_index": j, "part": part}),
                ));
            }
        } else if item["type"] == "function_call" {
            let args = item["arguments"].as_str().unwrap_or_default();
            out.push(ev(
                json!({"type": "response.function_call_arguments.delta", "item_id": id,
                "output_index": i, "delta": args}),
            ));
            out.push(ev(
                json!({"type": "response.function_call_arguments.done", "item_id": id,
                "output_index": i, "arguments": args}),
            ));
        }
        out.push(ev(
            json!({"type": "response.output_item.done", "output_index": i, "item": item}),
        ));
    }
    out.push(ev(
        json!({"type": "response.completed", "response": answer}),
    ));
    out
}

/// A Messages API answer as its stream: `message_start`, each content block started, given
/// whole as one delta and stopped, `message_delta` (stop reason, usage), `message_stop`.
fn messages_replay(answer: &Value) -> Vec<Value> {
    let mut start = answer.clone();
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["stop_sequence"] = Value::Null;
    let mut out = vec![json!({"type": "message_start", "message": start})];
    for (i, block) in answer["content"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (empty, delta) = match block["type"].as_str() {
            Some("text") => (
                json!({"type": "text", "text": ""}),
                json!({"type": "text_delta", "text": block["text"]}),
            ),
            Some("tool_use") => (
                json!({"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}),
                json!({"type": "input_json_delta", "partial_json": block["input"].to_string()}),
            ),
            Some("thinking") => (
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                json!({"type": "thinking_delta", "thinking": block["thinking"]}),
            ),
            _ => (block.clone(), Value::Null),
        };
        out.push(json!({"type": "content_block_start", "index": i, "content_block": empty}));
        if !delta.is_null() {
            out.push(json!({"type": "content_block_delta", "index": i, "delta": delta}));
        }
        out.push(json!({"type": "content_block_stop", "index": i}));
    }
    out.push(json!({"type": "message_delta",
        "delta": {"stop_reason": answer["stop_reason"], "stop_sequence": answer["stop_sequence"]},
        "usage": {"output_tokens": answer["usage"]["output_tokens"]}}));
    out.push(json!({"type": "message_stop"}));
    out
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
