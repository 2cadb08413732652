//! The MCP gateway: the `mcp_servers:` of config.yaml behind the gateway's keys. `config`
//! (an entry as LiteLLM reads it), `upstream` (a server as an rmcp client: sessions, timeouts,
//! respawn), `sse` (the legacy HTTP+SSE client transport), `sse_server` (the same transport
//! served to old clients), `access` (which servers and tools a key may use, toolsets
//! included), `gateway` (scope, `<server>-<tool>` names, routing), `log` (a call's spend log),
//! `stored` (servers kept in `LiteLLM_MCPServerTable`, and the toolsets of
//! `LiteLLM_MCPToolsetTable`), `handler` (the gateway as an rmcp MCP server). The HTTP routes
//! are `routes/mcp.rs`. Off (no `mcp_servers`), `AppState::mcp` is None and no route exists.

pub mod access;
pub mod chat;
pub mod config;
pub mod gateway;
pub mod handler;
pub mod log;
pub mod sse;
pub mod sse_server;
pub mod stored;
pub mod upstream;

pub use gateway::McpGateway;
