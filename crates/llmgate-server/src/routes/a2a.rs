//! The A2A agent gateway, as LiteLLM's proxy serves it: `GET /v1/agents` (the agents the key
//! may use), the agent card at `/a2a/{agent}/.well-known/agent-card.json` (and the legacy
//! `agent.json`) with its URL pointing at the gateway, and JSON-RPC at `/a2a/{agent}`
//! (`message/send`, `message/stream` relayed as SSE event by event, `tasks/*`), in A2A 0.3's
//! and 1.0's names and shapes: each side gets its own (`agents::v1` maps them), a 1.0 agent
//! being one whose card says so.
//!
//! The client's gateway key never reaches the agent: each call is a new request carrying only
//! the agent's own `static_headers`, the client headers the agent's `extra_headers` name (or
//! `x-a2a-{agent}-{header}`), and LiteLLM's `X-LiteLLM-Trace-Id` / `X-LiteLLM-Agent-Id`.
//! `message/send` and `message/stream` are admitted (budgets, rate limits) and settled like
//! an LLM call: spend log with call type `asend_message` / `asend_message_streaming`, model
//! `a2a_agent/<card name>`, tokens counted from the text sent and answered, priced by the
//! agent's `cost_per_query` or per-token prices.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures::StreamExt;
use serde_json::{json, Value};

use crate::agents::{permission, usage, v1, Agent};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::governance::settle::{PromptTokens, Settlement};
use crate::state::AppState;

/// Methods relayed as they are (one JSON answer).
const RELAYED: &[&str] = &[
    "tasks/get",
    "tasks/list",
    "tasks/cancel",
    "tasks/pushNotificationConfig/set",
    "tasks/pushNotificationConfig/get",
    "tasks/pushNotificationConfig/list",
    "tasks/pushNotificationConfig/delete",
    "agent/getAuthenticatedExtendedCard",
];

/// `GET /v1/agents`: the agents the caller may use, as LiteLLM's `AgentResponse` list.
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    let agents = state.agents();
    let allowed = match permission::allowed(&state.gov, &agents, &auth).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let out: Vec<Value> = agents
        .all()
        .iter()
        .filter(|a| allowed.admits(a))
        .map(|a| public(a))
        .collect();
    Json(Value::Array(out)).into_response()
}

/// An agent as LiteLLM's `AgentResponse` shows it (no static headers: they are credentials).
pub fn public(a: &Agent) -> Value {
    json!({
        "agent_id": a.agent_id,
        "agent_name": a.agent_name,
        "litellm_params": a.public_params,
        "agent_card_params": a.card,
        "extra_headers": a.extra_headers,
        "agent_access_groups": a.access_groups,
    })
}

/// The agent, if it exists and the caller may use it (404 / 403 otherwise).
pub async fn usable(
    state: &AppState,
    auth: &AuthContext,
    name: &str,
) -> Result<Arc<Agent>, GatewayError> {
    let agents = state.agents();
    let agent = agents
        .find(name)
        .cloned()
        .ok_or_else(|| GatewayError::NotFound(format!("Agent '{name}' not found")))?;
    if !permission::allowed(&state.gov, &agents, auth)
        .await?
        .admits(&agent)
    {
        return Err(GatewayError::Forbidden {
            message: format!(
                "Agent '{name}' is not allowed for your key/team. Contact proxy admin for access."
            ),
            kind: "agent_access_denied",
        });
    }
    Ok(agent)
}

/// The gateway's URL for the agent: `PROXY_BASE_URL` when set (as LiteLLM), else the request's
/// host.
fn gateway_url(headers: &HeaderMap, name: &str) -> String {
    let base = std::env::var("PROXY_BASE_URL")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let scheme = headers
                .get("x-forwarded-proto")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("http");
            format!("{scheme}://{host}")
        });
    format!("{}/a2a/{name}", base.trim_end_matches('/'))
}

/// `GET /a2a/{agent}/.well-known/agent-card.json` (and `agent.json`): the configured card, its
/// `url` (and a 1.0 card's first `supportedInterfaces` entry) pointing at the gateway.
pub async fn card(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let agent = match usable(&state, &auth, &name).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let url = gateway_url(&headers, &name);
    let mut card = agent.card.clone();
    card.insert("url".into(), Value::String(url.clone()));
    if let Some(Value::Array(interfaces)) = card.get_mut("supportedInterfaces") {
        if let Some(Value::Object(first)) = interfaces.first_mut() {
            first.insert("url".into(), Value::String(url));
        }
    }
    Json(Value::Object(card)).into_response()
}

