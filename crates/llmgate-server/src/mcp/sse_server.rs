//! The 2024-11-05 HTTP+SSE transport on the gateway's side, for clients that predate
//! streamable HTTP (`mcp.client.sse.sse_client`, older Cursor/Claude builds). rmcp no longer
//! ships it, so the transport is the pair rmcp serves any sink/stream over: a GET to
//! `/mcp/sse` (or `/mcp/{server}/sse`) opens the event stream, whose first `endpoint` event
//! names `/mcp/sse/messages?session_id=<id>` (LiteLLM's path); each POST there is one JSON-RPC
//! message, answered 202, whose answer arrives as a `message` event on the stream. Every POST
//! passes the key check like any request, must carry the key that opened the session, and its
//! HTTP parts ride with the message so the handler sees the caller and its headers exactly as
//! on streamable HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::StreamExt;
use rmcp::model::{ClientJsonRpcMessage, GetExtensions, ServerJsonRpcMessage};
use rmcp::ServiceExt;

use super::handler::Handler;

/// The server a session was opened on (`/mcp/{server}/sse`), carried in a message's HTTP
/// parts: the POSTs all go to one path, so the handler cannot read it from theirs.
#[derive(Clone)]
pub struct OnlyServer(pub String);

struct Session {
    to_server: UnboundedSender<ClientJsonRpcMessage>,
    /// The key that opened the session: another key may not drive it.
    owner: Option<String>,
    only: Option<String>,
}

/// The open SSE sessions of this instance (a session lives on the instance its GET reached).
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

/// Removes the session when its event stream ends (the client went away): the sender drops,
/// the rmcp service's incoming stream ends, and the service stops.
struct Close(Arc<Sessions>, String);

impl Drop for Close {
    fn drop(&mut self) {
        self.0
             .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.1);
    }
}

pub const MESSAGES_PATH: &str = "/mcp/sse/messages";

/// Opens a session: serves `handler` over it and returns the SSE body (the `endpoint` event,
/// then the server's messages, a comment every 15 s to keep proxies from closing it).
pub fn open(
    sessions: Arc<Sessions>,
    handler: Handler,
    owner: Option<String>,
    only: Option<String>,
) -> axum::body::Body {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (to_server, from_client) = unbounded::<ClientJsonRpcMessage>();
    let (to_client, from_server) = unbounded::<ServerJsonRpcMessage>();
    sessions.0.lock().unwrap_or_else(|e| e.into_inner()).insert(
        id.clone(),
        Session {
            to_server,
            owner,
            only,
        },
    );
    tokio::spawn(async move {
        // Ends when the client never initializes and leaves, or after the session closes.
        match handler.serve((to_client, from_client)).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => tracing::debug!(error = %e, "MCP SSE session ended before initializing"),
        }
    });
    let close = Close(sessions, id.clone());
    let first = format!("event: endpoint\ndata: {MESSAGES_PATH}?session_id={id}\n\n");
    let head = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(first) });
    // `close` lives as long as the stream.
    let tail = futures::stream::unfold((from_server, close), |(mut rx, close)| async move {
        let event = tokio::select! {
            m = rx.next() => {
                let data = serde_json::to_string(&m?).unwrap_or_default();
                format!("event: message\ndata: {data}\n\n")
            }
            _ = tokio::time::sleep(Duration::from_secs(15)) => ": ping\n\n".to_string(),
        };
        Some((Ok(event), (rx, close)))
    });
    axum::body::Body::from_stream(head.chain(tail))
}

/// Why a POST was refused: LiteLLM's (the Python SDK's) statuses and texts.
pub enum PostError {
    NoSessionId,
    UnknownSession,
    BadMessage(String),
}

impl PostError {
    pub fn status_and_text(&self) -> (u16, String) {
        match self {
            PostError::NoSessionId => (400, "session_id is required".into()),
            PostError::UnknownSession => (404, "Could not find session".into()),
            PostError::BadMessage(e) => (400, format!("Could not parse message: {e}")),
        }
    }
}

/// Hands one posted message to its session, with the POST's HTTP parts (the caller, its
/// headers) and the session's server in its extensions.
pub fn post(
    sessions: &Sessions,
    session_id: Option<&str>,
    caller: Option<&str>,
    mut parts: http::request::Parts,
    body: &[u8],
) -> Result<(), PostError> {
    let id = session_id.ok_or(PostError::NoSessionId)?;
    let map = sessions.0.lock().unwrap_or_else(|e| e.into_inner());
    // A session opened with another key is as unknown as one that never was.
    let s = map
        .get(id)
        .filter(|s| s.owner.as_deref() == caller)
        .ok_or(PostError::UnknownSession)?;
    let mut msg: ClientJsonRpcMessage =
        serde_json::from_slice(body).map_err(|e| PostError::BadMessage(e.to_string()))?;
    if let Some(only) = &s.only {
        parts.extensions.insert(OnlyServer(only.clone()));
    }
    match &mut msg {
        ClientJsonRpcMessage::Request(r) => {
            r.request.extensions_mut().insert(parts);
        }
        ClientJsonRpcMessage::Notification(n) => {
            n.notification.extensions_mut().insert(parts);
        }
        _ => {}
    }
    s.to_server
        .unbounded_send(msg)
        .map_err(|_| PostError::UnknownSession)
}
