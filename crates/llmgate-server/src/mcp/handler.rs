//! The gateway as an MCP server (rmcp's `ServerHandler`): `tools/list` aggregates the tools of
//! the servers the request may see, `tools/call` routes to the right one. Who is asking comes
//! from the HTTP request each message arrived in: rmcp hands the handler its `http` parts, in
//! whose extensions the auth middleware left the `AuthContext`.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse,
    Implementation, ListPromptsResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use super::gateway::{CallError, McpGateway, Scope};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

#[derive(Clone)]
pub struct Handler {
    pub state: AppState,
    pub gateway: Arc<McpGateway>,
}

/// What one request brings: the caller, its headers, `/mcp/{server}`'s server and
/// `/toolset/{name}/mcp`'s toolset.
struct Request {
    ctx: AuthContext,
    headers: axum::http::HeaderMap,
    only: Option<String>,
    toolset: Option<String>,
}

fn request(context: &RequestContext<RoleServer>) -> Result<Request, ErrorData> {
    let parts = context
        .extensions
        .get::<http::request::Parts>()
        .ok_or_else(|| ErrorData::internal_error("no HTTP request", None))?;
    let ctx = parts
        .extensions
        .get::<AuthContext>()
        .cloned()
        .ok_or_else(|| ErrorData::invalid_request("not authenticated", None))?;
    Ok(Request {
        ctx,
        headers: parts.headers.clone(),
        only: match parts.extensions.get::<super::sse_server::OnlyServer>() {
            Some(s) => Some(s.0.clone()),
            None => server_of_path(parts.uri.path()),
        },
        toolset: toolset_of_path(parts.uri.path()),
    })
}

/// `/toolset/{name}/mcp` (with or without a trailing slash) → the toolset.
pub fn toolset_of_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/toolset/")?.trim_end_matches('/');
    let name = rest.strip_suffix("/mcp")?;
    (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
}

/// `/mcp/{server}` (with or without a trailing slash) → the server.
pub fn server_of_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/mcp/")?.trim_end_matches('/');
    // `/mcp/sse` is the gateway's SSE path (LiteLLM's), not a server.
    (!rest.is_empty() && !rest.contains('/') && rest != "sse").then(|| rest.to_string())
}

fn gateway_error(e: GatewayError) -> ErrorData {
    let message = e.body()["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| "request refused".into());
    match e.status() {
        404 | 403 | 401 => ErrorData::invalid_request(message, None),
        _ => ErrorData::internal_error(message, None),
    }
}

/// A refused or failed call as the MCP error the client sees.
fn call_error(e: CallError) -> ErrorData {
    match e {
        CallError::UnknownTool(m) | CallError::Forbidden(m) => ErrorData::invalid_params(m, None),
        e @ CallError::Budget(_) => ErrorData::invalid_request(e.to_string(), None),
        CallError::Upstream(e) => ErrorData::internal_error(e.0, None),
    }
}

impl Handler {
    async fn scope(&self, r: &Request) -> Result<Scope, ErrorData> {
        match &r.toolset {
            Some(t) => {
                self.gateway
                    .scope_toolset(&self.state, &r.ctx, t, &r.headers)
                    .await
            }
            None => {
                self.gateway
                    .scope(&self.state, &r.ctx, r.only.as_deref(), &r.headers)
                    .await
            }
        }
        .map_err(gateway_error)
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("llmgate", env!("CARGO_PKG_VERSION")))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let r = request(&context)?;
        let scope = self.scope(&r).await?;
        let (tools, errors) = self.gateway.list_tools(&scope, &r.headers, true).await;
        // One named server that failed is an error, not an empty list.
        if (r.only.is_some() || r.toolset.is_some()) && tools.is_empty() {
            if let Some(e) = errors.into_iter().next() {
                return Err(ErrorData::internal_error(e, None));
            }
        }
        Ok(ListToolsResult::with_all_items(
            tools.into_iter().map(|(_, t)| t).collect(),
        ))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let r = request(&context)?;
        let scope = self.scope(&r).await?;
        let (prompts, _) = self.gateway.list_prompts(&scope, &r.headers).await;
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let r = self::request(&context)?;
        let scope = self.scope(&r).await?;
        self.gateway
            .get_prompt(&scope, &r.headers, &request.name, request.arguments)
            .await
            .map(Into::into)
            .map_err(call_error)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let r = request(&context)?;
        let scope = self.scope(&r).await?;
        let (resources, _) = self.gateway.list_resources(&scope, &r.headers).await;
        Ok(ListResourcesResult::with_all_items(
            resources.into_iter().map(|(_, r)| r).collect(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let r = self::request(&context)?;
        let scope = self.scope(&r).await?;
        self.gateway
            .read_resource(&scope, &r.headers, &request.uri)
            .await
            .map(Into::into)
            .map_err(call_error)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let r = self::request(&context)?;
        let scope = self.scope(&r).await?;
        let route = if r.only.is_some() {
            "/mcp/{server}"
        } else {
            "/mcp"
        };
        match self
            .gateway
            .call(
                &self.state,
                &r.ctx,
                &scope,
                &r.headers,
                &request.name,
                None,
                request.arguments,
                route,
            )
            .await
        {
            Ok(res) => Ok(res.into()),
            Err(e) => Err(call_error(e)),
        }
    }
}
