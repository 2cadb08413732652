//! The MCP tools helper against an in-process rmcp server (over a duplex pipe): tools listed
//! in OpenAI's format, an OpenAI tool call run on the session, its result as a tool message.

use std::sync::Arc;

use llmgate::mcp::{call_openai_tool, load_mcp_tools, tool_message, McpToolError};
use llmgate::{FunctionCall, MessageContent, ToolCall};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

#[derive(Clone)]
struct Adder;

fn schema() -> Arc<serde_json::Map<String, Value>> {
    let v = json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                   "required": ["a", "b"]});
    Arc::new(v.as_object().cloned().unwrap_or_default())
}

impl ServerHandler for Adder {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "add",
            "Adds two numbers",
            schema(),
        )]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let n = |k: &str| args.get(k).and_then(Value::as_i64);
        let result = match (request.name.as_ref(), n("a"), n("b")) {
            ("add", Some(a), Some(b)) => {
                CallToolResult::success(vec![ContentBlock::text((a + b).to_string())])
            }
            ("add", ..) => CallToolResult::error(vec![ContentBlock::text("a and b are required")]),
            (other, ..) => return Err(ErrorData::invalid_params(format!("no tool {other}"), None)),
        };
        Ok(result.into())
    }
}

fn call(name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: Some("call_1".into()),
        kind: "function".into(),
        function: FunctionCall {
            name: name.into(),
            arguments: arguments.into(),
        },
        extra: Default::default(),
    }
}

#[tokio::test]
async fn tools_load_in_openai_format_and_calls_run() {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move { Adder.serve(a).await.map(|s| s.waiting()) });
    let client = ().serve(b).await.expect("client session");

    let tools = load_mcp_tools(client.peer()).await.expect("tools");
    assert_eq!(tools.len(), 1);
    let f = tools[0].function.as_ref().expect("a function tool");
    assert_eq!(tools[0].kind, "function");
    assert_eq!(f.name, "add");
    assert_eq!(f.description.as_deref(), Some("Adds two numbers"));
    assert_eq!(
        f.parameters.as_ref().unwrap()["properties"]["a"]["type"],
        "integer"
    );
    assert_eq!(
        serde_json::to_value(&tools[0]).unwrap()["function"]["parameters"]["required"],
        json!(["a", "b"])
    );

    let c = call("add", r#"{"a": 2, "b": 40}"#);
    let result = call_openai_tool(client.peer(), &c).await.expect("call");
    assert_ne!(result.is_error, Some(true));
    let msg = tool_message(&c, &result);
    assert_eq!(msg.role, "tool");
    assert_eq!(msg.tool_call_id.as_deref(), Some("call_1"));
    assert!(matches!(msg.content, Some(MessageContent::Text(ref t)) if t == "42"));

    // A tool that runs and fails is a result; bad arguments and unknown tools are errors.
    let failed = call_openai_tool(client.peer(), &call("add", ""))
        .await
        .expect("call");
    assert_eq!(failed.is_error, Some(true));
    assert!(matches!(
        call_openai_tool(client.peer(), &call("add", "[1]")).await,
        Err(McpToolError::Arguments(_))
    ));
    assert!(matches!(
        call_openai_tool(client.peer(), &call("nope", "{}")).await,
        Err(McpToolError::Session(_))
    ));
    client.cancel().await.ok();
    server.abort();
}
