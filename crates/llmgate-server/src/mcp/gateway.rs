//! The configured MCP servers behind one front: which of them a request sees (the key's
//! grants, `/mcp/{server}`, a toolset's endpoint, `x-mcp-servers`), their tools under
//! `<server>-<tool>` names, and a tool call routed to its server and logged.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use llmgate_store::mcp_toolsets::McpToolsetRow;
use rmcp::model::Tool;
use rmcp::model::{CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource};

use super::access::{self, Allowed};
use super::config::{self, SEPARATOR};
use super::upstream::{Forwarded, Upstream, UpstreamError};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

/// The servers one request sees, as they were when it started.
pub type Servers = Arc<Vec<Arc<Upstream>>>;

pub struct McpGateway {
    /// The config's servers, then the stored ones (`LiteLLM_MCPServerTable`); replaced whole
    /// when the table changes.
    servers: RwLock<Servers>,
    /// The config's servers alone.
    config: Vec<Arc<Upstream>>,
    /// `LiteLLM_MCPToolsetTable`, re-read whenever the servers are.
    toolsets: RwLock<Arc<Vec<McpToolsetRow>>>,
    http: reqwest13::Client,
    timeout: Duration,
}

/// The servers one request may reach, and which of their tools.
pub struct Scope {
    pub servers: Vec<Arc<Upstream>>,
    /// Every server the gateway had when the scope was made (names resolve against these).
    pub all: Servers,
    pub allowed: Allowed,
}

/// Why a tool call did not reach its tool.
#[derive(Debug)]
pub enum CallError {
    /// No visible server offers a tool of this name.
    UnknownTool(String),
    /// The server is visible but the key may not call this tool.
    Forbidden(String),
    Upstream(UpstreamError),
    /// A budget of the key, its team, user or organization is spent (or its team is blocked).
    Budget(GatewayError),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::UnknownTool(m) | CallError::Forbidden(m) => f.write_str(m),
            CallError::Budget(e) => f.write_str(
                e.body()["error"]["message"]
                    .as_str()
                    .unwrap_or("budget exceeded"),
            ),
            CallError::Upstream(e) => e.fmt(f),
        }
    }
}

impl McpGateway {
    /// The `mcp_servers:` section; None when it has no server and there is no database to
    /// store servers in (`stored`). A bad entry is an error.
    pub fn from_config(
        cfg: &crate::config::Config,
        stored: bool,
    ) -> Result<Option<Arc<McpGateway>>, String> {
        let specs = config::parse(cfg.extra.get("mcp_servers"))?;
        if specs.is_empty() && !stored {
            return Ok(None);
        }
        // rmcp's HTTP client (reqwest 0.13) on the rustls build the gateway already has: its
        // ring provider, installed as the process default once (a second install is a no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest13::Client::builder()
            .redirect(reqwest13::redirect::Policy::none())
            .build()
            .map_err(|e| format!("mcp_servers: HTTP client: {e}"))?;
        let timeout = super::upstream::request_timeout();
        let config: Vec<Arc<Upstream>> = specs
            .into_iter()
            .map(|s| Arc::new(Upstream::new(s, http.clone(), timeout)))
            .collect();
        Ok(Some(Arc::new(McpGateway {
            servers: RwLock::new(Arc::new(config.clone())),
            config,
            toolsets: RwLock::default(),
            http,
            timeout,
        })))
    }

