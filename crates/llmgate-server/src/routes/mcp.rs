//! The MCP gateway's HTTP surface: `/mcp`, `/mcp/`, `/mcp/{server}` and a toolset's
//! `/toolset/{name}/mcp` (streamable HTTP, served by rmcp's tower service with the gateway as
//! its handler), and LiteLLM's REST routes
//! for scripts, `GET /mcp-rest/tools/list` and `POST /mcp-rest/tools/call`, and the legacy
//! HTTP+SSE transport (`GET /mcp/sse`, `POST /mcp/sse/messages`; `mcp::sse_server`). All behind the
//! gateway's key check (`auth::require_key`), added only when `mcp_servers:` has a server.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::run;
use super::proxy::parse_body;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::mcp::gateway::CallError;
use crate::mcp::handler::Handler;
use crate::mcp::sse_server::{self, Sessions};
use crate::mcp::McpGateway;
use crate::state::AppState;

/// rmcp's streamable HTTP service with the gateway as handler. Host checks are off: the
/// gateway is served on whatever name its clients use, and every request carries a key.
pub fn service(
    state: AppState,
    gateway: Arc<McpGateway>,
) -> StreamableHttpService<Handler, LocalSessionManager> {
    let handler = Handler { state, gateway };
    StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .with_sse_keep_alive(Some(std::time::Duration::from_secs(15))),
    )
}

/// A closed session (`DELETE`) answers 204: rmcp says 202, which the official Python client
/// logs as a failed termination (it takes 200 or 204).
pub async fn session_closed(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let delete = req.method() == axum::http::Method::DELETE;
    let mut resp = next.run(req).await;
    if delete && resp.status() == axum::http::StatusCode::ACCEPTED {
        *resp.status_mut() = axum::http::StatusCode::NO_CONTENT;
    }
    resp
}

fn gateway(state: &AppState) -> Result<&Arc<McpGateway>, GatewayError> {
    state
        .mcp
        .as_ref()
        .ok_or_else(|| GatewayError::NotFound("no MCP servers are configured".into()))
}

#[derive(Deserialize)]
pub struct ListQuery {
    server_id: Option<String>,
}

/// LiteLLM's `list_tool_rest_api`: bare tool names, each with its server's `mcp_info`.
pub async fn tools_list(
    State(state): State<AppState>,
    Extension(ctx): Extension<AuthContext>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    run(async {
        let gw = gateway(&state)?;
        let only = q.server_id.as_deref().filter(|s| !s.is_empty());
        let scope = match gw.scope(&state, &ctx, only, &headers).await {
            Err(GatewayError::NotFound(_)) => {
                let id = only.unwrap_or_default();
                return Ok(Json(json!({"tools": [], "error": "server_not_found",
                                      "message": format!("Server with id {id} not found")}))
                .into_response());
            }
            r => r?,
        };
        let (tools, errors) = gw.list_tools(&scope, &headers, false).await;
        let failed = tools.is_empty() && !errors.is_empty();
        let tools: Vec<Value> = tools
            .into_iter()
            .map(|(u, t)| {
                json!({"name": t.name, "description": t.description,
                       "inputSchema": t.input_schema, "mcp_info": u.spec.mcp_info})
            })
            .collect();
        let (error, message) = match (failed, only) {
            (false, _) => (Value::Null, "Successfully retrieved tools".to_string()),
            (true, Some(id)) => (
                json!("server_error"),
                format!(
                    "Failed to get tools from server {id}: {}",
                    errors.join("; ")
                ),
            ),
            (true, None) => (
                json!("partial_failure"),
                format!("Failed to get tools from servers: {}", errors.join("; ")),
            ),
        };
        Ok(Json(json!({"tools": tools, "error": error, "message": message})).into_response())
    })
    .await
}

/// The body of `/mcp-rest/tools/call`: the tool (bare or `<server>-<tool>`), its arguments,
/// and optionally the server it is on.
#[derive(Deserialize)]
struct CallBody {
    name: String,
    #[serde(default)]
    arguments: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    server_id: Option<String>,
    #[serde(default)]
    server_name: Option<String>,
}