/// A JSON-RPC 2.0 error answer.
fn rpc_error(id: &Value, code: i64, message: String, status: StatusCode) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    (status, Json(body)).into_response()
}

/// `POST /a2a/{agent}` (also `/a2a/{agent}/message/send`, `/v1/a2a/{agent}/message/send`).
pub async fn invoke(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut req: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) | Err(_) => {
            return rpc_error(
                &Value::Null,
                -32700,
                "Parse error: the body is not a JSON-RPC request object".into(),
                StatusCode::BAD_REQUEST,
            )
        }
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    if req.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return rpc_error(
            &id,
            -32600,
            "Invalid Request: jsonrpc must be '2.0'".into(),
            StatusCode::BAD_REQUEST,
        );
    }
    let agent = match usable(&state, &auth, &name).await {
        Ok(a) => a,
        Err(GatewayError::NotFound(message)) => {
            return rpc_error(&id, -32000, message, StatusCode::NOT_FOUND)
        }
        Err(e) => return e.into_response(),
    };
    let asked = req
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let method = v1::wire_name(&asked).to_string();
    // Both sides' versions: the client's by the method name it used, the agent's by its card.
    let shapes = Shapes {
        method: method.clone(),
        client_v1: method != asked,
        agent_v1: v1::is_v1_card(&agent.card),
    };
    req["method"] = Value::String(method.clone());
    if let Some(message) = req.pointer_mut("/params/message") {
        v1::message_v03(message);
    }
    // 1.0 names a task `tasks/{id}` in some requests.
    let named = req
        .pointer("/params/name")
        .and_then(Value::as_str)
        .and_then(|n| n.strip_prefix("tasks/"))
        .map(str::to_string);
    if let (Some(task), true) = (named, req["params"]["id"].is_null()) {
        req["params"]["id"] = Value::String(task);
        if let Some(p) = req["params"].as_object_mut() {
            p.remove("name");
        }
    }
    let mut out = Outbound::new(&agent, &auth, &headers);
    if shapes.agent_v1 {
        out.headers.push(("A2A-Version".into(), "1.0".into()));
    }
    // What the agent is sent: its version's names and shapes (the settlement reads the text).
    let mut sent = req.clone();
    if shapes.agent_v1 {
        v1::request_v1(&mut sent);
    }
    match method.as_str() {
        "message/send" => send(&state, &auth, &agent, out, sent, id, &shapes).await,
        "message/stream" => stream(&state, &auth, &agent, out, sent, id, true, shapes).await,
        "tasks/resubscribe" => stream(&state, &auth, &agent, out, sent, id, false, shapes).await,
        m if RELAYED.contains(&m) => match out.post(&agent, &sent, false).await {
            Ok(res) => relay_json(res, &id, &shapes).await,
            Err(e) => unreachable_agent(&agent, &id, e),
        },
        _ => rpc_error(
            &id,
            -32601,
            format!("Method '{asked}' not found"),
            StatusCode::BAD_REQUEST,
        ),
    }
}

/// The A2A versions of a call's two sides, and the answer as the client's version has it.
pub struct Shapes {
    /// The 0.3 name of the method.
    method: String,
    client_v1: bool,
    agent_v1: bool,
}

impl Shapes {
    fn converts(&self) -> bool {
        self.client_v1 != self.agent_v1
    }

    /// An answer (or stream event) of the agent as the client reads it.
    fn answer(&self, mut v: Value) -> Value {
        if self.agent_v1 && !self.client_v1 {
            v = v1::answer_v03(&self.method, v);
        } else if self.client_v1 && !self.agent_v1 {
            v = v1::answer_v1(&self.method, v);
        }
        v
    }

    /// A JSON body of the agent as the client reads it (as it came when no mapping is due
    /// or it is not JSON).
    fn body(&self, b: Bytes) -> Bytes {
        if !self.converts() {
            return b;
        }
        match serde_json::from_slice::<Value>(&b) {
            Ok(v) => Bytes::from(self.answer(v).to_string()),
            Err(_) => b,
        }
    }
}

