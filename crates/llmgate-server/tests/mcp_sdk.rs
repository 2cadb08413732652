//! The SDK's MCP helper (`llmgate::mcp`, feature `mcp`) against the real gateway's `/mcp/`:
//! an rmcp upstream over streamable HTTP behind an in-process gateway (real router, real
//! listener), reached by an rmcp client with the gateway key as `Authorization: Bearer`; the
//! tools load in OpenAI's format under the gateway's `<server>-<tool>` names and an OpenAI tool
//! call runs through the gateway on the upstream.

use std::sync::Arc;

use llmgate::mcp::{call_openai_tool, load_mcp_tools, tool_message, McpToolError};
use llmgate::{FunctionCall, MessageContent, ToolCall};
use llmgate_server::config::Config;
use llmgate_server::routes::router;
use llmgate_server::state::AppState;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientConfig, ContentBlock,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

const MASTER: &str = "sk-test-master-key-0123456789";

#[derive(Clone)]
struct Adder;

impl ServerHandler for Adder {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = json!({"type": "object",
                            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                            "required": ["a", "b"]});
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "add",
            "Adds two numbers",
            Arc::new(schema.as_object().cloned().unwrap_or_default()),
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

async fn listen(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
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
async fn the_sdk_helper_loads_and_calls_tools_through_the_gateway() {
    let upstream = StreamableHttpService::new(
        || Ok(Adder),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default().disable_allowed_hosts(),
    );
    let upstream = listen(axum::Router::new().nest_service("/mcp", upstream)).await;
    let yaml = format!(
        "mcp_servers:\n  calc:\n    url: {upstream}/mcp\ngeneral_settings:\n  master_key: {MASTER}\n"
    );
    let cfg = Config::from_yaml_str(&yaml, "test.yaml").expect("config parses");
    let gateway = listen(router(AppState::new(cfg))).await;

    // The gateway installed rustls' ring provider; the client's reqwest needs one too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let connect = |key: &str| {
        let config = StreamableHttpClientTransportConfig::with_uri(format!("{gateway}/mcp/"))
            .auth_header(key);
        let transport =
            StreamableHttpClientTransport::with_client(reqwest13::Client::new(), config);
        ClientConfig::default().serve(transport)
    };
    let client = connect(MASTER).await.expect("a session on the gateway");

    let tools = load_mcp_tools(client.peer()).await.expect("tools");
    assert_eq!(tools.len(), 1, "{tools:?}");
    let f = tools[0].function.as_ref().expect("a function tool");
    assert_eq!(tools[0].kind, "function");
    assert_eq!(f.name, "calc-add", "the gateway's <server>-<tool> name");
    assert_eq!(f.description.as_deref(), Some("Adds two numbers"));
    assert_eq!(
        f.parameters.as_ref().unwrap()["required"],
        json!(["a", "b"]),
        "the schema passes unchanged"
    );

    let c = call("calc-add", r#"{"a": 2, "b": 40}"#);
    let result = call_openai_tool(client.peer(), &c).await.expect("call");
    assert_ne!(result.is_error, Some(true));
    let msg = tool_message(&c, &result);
    assert_eq!(msg.role, "tool");
    assert_eq!(msg.tool_call_id.as_deref(), Some("call_1"));
    assert!(matches!(msg.content, Some(MessageContent::Text(ref t)) if t == "42"));

    // The upstream's failed result comes back as a result; a tool that is not there is the
    // session's error.
    let failed = call_openai_tool(client.peer(), &call("calc-add", "{}"))
        .await
        .expect("call");
    assert_eq!(failed.is_error, Some(true));
    assert!(matches!(
        call_openai_tool(client.peer(), &call("calc-nope", "{}")).await,
        Err(McpToolError::Session(_))
    ));
    client.cancel().await.ok();

    // A bad key opens no session.
    assert!(connect("sk-wrong").await.is_err());
}