/// LiteLLM's `call_tool_rest_api`: the tool's `CallToolResult`.
pub async fn tools_call(
    State(state): State<AppState>,
    Extension(ctx): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    run(async {
        let gw = gateway(&state)?;
        let b: CallBody = parse_body(&body)?;
        let server = b.server_id.as_deref().or(b.server_name.as_deref());
        let scope = gw.scope(&state, &ctx, None, &headers).await?;
        let res = gw
            .call(
                &state,
                &ctx,
                &scope,
                &headers,
                &b.name,
                server,
                b.arguments,
                "/mcp-rest/tools/call",
            )
            .await
            .map_err(|e| match e {
                CallError::UnknownTool(m) => GatewayError::NotFound(m),
                CallError::Forbidden(m) => GatewayError::Forbidden {
                    message: m,
                    kind: "mcp_server_access_denied",
                },
                CallError::Upstream(e) => GatewayError::Unavailable(e.0),
                CallError::Budget(e) => e,
            })?;
        Ok(Json(res).into_response())
    })
    .await
}

/// What the SSE routes share: the open sessions and the streamable HTTP service
/// (`/mcp/sse` also serves streamable HTTP, as LiteLLM's does).
#[derive(Clone)]
pub struct SseRoutes {
    pub sessions: Arc<Sessions>,
    pub svc: StreamableHttpService<Handler, LocalSessionManager>,
}

/// `GET /mcp/sse` and `GET /mcp/{server}/sse`: a legacy SSE session. A GET that names a
/// streamable HTTP session (`mcp-session-id`) is that session's event stream instead.
pub async fn sse_open(
    State(state): State<AppState>,
    Extension(ctx): Extension<AuthContext>,
    Extension(routes): Extension<SseRoutes>,
    req: axum::extract::Request,
) -> Response {
    if req.headers().contains_key("mcp-session-id") {
        return routes.svc.handle(req).await.map(axum::body::Body::new);
    }
    sse_session(state, ctx, routes, None, req.headers().clone()).await
}

pub async fn sse_open_one(
    State(state): State<AppState>,
    Extension(ctx): Extension<AuthContext>,
    Extension(routes): Extension<SseRoutes>,
    axum::extract::Path(server): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    sse_session(state, ctx, routes, Some(server), headers).await
}

async fn sse_session(
    state: AppState,
    ctx: AuthContext,
    routes: SseRoutes,
    only: Option<String>,
    headers: HeaderMap,
) -> Response {
    run(async {
        let gw = gateway(&state)?;
        // Refused at once (401/403/404) rather than on the first message.
        gw.scope(&state, &ctx, only.as_deref(), &headers).await?;
        let handler = Handler {
            state: state.clone(),
            gateway: gw.clone(),
        };
        let body = sse_server::open(routes.sessions, handler, ctx.api_key.clone(), only);
        Ok(Response::builder()
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache")
            .header("x-accel-buffering", "no")
            .body(body)
            .unwrap_or_default())
    })
    .await
}

#[derive(Deserialize)]
pub struct MessagesQuery {
    session_id: Option<String>,
}

/// `POST /mcp/sse/messages?session_id=`: one JSON-RPC message of a legacy SSE session,
/// answered 202 (the answer goes out on the session's stream).
pub async fn sse_message(
    Extension(ctx): Extension<AuthContext>,
    Extension(routes): Extension<SseRoutes>,
    Query(q): Query<MessagesQuery>,
    req: axum::extract::Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let text = |status: u16, t: String| {
        (
            axum::http::StatusCode::from_u16(status).unwrap_or_default(),
            t,
        )
            .into_response()
    };
    let body = match axum::body::to_bytes(body, 4 << 20).await {
        Ok(b) => b,
        Err(e) => return text(400, format!("Could not read the message: {e}")),
    };
    match sse_server::post(
        &routes.sessions,
        q.session_id.as_deref(),
        ctx.api_key.as_deref(),
        parts,
        &body,
    ) {
        Ok(()) => text(202, "Accepted".into()),
        Err(e) => {
            let (status, t) = e.status_and_text();
            text(status, t)
        }
    }
}
