//! `/v1/realtime` and `/realtime`: OpenAI's Realtime API as a WebSocket proxy, as LiteLLM
//! serves it (`wss://proxy/v1/realtime?model=<model group>`).
//!
//! The client's key is read like any other (Authorization, `api-key`, ...) or, from a browser,
//! from the `openai-insecure-api-key.<key>` subprotocol. Before the upgrade the call is
//! admitted like chat (model access, budgets, limits) and the router picks a deployment whose
//! upstream socket is opened with the gateway's credentials (`upstream.rs`; retries, fallbacks
//! and cooldowns as for any call): a refusal or an upstream failure is answered as an HTTP
//! error in OpenAI's shape, never as an upgraded socket closed at once. Then frames are relayed
//! both ways as they arrive, text and binary, and a close on either side closes the other. The
//! server events' `response.done` usage is summed (`usage.rs`) and the session settled once at
//! the end: one spend log with LiteLLM's call type `_arealtime`. A Gemini or Vertex AI
//! deployment's session is translated instead of relayed
//! (`llmgate::providers::gemini::realtime`: OpenAI's events to Gemini Live's messages and back,
//! its `usageMetadata` as `response.done` usage).

mod upstream;
mod usage;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::extract::ws::{self, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Extension;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as UpCloseFrame;
use tokio_tungstenite::tungstenite::{Message as UpMessage, Utf8Bytes as UpUtf8};

use super::proxy::{self, call_with_retries, error_response_in};
use crate::auth::{presented_key, AuthContext};
use crate::deployments::Deployment;
use crate::error::{ErrorShape, GatewayError};
use crate::governance::admit::{admit, Ask};
use crate::governance::settle::{PromptTokens, Settlement};
use crate::state::AppState;
use llmgate::providers::gemini::realtime::{Out, Session as GeminiLive};
use upstream::Socket;
use usage::Tally;

/// LiteLLM's `call_type` for a realtime session.
const CALL_TYPE: &str = "_arealtime";
const ROUTE: &str = "/v1/realtime";
/// The subprotocol prefix browsers carry the key in (they cannot set headers on a WebSocket).
const KEY_PROTOCOL: &str = "openai-insecure-api-key.";
/// The subprotocol a browser asks the beta protocol with.
const BETA_PROTOCOL: &str = "openai-beta.realtime-v1";

/// The client's subprotocols, in order.
fn subprotocols(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// Middleware before `require_key`: a key offered only as a subprotocol becomes the
/// request's bearer, so the one key check reads it.
pub async fn key_from_subprotocol(mut req: Request, next: Next) -> Response {
    if presented_key(req.headers()).is_none() {
        let key = subprotocols(req.headers())
            .find_map(|p| p.strip_prefix(KEY_PROTOCOL))
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        if let Some(v) = key.and_then(|k| HeaderValue::from_str(&format!("Bearer {k}")).ok()) {
            req.headers_mut().insert("authorization", v);
        }
    }
    next.run(req).await
}

/// The open sessions, and the signal that closes them when the gateway shuts down (an
/// upgraded socket is no longer the listener's to drain).
struct Live {
    closing: tokio::sync::watch::Sender<bool>,
    open: AtomicUsize,
}

static LIVE: LazyLock<Live> = LazyLock::new(|| Live {
    closing: tokio::sync::watch::channel(false).0,
    open: AtomicUsize::new(0),
});

/// One open session, counted while it lives.
struct Open;

impl Open {
    fn new() -> Open {
        LIVE.open.fetch_add(1, Ordering::SeqCst);
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        LIVE.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// At shutdown: every open session is closed (1001 to the client, a close upstream) and
/// settled; waits up to `wait` for them to finish.
pub async fn close_all(wait: std::time::Duration) {
    LIVE.closing.send_replace(true);
    let deadline = tokio::time::Instant::now() + wait;
    while LIVE.open.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Resolves once the gateway is shutting down (at once if it already is).
async fn shutting_down(rx: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: dropped here, before anything else awaits.
    let shut = rx.wait_for(|c| *c).await.is_ok();
    if !shut {
        std::future::pending::<()>().await;
    }
}

/// No prompt is counted for a session: only what the upstream reports is charged.
struct Reported;

impl PromptTokens for Reported {
    fn prompt_tokens(&self, _model: &str) -> u64 {
        0
    }
}

fn refused(e: GatewayError) -> Response {
    error_response_in(e, None, ErrorShape::OpenAi)
}

pub async fn realtime(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    RawQuery(query): RawQuery,
    req: Request,
) -> Response {
    let start = Instant::now();
    let (mut parts, _) = req.into_parts();
    let headers = parts.headers.clone();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(u) => u,
        Err(_) => {
            return refused(GatewayError::BadRequest(
                "/v1/realtime is a WebSocket endpoint: connect with an HTTP/1.1 upgrade (wss://<proxy>/v1/realtime?model=<model>)".into(),
            ))
        }
    };
    let query: Vec<(String, String)> = query
        .as_deref()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let Some(model) = query
        .iter()
        .find(|(k, _)| k == "model")
        .map(|(_, v)| v.clone())
        .filter(|m| !m.is_empty())
    else {
        return refused(GatewayError::BadRequest(
            "model is a required query parameter: /v1/realtime?model=<model>".into(),
        ));
    };
    if let Err(e) = super::guard::stored("model", &model) {
        return refused(e);
    }
    let plan = match proxy::call_plan(&state, &serde_json::Map::new(), Vec::new()) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let ask = Ask {
        model,
        end_user: None,
        tags: Vec::new(),
        body_bytes: 0,
        max_output: None,
    };
    let admission = match admit(&state.gov, &state.deployments(), &auth, ask).await {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let mut settle = Settlement::new(
        &state.gov,
        &auth,
        admission,
        CALL_TYPE,
        ROUTE,
        start,
        Arc::new(Reported),
    );
    let beta = headers
        .get_all("openai-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("realtime=v1"))
        || subprotocols(&headers).any(|p| p == BETA_PROTOCOL);
    let http = state.client.http().clone();
    let res = call_with_retries(&state, ROUTE, &mut settle, &plan, |dep, model| {
        let http = http.clone();
        let query = query.clone();
        async move {
            let mut target = upstream::target(&http, &dep, &model, &query, beta).await?;
            let api_base = {
                let mut shown = target.url.clone();
                shown.set_query(None);
                shown.to_string()
            };
            let live = target.live.take();
            let socket = upstream::connect(target).await?;
            Ok(llmgate::Response {
                body: (socket, live),
                headers: Vec::new(),
                api_base,
            })
        }
    })
    .await;
    let ((socket, live), meta) = match res {
        Ok(r) => r,
        Err((e, meta)) => {
            settle.failure(&e);
            return error_response_in(e, meta.as_ref(), ErrorShape::OpenAi);
        }
    };
    let dep = meta.deployment.clone();
    // Browsers need one of their subprotocols echoed; `realtime` is the one OpenAI answers.
    upgrade
        .protocols(["realtime"])
        .on_upgrade(move |client| session(client, socket, settle, dep, live))
}

/// Why a relay stopped delivering.
enum Gone {
    Client,
    Upstream,
}

/// Sends a translated frame's messages on: to Gemini first (content held for its setup), then
/// the client's events, each looked at for usage.
async fn deliver(
    client: &mut WebSocket,
    up: &mut Socket,
    tally: &mut Tally,
    out: Out,
) -> Result<(), Gone> {
    for m in out.upstream {
        up.send(UpMessage::Text(m.into()))
            .await
            .map_err(|_| Gone::Upstream)?;
    }
    for e in out.client {
        tally.feed(&e);
        client
            .send(Message::Text(e.into()))
            .await
            .map_err(|_| Gone::Client)?;
    }
    Ok(())
}

/// Closes the side still open once a delivery to the other failed.
async fn close_other(gone: Gone, client: &mut WebSocket, up: &mut Socket) {
    match gone {
        Gone::Upstream => {
            let _ = client
                .send(Message::Close(Some(going_away("the upstream closed"))))
                .await;
        }
        Gone::Client => {
            let _ = up.close(None).await;
        }
    }
}

/// The relay: each frame sent on as it arrives; the first close (or failure) on either side
/// closes the other; then the session is settled.
async fn session(
    mut client: WebSocket,
    mut up: Socket,
    mut settle: Settlement,
    dep: Arc<Deployment>,
    mut live: Option<GeminiLive>,
) {
    let _open = Open::new();
    let mut closing = LIVE.closing.subscribe();
    let mut tally = Tally::default();
    // Gemini Live speaks its own protocol: translated both ways.
    if let Some(l) = &live {
        let greeting = l.opened();
        // On failure the loop below sees the closed side and ends the session.
        if let Err(gone) = deliver(&mut client, &mut up, &mut tally, greeting).await {
            close_other(gone, &mut client, &mut up).await;
        }
    }
    loop {
        tokio::select! {
            _ = shutting_down(&mut closing) => {
                let _ = client.send(Message::Close(Some(going_away("the gateway is shutting down")))).await;
                let _ = up.close(None).await;
                break;
            }
            m = client.recv() => match m {
                Some(Ok(Message::Text(t))) if live.is_some() => {
                    let out = live.as_mut().map(|l| l.from_client(t.as_str())).unwrap_or_default();
                    if let Err(gone) = deliver(&mut client, &mut up, &mut tally, out).await {
                        close_other(gone, &mut client, &mut up).await;
                        break;
                    }
                }
                // OpenAI's protocol has no binary events for Gemini to take.
                Some(Ok(Message::Binary(_))) if live.is_some() => {}
                Some(Ok(Message::Text(t))) => {
                    let t = UpUtf8::try_from(bytes::Bytes::from(t)).unwrap_or_default();
                    if up.send(UpMessage::Text(t)).await.is_err() {
                        let _ = client.send(Message::Close(Some(going_away("the upstream closed")))).await;
                        break;
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    if up.send(UpMessage::Binary(b)).await.is_err() {
                        let _ = client.send(Message::Close(Some(going_away("the upstream closed")))).await;
                        break;
                    }
                }
                // Pings are answered by the socket itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    let _ = up.close(frame.map(to_upstream)).await;
                    break;
                }
                Some(Err(_)) | None => {
                    let _ = up.close(None).await;
                    break;
                }
            },
            m = up.next() => match m {
                // Gemini sends its JSON messages as binary frames (or text).
                Some(Ok(frame @ (UpMessage::Text(_) | UpMessage::Binary(_)))) if live.is_some() => {
                    let data = frame.into_data();
                    let out = live.as_mut().map(|l| l.from_upstream(&data)).unwrap_or_default();
                    if let Err(gone) = deliver(&mut client, &mut up, &mut tally, out).await {
                        close_other(gone, &mut client, &mut up).await;
                        break;
                    }
                }
                Some(Ok(UpMessage::Text(t))) => {
                    tally.feed(t.as_str());
                    let t = ws::Utf8Bytes::try_from(bytes::Bytes::from(t)).unwrap_or_default();
                    if client.send(Message::Text(t)).await.is_err() {
                        let _ = up.close(None).await;
                        break;
                    }
                }
                Some(Ok(UpMessage::Binary(b))) => {
                    if client.send(Message::Binary(b)).await.is_err() {
                        let _ = up.close(None).await;
                        break;
                    }
                }
                Some(Ok(UpMessage::Close(frame))) => {
                    let _ = client.send(Message::Close(frame.map(to_client))).await;
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "the realtime upstream failed");
                    let _ = client
                        .send(Message::Close(Some(CloseFrame {
                            code: 1011,
                            reason: "the upstream connection failed".into(),
                        })))
                        .await;
                    break;
                }
                None => {
                    let _ = client.send(Message::Close(Some(going_away("the upstream closed")))).await;
                    break;
                }
            },
        }
    }
    // The deployment's price (overrides, `base_model`), else the model the upstream named.
    let cost = match &dep.info {
        Some(info) => tally.cost(info),
        None => tally.session_model.as_deref().and_then(|m| {
            let cat = llmgate::catalog::global();
            tally.cost(cat.get_for(&dep.provider, m)?)
        }),
    };
    if let Some(c) = cost {
        settle.fixed_cost(c);
    }
    tracing::debug!(
        responses = tally.responses,
        input = tally.input,
        output = tally.output,
        "realtime session closed"
    );
    settle.success(Some(&tally.usage()));
}

/// A realtime deployment's health check, as LiteLLM's for `mode: realtime`: its socket opened
/// (the upstream's `session.created` read) and closed.
pub async fn probe(state: &AppState, d: &Deployment) -> Result<(), llmgate::LlmError> {
    let mut target = upstream::target(state.client.http(), d, d.bare_model(), &[], false).await?;
    let live = target.live.take();
    let mut socket = upstream::connect(target).await?;
    // Gemini Live says nothing until it is set up.
    if let Some(l) = live {
        if socket
            .send(UpMessage::Text(l.probe_setup().into()))
            .await
            .is_err()
        {
            return Err(llmgate::LlmError::new(
                llmgate::ErrorKind::ApiConnection,
                "the realtime socket closed before its setup",
            )
            .with_provider(&d.provider));
        }
    }
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await;
    let _ = socket.close(None).await;
    match first {
        Ok(Some(Ok(_))) => Ok(()),
        _ => Err(llmgate::LlmError::new(
            llmgate::ErrorKind::ApiConnection,
            "the realtime socket opened but sent no event",
        )
        .with_provider(&d.provider)),
    }
}

fn going_away(reason: &str) -> CloseFrame {
    CloseFrame {
        code: 1001,
        reason: reason.into(),
    }
}

fn to_upstream(f: CloseFrame) -> UpCloseFrame {
    UpCloseFrame {
        code: CloseCode::from(f.code),
        reason: UpUtf8::try_from(bytes::Bytes::from(f.reason)).unwrap_or_default(),
    }
}

fn to_client(f: UpCloseFrame) -> CloseFrame {
    CloseFrame {
        code: u16::from(f.code),
        reason: ws::Utf8Bytes::try_from(bytes::Bytes::from(f.reason)).unwrap_or_default(),
    }
}