/// The request to the agent: its own headers, never the client's key.
struct Outbound {
    headers: Vec<(String, String)>,
}

impl Outbound {
    fn new(agent: &Agent, auth: &AuthContext, client: &HeaderMap) -> Outbound {
        let mut headers: Vec<(String, String)> = Vec::new();
        for name in &agent.extra_headers {
            if let Some(v) = client.get(name.as_str()).and_then(|v| v.to_str().ok()) {
                headers.push((name.clone(), v.to_string()));
            }
        }
        // LiteLLM's convention: `x-a2a-{agent id or name}-{header}` reaches the agent as `{header}`.
        for alias in [&agent.agent_id, &agent.agent_name] {
            let prefix = format!("x-a2a-{}-", alias.to_ascii_lowercase());
            for (k, v) in client {
                if let (Some(h), Ok(v)) = (k.as_str().strip_prefix(&prefix), v.to_str()) {
                    if !h.is_empty() {
                        headers.push((h.to_string(), v.to_string()));
                    }
                }
            }
        }
        // The agent's own credentials win over anything the client sent, and the client's
        // gateway key is never passed on, whatever header an agent's `extra_headers` names.
        let presented = auth.api_key.as_deref().filter(|k| !k.is_empty());
        headers.retain(|(k, v)| {
            !agent
                .static_headers
                .iter()
                .any(|(s, _)| s.eq_ignore_ascii_case(k))
                && !presented.is_some_and(|key| v.contains(key))
        });
        headers.extend(agent.static_headers.iter().cloned());
        let trace = client
            .get("x-litellm-trace-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        headers.push(("X-LiteLLM-Trace-Id".into(), trace));
        headers.push(("X-LiteLLM-Agent-Id".into(), agent.agent_id.clone()));
        if let Some(k) = &auth.key {
            if let Some(u) = &k.row.user_id {
                headers.push(("X-LiteLLM-User-Id".into(), u.clone()));
            }
            if let Some(t) = &k.row.team_id {
                headers.push(("X-LiteLLM-Team-Id".into(), t.clone()));
            }
        }
        Outbound { headers }
    }

    /// Sends the call; waits at most the agent's timeout for the answer's head.
    async fn post(
        &self,
        agent: &Agent,
        body: &Value,
        sse: bool,
    ) -> Result<reqwest::Response, String> {
        let http = reqwest_client();
        let mut rb = http
            .post(&agent.url)
            .header("content-type", "application/json")
            .header(
                "accept",
                if sse {
                    "text/event-stream"
                } else {
                    "application/json"
                },
            )
            .body(body.to_string());
        for (k, v) in &self.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        match tokio::time::timeout(agent.timeout, rb.send()).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) if e.is_connect() => Err("connection refused or unreachable".into()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "no answer within {} s",
                agent.timeout.as_secs_f64()
            )),
        }
    }
}

/// One pooled client for agent calls (the SDK's is tuned for LLM providers).
fn reqwest_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// The agent could not be reached: a JSON-RPC error naming it, 502.
fn unreachable_agent(agent: &Agent, id: &Value, why: String) -> Response {
    tracing::warn!(agent = %agent.agent_name, error = %why, "A2A agent unreachable");
    rpc_error(
        id,
        -32603,
        format!("Agent '{}' is unreachable: {why}", agent.agent_name),
        StatusCode::BAD_GATEWAY,
    )
}

/// The agent's JSON answer relayed (a JSON-RPC error it sent keeps its status).
async fn relay_json(res: reqwest::Response, id: &Value, shapes: &Shapes) -> Response {
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    match res.bytes().await {
        Ok(b) if serde_json::from_slice::<Value>(&b).is_ok() => (
            status,
            [("content-type", "application/json")],
            Body::from(shapes.body(b)),
        )
            .into_response(),
        Ok(_) => rpc_error(
            id,
            -32603,
            format!("the agent answered {status} without a JSON-RPC body"),
            StatusCode::BAD_GATEWAY,
        ),
        Err(e) => rpc_error(
            id,
            -32603,
            format!("the agent's answer broke off: {e}"),
            StatusCode::BAD_GATEWAY,
        ),
    }
}

/// Prompt tokens counted once, from the message sent.
struct Counted(u64);