    /// Every server now: the config's, then the stored ones.
    pub fn servers(&self) -> Servers {
        self.servers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Serves `stored` (the table's servers, checked) after the config's. A stored server
    /// unchanged since the last call keeps its upstream (and its open sessions); one whose
    /// name a config server has is left out.
    pub fn set_stored(&self, stored: Vec<config::ServerSpec>) {
        let now = self.servers();
        let mut next = self.config.clone();
        for spec in stored {
            if next.iter().any(|u| u.name() == spec.name) {
                tracing::warn!(server = %spec.name, "a stored MCP server has a config server's name: not served");
                continue;
            }
            let kept = now.iter().find(|u| {
                u.spec.stored.is_some()
                    && u.spec.server_id == spec.server_id
                    && u.spec.stored == spec.stored
                    && u.spec.name == spec.name
            });
            next.push(match kept {
                Some(u) => u.clone(),
                None => Arc::new(Upstream::new(spec, self.http.clone(), self.timeout)),
            });
        }
        *self.servers.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
    }

    /// Every stored toolset now, by name.
    pub fn toolsets(&self) -> Arc<Vec<McpToolsetRow>> {
        self.toolsets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_toolsets(&self, rows: Vec<McpToolsetRow>) {
        *self.toolsets.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(rows);
    }

    /// The toolset of this name (else id).
    pub fn toolset(&self, name: &str) -> Option<McpToolsetRow> {
        let all = self.toolsets();
        let found = all
            .iter()
            .find(|t| t.toolset_name == name)
            .or_else(|| all.iter().find(|t| t.toolset_id == name));
        found.cloned()
    }

    /// The server of this name or id.
    pub fn find(&self, id: &str) -> Option<Arc<Upstream>> {
        let all = self.servers();
        let found = all
            .iter()
            .find(|u| u.spec.server_id == id)
            .or_else(|| all.iter().find(|u| u.name() == id));
        found.cloned()
    }

    /// What this request sees: the caller's servers, narrowed to `only` (`/mcp/{server}`: an
    /// unknown or refused name is an error) and to `x-mcp-servers` (names it may not use are
    /// left out, as LiteLLM does).
    pub async fn scope(
        &self,
        state: &AppState,
        ctx: &AuthContext,
        only: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Scope, GatewayError> {
        let all = self.servers();
        if let Some(name) = only {
            // `/mcp/{name}` and `litellm_proxy/mcp/{name}` name a toolset too (LiteLLM's
            // dynamic route), when no server has the name.
            if !all.iter().any(|u| u.name() == name) && self.toolset(name).is_some() {
                return self.scope_toolset(state, ctx, name, headers).await;
            }
        }
        let specs: Vec<_> = all.iter().map(|u| &u.spec).collect();
        let toolsets = self.toolsets();
        let allowed = access::allowed(state, ctx, &specs, &toolsets).await?;
        if let Some(name) = only {
            if !all.iter().any(|u| u.name() == name) {
                return Err(GatewayError::NotFound(format!(
                    "MCP server '{name}' not found"
                )));
            }
            if !allowed.server(name) {
                return Err(refused(name));
            }
        }
        Ok(narrowed(all, allowed, only, headers))
    }

    /// What a toolset's endpoint (`/toolset/{name}/mcp`) sees: exactly the toolset's tools
    /// (no `allow_all_keys` server besides), for an admin or a caller whose key or team is
    /// granted the toolset; an unknown toolset is a 404, one not granted a 403.
    pub async fn scope_toolset(
        &self,
        state: &AppState,
        ctx: &AuthContext,
        name: &str,
        headers: &HeaderMap,
    ) -> Result<Scope, GatewayError> {
        let Some(toolset) = self.toolset(name) else {
            return Err(GatewayError::NotFound(format!(
                "MCP toolset '{name}' not found"
            )));
        };
        let all = self.servers();
        let specs: Vec<_> = all.iter().map(|u| &u.spec).collect();
        let allowed = access::toolset(state, ctx, &toolset, &specs).await?;
        Ok(narrowed(all, allowed, None, headers))
    }
}

/// The scope of `allowed` among `all`, narrowed to `only` and to `x-mcp-servers` (names the
/// caller may not use are left out, as LiteLLM does).
fn narrowed(all: Servers, allowed: Allowed, only: Option<&str>, headers: &HeaderMap) -> Scope {
    let narrow: Option<Vec<String>> = headers
        .get("x-mcp-servers")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        });
    let servers = all
        .iter()
        .filter(|u| allowed.server(u.name()))
        .filter(|u| only.is_none_or(|o| o == u.name()))
        .filter(|u| {
            narrow
                .as_ref()
                .is_none_or(|n| n.iter().any(|s| s == u.name()))
        })
        .cloned()
        .collect();
    Scope {
        servers,
        all,
        allowed,
    }
}

impl McpGateway {
    /// Every tool of the scope's servers, with its server; names prefixed `<server>-` when
    /// `prefixed`. A server that fails is left out and named in the errors.
    pub async fn list_tools(
        &self,
        scope: &Scope,
        headers: &HeaderMap,
        prefixed: bool,
    ) -> (Vec<(Arc<Upstream>, Tool)>, Vec<String>) {
        let lists = futures::future::join_all(scope.servers.iter().map(|u| async move {
            let fwd = forwarded(u, headers);
            (u.clone(), u.list_tools(&fwd).await)
        }))
        .await;
        let mut tools = Vec::new();
        let mut errors = Vec::new();
        for (u, r) in lists {
            match r {
                Ok(list) => {
                    for mut t in list {
                        if !u.spec.offers(&t.name) || !scope.allowed.tool(u.name(), &t.name) {
                            continue;
                        }
                        if prefixed {
                            t.name = format!("{}{SEPARATOR}{}", u.name(), t.name).into();
                        }
                        tools.push((u.clone(), t));
                    }
                }
                Err(e) => {
                    tracing::warn!(server = u.name(), error = %e, "MCP tools/list failed");
                    errors.push(e.0);
                }
            }
        }
        (tools, errors)
    }

    /// The server a (tool or prompt) name means: `server` when given, else `<server>-<name>`
    /// (longest server name first), else a bare name when the scope has one server. A server
    /// the key may not use is refused by name, not hidden behind "not found".
    fn server_for<'n>(
        &self,
        scope: &Scope,
        name: &'n str,
        server: Option<&str>,
        what: &str,
    ) -> Result<(Arc<Upstream>, &'n str), CallError> {
        let named = match server {
            Some(s) => scope.all.iter().find(|u| u.name() == s),
            None => scope
                .all
                .iter()
                .filter(|u| name.starts_with(&u.spec.prefix()))
                .max_by_key(|u| u.name().len()),
        };
        let missing = || CallError::UnknownTool(format!("{what} '{name}' not found"));
        match named {
            Some(u) => {
                let bare = name.strip_prefix(&u.spec.prefix()).unwrap_or(name);
                if !scope.allowed.server(u.name()) {
                    return Err(CallError::Forbidden(refused_message(u.name())));
                }
                match scope.servers.iter().find(|v| Arc::ptr_eq(v, u)) {
                    Some(u) => Ok((u.clone(), bare)),
                    None => Err(missing()),
                }
            }
            None if server.is_none() && scope.servers.len() == 1 => {
                Ok((scope.servers[0].clone(), name))
            }
            None => Err(missing()),
        }
    }

    /// The server and bare tool a tool name means (see `server_for`), if the key may call it.
    pub fn resolve(
        &self,
        scope: &Scope,
        name: &str,
        server: Option<&str>,
    ) -> Result<(Arc<Upstream>, String), CallError> {
        let (u, bare) = self.server_for(scope, name, server, "Tool")?;
        if !u.spec.offers(bare) || !scope.allowed.tool(u.name(), bare) {
            return Err(CallError::Forbidden(format!(
                "Tool '{bare}' of MCP server '{}' is not allowed for this key",
                u.name()
            )));
        }
        Ok((u, bare.to_string()))
    }

    /// Every prompt of the scope's servers, named `<server>-<prompt>` as tools are.
    pub async fn list_prompts(
        &self,
        scope: &Scope,
        headers: &HeaderMap,
    ) -> (Vec<Prompt>, Vec<String>) {
        let lists = futures::future::join_all(
            scope
                .servers
                .iter()
                .map(|u| async move { (u.clone(), u.list_prompts(&forwarded(u, headers)).await) }),
        )
        .await;
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (u, r) in lists {
            match r {
                Ok(list) => out.extend(list.into_iter().map(|mut p| {
                    p.name = format!("{}{SEPARATOR}{}", u.name(), p.name);
                    p
                })),
                Err(e) => errors.push(e.0),
            }
        }
        (out, errors)
    }

    pub async fn get_prompt(
        &self,
        scope: &Scope,
        headers: &HeaderMap,
        name: &str,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<GetPromptResult, CallError> {
        let (u, bare) = self.server_for(scope, name, None, "Prompt")?;
        u.get_prompt(&forwarded(&u, headers), bare, arguments)
            .await
            .map_err(CallError::Upstream)
    }

    /// Every resource of the scope's servers (URIs as the servers give them).
    pub async fn list_resources(
        &self,
        scope: &Scope,
        headers: &HeaderMap,
    ) -> (Vec<(Arc<Upstream>, Resource)>, Vec<String>) {
        let lists =
            futures::future::join_all(scope.servers.iter().map(|u| async move {
                (u.clone(), u.list_resources(&forwarded(u, headers)).await)
            }))
            .await;
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (u, r) in lists {
            match r {
                Ok(list) => out.extend(list.into_iter().map(|r| (u.clone(), r))),
                Err(e) => errors.push(e.0),
            }
        }
        (out, errors)
    }

    /// Reads `uri` on the server of the scope that lists it.
    pub async fn read_resource(
        &self,
        scope: &Scope,
        headers: &HeaderMap,
        uri: &str,
    ) -> Result<ReadResourceResult, CallError> {
        let (listed, _) = self.list_resources(scope, headers).await;
        let Some((u, _)) = listed.into_iter().find(|(_, r)| r.uri == uri) else {
            return Err(CallError::UnknownTool(format!(
                "Resource '{uri}' not found"
            )));
        };
        u.read_resource(&forwarded(&u, headers), uri)
            .await
            .map_err(CallError::Upstream)
    }

    /// Calls the tool `name` means and logs the call (server, tool, key, duration, status) to
    /// the spend logs as LiteLLM's `call_mcp_tool`.
    #[allow(clippy::too_many_arguments)]
    pub async fn call(
        &self,
        state: &AppState,
        ctx: &AuthContext,
        scope: &Scope,
        headers: &HeaderMap,
        name: &str,
        server: Option<&str>,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
        route: &'static str,
    ) -> Result<CallToolResult, CallError> {
        let (u, bare) = self.resolve(scope, name, server)?;
        if let Some(key) = &ctx.key {
            // The key's budget and its team's, user's and organization's (a blocked team too),
            // as an A2A call checks them.
            crate::governance::access::check_budgets(&state.gov, key)
                .await
                .map_err(CallError::Budget)?;
        }
        let start = Instant::now();
        let started_ms = llmgate_store::now_ms();
        let fwd = forwarded(&u, headers);
        let r = u
            .call_tool(&fwd, &bare, arguments.clone())
            .await
            .map_err(CallError::Upstream);
        let status = match &r {
            Ok(res) if res.is_error == Some(true) => "failure",
            Ok(_) => "success",
            Err(_) => "failure",
        };
        super::log::record(
            state,
            ctx,
            super::log::ToolCall {
                server: u.name(),
                tool: &bare,
                arguments: arguments.as_ref(),
                start,
                started_ms,
                status,
                error: r.as_ref().err().map(|e| e.to_string()),
                route,
                cost: u.spec.cost.of(&bare),
            },
        )
        .await;
        r
    }
}

fn refused_message(name: &str) -> String {
    format!("This key is not allowed to use MCP server '{name}'")
}

fn refused(name: &str) -> GatewayError {
    GatewayError::Forbidden {
        message: refused_message(name),
        kind: "mcp_server_access_denied",
    }
}

/// The client headers a server gets: those its `extra_headers` name, and every
/// `x-mcp-<server>-<header>` as `<header>` (LiteLLM's per-server auth headers). The client's
/// gateway key is never passed on, whatever header carries it (`authorization` or
/// `x-litellm-api-key` named in `extra_headers`, or an `x-mcp-` header), as A2A strips it.
pub fn forwarded(u: &Upstream, headers: &HeaderMap) -> Forwarded {
    let own = format!("x-mcp-{}-", u.name().to_ascii_lowercase());
    let presented = crate::auth::presented_key(headers);
    let mut out: Forwarded = Vec::new();
    for (k, v) in headers {
        let Ok(v) = v.to_str() else { continue };
        let k = k.as_str();
        if presented.as_deref().is_some_and(|key| v.contains(key)) {
            continue;
        }
        if u.spec.extra_headers.iter().any(|h| h == k) {
            out.push((k.to_string(), v.to_string()));
        } else if let Some(h) = k.strip_prefix(&own).filter(|h| !h.is_empty()) {
            out.push((h.to_string(), v.to_string()));
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(extra: &[&str]) -> Upstream {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let v = serde_json::json!({"s": {"url": "http://127.0.0.1:9/mcp", "extra_headers": extra}});
        let spec = config::parse(Some(&v)).unwrap().remove(0);
        Upstream::new(spec, reqwest13::Client::new(), Duration::from_secs(1))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_gateway_key_is_never_forwarded() {
        let u = upstream(&["Authorization", "x-litellm-api-key", "x-trace-id"]);
        let fwd = forwarded(
            &u,
            &headers(&[
                ("authorization", "Bearer sk-gateway"),
                ("x-trace-id", "t-1"),
                ("x-mcp-s-x-token", "u-1"),
                ("x-mcp-s-api-key", "sk-gateway"),
                ("x-mcp-other-x-token", "no"),
            ]),
        );
        assert_eq!(
            fwd,
            vec![
                ("x-token".to_string(), "u-1".to_string()),
                ("x-trace-id".to_string(), "t-1".to_string()),
            ]
        );
        // The key in x-litellm-api-key: the client's Authorization is its own, for the server.
        let fwd = forwarded(
            &u,
            &headers(&[
                ("x-litellm-api-key", "Bearer sk-gateway"),
                ("authorization", "Bearer user-token"),
            ]),
        );
        assert_eq!(
            fwd,
            vec![("authorization".to_string(), "Bearer user-token".to_string())]
        );
    }
}
