//! What a chat answer says: the mock's text, a call of the request's first tool (`*tool*`
//! models), or an agent's turn (`*agent*` models: call a tool until a tool result is in the
//! conversation, then answer with that result), for tests that run coding agents.

use axum::http::HeaderMap;
use serde_json::{json, Value};

use crate::openai::{CONTENT, TOOL_ARGS};

/// A chat answer's content: text, or one tool call (name, arguments).
pub(crate) struct Reply {
    pub text: String,
    pub tool: Option<(String, String)>,
}

impl Reply {
    pub fn text(t: &str) -> Reply {
        Reply {
            text: t.to_string(),
            tool: None,
        }
    }
}

pub(crate) fn reply(model: &str, body: &Value, headers: &HeaderMap) -> Reply {
    let tools: Vec<&Value> = body["tools"].as_array().into_iter().flatten().collect();
    let name_of = |t: &Value| t["function"]["name"].as_str().map(str::to_string);
    if model.contains("agent") {
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        if let Some(last) = messages.last().filter(|m| m["role"] == "tool") {
            let out = match &last["content"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            return Reply::text(&format!("Tool result: {}", out.trim()));
        }
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let wanted = header("x-mock-tool");
        // The named tool, else a shell-like one, else the first.
        let tool = tools
            .iter()
            .find(|t| wanted.is_some() && name_of(t).as_deref() == wanted)
            .or_else(|| {
                tools
                    .iter()
                    .find(|t| name_of(t).is_some_and(|n| n.contains("shell") || n.contains("exec")))
            })
            .or(tools.first());
        if let Some(t) = tool.and_then(|t| Some((name_of(t)?, *t))) {
            let args = header("x-mock-tool-args")
                .map(str::to_string)
                .unwrap_or_else(|| arguments_for(&t.1["function"]["parameters"]).to_string());
            return Reply {
                text: String::new(),
                tool: Some((t.0, args)),
            };
        }
        return Reply::text(CONTENT);
    }
    if model.contains("tool") {
        if let Some(name) = tools.first().and_then(|t| name_of(t)) {
            return Reply {
                text: String::new(),
                tool: Some((name, TOOL_ARGS.to_string())),
            };
        }
    }
    Reply::text(CONTENT)
}

/// Arguments that fit a tool's schema: a command prints `mock-tool-ran`, other required
/// strings are "x".
fn arguments_for(schema: &Value) -> Value {
    let mut args = serde_json::Map::new();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        let command = matches!(name.as_str(), "command" | "cmd");
        if !command && !required.contains(&name.as_str()) {
            continue;
        }
        let v = match (prop["type"].as_str(), command) {
            (Some("array"), _) => json!(["echo", "mock-tool-ran"]),
            (_, true) => json!("echo mock-tool-ran"),
            (Some("integer") | Some("number"), _) => json!(1),
            (Some("boolean"), _) => json!(false),
            _ => json!("x"),
        };
        args.insert(name.clone(), v);
    }
    Value::Object(args)
}