impl PromptTokens for Counted {
    fn prompt_tokens(&self, _model: &str) -> u64 {
        self.0
    }
}

/// Admits the call and opens its settlement.
async fn settlement(
    state: &AppState,
    auth: &AuthContext,
    agent: &Agent,
    req: &Value,
    call_type: &'static str,
) -> Result<Settlement, GatewayError> {
    let start = Instant::now();
    let admission = crate::governance::admit::admit_target(&state.gov, auth, &agent.model).await?;
    let mut text = String::new();
    if let Some(m) = req.pointer("/params/message") {
        usage::texts(m, &mut text);
    }
    let prompt = Arc::new(Counted(usage::tokens(&agent.model, &text)));
    let mut s = Settlement::new(
        &state.gov, auth, admission, call_type, "/a2a", start, prompt,
    );
    s.attempt(&agent.deployment);
    if let Some(c) = agent.cost_per_query {
        s.fixed_cost(c);
    }
    Ok(s)
}

async fn send(
    state: &AppState,
    auth: &AuthContext,
    agent: &Agent,
    out: Outbound,
    req: Value,
    id: Value,
    shapes: &Shapes,
) -> Response {
    let mut settle = match settlement(state, auth, agent, &req, "asend_message").await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let res = match out.post(agent, &req, false).await {
        Ok(r) => r,
        Err(why) => {
            let e = GatewayError::Unavailable(format!(
                "Agent '{}' is unreachable: {why}",
                agent.agent_name
            ));
            settle.failure(&e);
            return unreachable_agent(agent, &id, why);
        }
    };
    let status = res.status();
    let bytes = match res.bytes().await {
        Ok(b) => b,
        Err(e) => {
            let why = format!("the answer broke off: {e}");
            settle.failure(&GatewayError::Unavailable(why.clone()));
            return unreachable_agent(agent, &id, why);
        }
    };
    let answer: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => {
            let why = format!("it answered {status} without a JSON-RPC body");
            settle.failure(&GatewayError::Unavailable(why.clone()));
            return unreachable_agent(agent, &id, why);
        }
    };
    if let Some(err) = answer.get("error") {
        let msg = err["message"].as_str().unwrap_or("agent error").to_string();
        settle.failure(&GatewayError::BadRequest(msg));
    } else if let Some(u) = llmgate::a2a::reported_usage(&answer) {
        // The agent's own count wins over ours, as a provider's usage does.
        settle.success(Some(&u));
    } else {
        let mut text = String::new();
        usage::texts(&answer["result"], &mut text);
        settle.produced(&text);
        settle.success(None);
    }
    let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::OK);
    let bytes = if shapes.converts() {
        Bytes::from(shapes.answer(answer).to_string())
    } else {
        bytes
    };
    (
        status,
        [("content-type", "application/json")],
        Body::from(bytes),
    )
        .into_response()
}

