//! MCP tools for OpenAI-format calls, as LiteLLM's `experimental_mcp_client` offers them
//! (`load_mcp_tools(session, format="openai")`, `call_openai_tool(session, tool_call)`): list
//! an MCP session's tools as chat [`Tool`]s, and run a model's [`ToolCall`] on the session,
//! with its result as the `tool` message to send back. The session is an rmcp client
//! ([`rmcp::Peer<RoleClient>`], what `ServiceExt::serve` gives over any transport), so this
//! works with any MCP server, through the gateway's `/mcp/` or not. Behind the `mcp` feature.

use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, Tool as McpTool};
use rmcp::service::{Peer, RoleClient, ServiceError};
use serde_json::{Map, Value};

use crate::{ChatMessage, FunctionDef, Tool, ToolCall};

pub use rmcp;

/// Why a call could not be made (a tool that ran and failed is a result, not this).
#[derive(Debug, thiserror::Error)]
pub enum McpToolError {
    #[error("the tool call's arguments are not a JSON object: {0}")]
    Arguments(String),
    #[error("MCP session: {0}")]
    Session(#[from] ServiceError),
}

/// An MCP tool as an OpenAI function tool: name and description kept, the input schema as
/// `parameters` (LiteLLM's `transform_mcp_tool_to_openai_tool`).
pub fn to_openai_tool(tool: &McpTool) -> Tool {
    Tool {
        kind: "function".into(),
        function: Some(FunctionDef {
            name: tool.name.to_string(),
            description: tool.description.as_ref().map(|d| d.to_string()),
            parameters: Some(Value::Object((*tool.input_schema).clone())),
            ..Default::default()
        }),
        extra: Default::default(),
    }
}

/// Every tool of the session (all pages), in OpenAI's format.
pub async fn load_mcp_tools(session: &Peer<RoleClient>) -> Result<Vec<Tool>, McpToolError> {
    let tools = session.list_all_tools().await?;
    Ok(tools.iter().map(to_openai_tool).collect())
}

/// Runs an OpenAI tool call on the session: the function's name is the tool, its JSON
/// arguments the tool's (empty: none).
pub async fn call_openai_tool(
    session: &Peer<RoleClient>,
    call: &ToolCall,
) -> Result<CallToolResult, McpToolError> {
    let raw = call.function.arguments.trim();
    let arguments: Option<Map<String, Value>> = if raw.is_empty() {
        None
    } else {
        match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(m)) => Some(m),
            Ok(Value::Null) => None,
            Ok(other) => return Err(McpToolError::Arguments(other.to_string())),
            Err(e) => return Err(McpToolError::Arguments(e.to_string())),
        }
    };
    let mut params = CallToolRequestParams::new(call.function.name.clone());
    if let Some(a) = arguments {
        params = params.with_arguments(a);
    }
    Ok(session.call_tool(params).await?)
}

/// A tool's result as the text a model reads: its text blocks joined, other blocks as JSON.
pub fn result_text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .map(|b| match b {
            ContentBlock::Text(t) => t.text.clone(),
            other => serde_json::to_string(other).unwrap_or_default(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `tool` message that answers `call` with `result`.
pub fn tool_message(call: &ToolCall, result: &CallToolResult) -> ChatMessage {
    let mut m = ChatMessage::text("tool", result_text(result));
    m.tool_call_id = call.id.clone();
    m
}