/// `message/stream` (settled; `settled` false for `tasks/resubscribe`, relayed only): the
/// agent's SSE events sent on as they arrive.
#[allow(clippy::too_many_arguments)]
async fn stream(
    state: &AppState,
    auth: &AuthContext,
    agent: &Agent,
    out: Outbound,
    req: Value,
    id: Value,
    settled: bool,
    shapes: Shapes,
) -> Response {
    let mut settle = if settled {
        match settlement(state, auth, agent, &req, "asend_message_streaming").await {
            Ok(s) => Some(s),
            Err(e) => return e.into_response(),
        }
    } else {
        None
    };
    let sse_error = {
        let id = id.clone();
        move |message: String| {
            let ev =
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": message}});
            Bytes::from(format!("data: {ev}\n\n"))
        }
    };
    let one_event = |b: Bytes| {
        Response::builder()
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache")
            .body(Body::from(b))
            .unwrap_or_default()
    };
    let res = match out.post(agent, &req, true).await {
        Ok(r) => r,
        Err(why) => {
            let message = format!("Agent '{}' is unreachable: {why}", agent.agent_name);
            if let Some(s) = settle.as_mut() {
                s.failure(&GatewayError::Unavailable(message.clone()));
            }
            return one_event(sse_error(message));
        }
    };
    let is_sse = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/event-stream"));
    if !res.status().is_success() || !is_sse {
        // An agent that refuses the stream answers one JSON body: relayed as one event.
        let status = res.status();
        let body = res.bytes().await.unwrap_or_default();
        let event = match serde_json::from_slice::<Value>(&body) {
            Ok(v) if v.get("error").is_some() || v.get("result").is_some() => {
                Bytes::from(format!("data: {}\n\n", shapes.answer(v)))
            }
            _ => sse_error(format!(
                "the agent answered {status} without an event stream"
            )),
        };
        if let Some(s) = settle.as_mut() {
            s.failure(&GatewayError::BadRequest(format!(
                "the agent answered {status} without an event stream"
            )));
        }
        return one_event(event);
    }
    let tap = Tap {
        settle,
        events: Default::default(),
        done: false,
        mapped: shapes.converts().then(|| (shapes, Default::default())),
    };
    let idle = agent.timeout;
    let name = agent.agent_name.clone();
    let body =
        futures::stream::unfold((res.bytes_stream(), tap), move |(mut upstream, mut tap)| {
            let name = name.clone();
            let error_event = sse_error.clone();
            async move {
                if tap.done {
                    return None;
                }
                // The agent's timeout bounds each wait for its next bytes: a stalled agent ends
                // the stream with an error event instead of holding the client forever.
                match tokio::time::timeout(idle, upstream.next()).await {
                    Ok(Some(Ok(chunk))) => {
                        tap.saw(&chunk);
                        let chunk = tap.map(chunk);
                        Some((Ok::<Bytes, std::io::Error>(chunk), (upstream, tap)))
                    }
                    Ok(Some(Err(e))) => {
                        let why = format!("Agent '{name}' stream broke off: {e}");
                        tap.failed(&why);
                        Some((Ok(error_event(why)), (upstream, tap)))
                    }
                    Ok(None) => {
                        tap.ended();
                        None
                    }
                    Err(_) => {
                        let why = format!(
                            "Agent '{name}' is unreachable: no event within {} s",
                            idle.as_secs_f64()
                        );
                        tap.failed(&why);
                        Some((Ok(error_event(why)), (upstream, tap)))
                    }
                }
            }
        });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .header("x-accel-buffering", "no")
        .body(Body::from_stream(body))
        .unwrap_or_default()
}

/// Watches the relayed events for their text (completion tokens) and settles the call at the
/// end; dropped mid-way (the client left), the settlement records the call as abandoned.
struct Tap {
    settle: Option<Settlement>,
    /// The relayed bytes read as SSE events (the bytes themselves go on untouched).
    events: llmgate::stream::sse::SseDecoder,
    /// The stream failed and its error event was sent: nothing follows.
    done: bool,
    /// When the two sides speak different A2A versions: the events are re-sent mapped.
    mapped: Option<(Shapes, llmgate::stream::sse::SseDecoder)>,
}

impl Tap {
    /// The bytes the client gets: the agent's, or each whole event mapped to its version.
    fn map(&mut self, chunk: Bytes) -> Bytes {
        let Some((shapes, decoder)) = self.mapped.as_mut() else {
            return chunk;
        };
        let mut out = String::new();
        for ev in decoder.feed(&chunk) {
            let data = match serde_json::from_str::<Value>(&ev.data) {
                Ok(v) => shapes.answer(v).to_string(),
                Err(_) => ev.data,
            };
            if let Some(kind) = ev.event {
                out.push_str(&format!("event: {kind}\n"));
            }
            out.push_str(&format!("data: {data}\n\n"));
        }
        Bytes::from(out)
    }

    fn saw(&mut self, chunk: &[u8]) {
        let Some(settle) = self.settle.as_mut() else {
            return;
        };
        for ev in self.events.feed(chunk) {
            if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                if let Some(u) = llmgate::a2a::reported_usage(&v) {
                    settle.saw_usage(&u);
                }
                let mut text = String::new();
                usage::texts(&v["result"], &mut text);
                settle.produced(&text);
            }
        }
    }

    fn failed(&mut self, why: &str) {
        self.done = true;
        if let Some(s) = self.settle.as_mut() {
            s.failure(&GatewayError::Unavailable(why.to_string()));
        }
    }

    fn ended(&mut self) {
        if let Some(s) = self.settle.as_mut() {
            s.success(None);
        }
    }
}
