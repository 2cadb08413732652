//! MCP tools in LLM calls, as LiteLLM takes them: a `tools` entry `{"type": "mcp",
//! "server_url": "litellm_proxy/mcp/<server>" (or `litellm_proxy`: every server the key may
//! use), "allowed_tools": [...], "require_approval": "never"}` is replaced by the function tools
//! of its servers (`<server>-<tool>`, schemas unchanged) in the request's own format (chat
//! completions, the Responses API, Anthropic's Messages API: a [`Dialect`]). When an entry says
//! `require_approval: never` (LiteLLM's `_should_auto_execute_tools`: any entry), the tool
//! calls the model makes are run here and their results fed back
//! (`routes/endpoint/mcp_loop.rs` drives the turns); otherwise they are the client's to run, as
//! the provider's API returns them.

use std::collections::HashSet;

use axum::http::HeaderMap;
use serde_json::{json, Value};

use super::gateway::{McpGateway, Scope};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

/// The API a request speaks: where its tools, tool calls and tool results go.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dialect {
    Chat,
    Responses,
    Messages,
}

/// What the request's MCP entries became.
pub struct Plan {
    pub dialect: Dialect,
    /// The function names offered for MCP tools.
    names: HashSet<String>,
    /// An entry said `require_approval: never`: the gateway runs the calls.
    pub auto: bool,
    scope: Scope,
}

/// One tool call the model made to an offered MCP tool.
pub struct Call {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// Whether the body may hold an MCP tool entry (a byte scan, made only when MCP is on).
pub fn mentions_mcp(body: &[u8]) -> bool {
    body.windows(5).any(|w| w == b"\"mcp\"")
}

const PREFIX: &str = "litellm_proxy";

/// Replaces the body's MCP tool entries with function tools; None when it has none.
pub async fn expand(
    gw: &McpGateway,
    state: &AppState,
    ctx: &AuthContext,
    headers: &HeaderMap,
    body: &mut Value,
    dialect: Dialect,
) -> Result<Option<Plan>, GatewayError> {
    let Some(tools) = body.get_mut("tools").and_then(Value::as_array_mut) else {
        return Ok(None);
    };
    if !tools.iter().any(|t| t["type"] == "mcp") {
        return Ok(None);
    }
    let scope = gw.scope(state, ctx, None, headers).await?;
    let mut out = Vec::new();
    let mut names = HashSet::new();
    let mut auto = false;
    for t in std::mem::take(tools) {
        if t["type"] != "mcp" {
            out.push(t);
            continue;
        }
        auto |= t["require_approval"] == "never";
        let url = t["server_url"].as_str().unwrap_or_default();
        let only = match url.strip_prefix(PREFIX) {
            Some("") | Some("/mcp") | Some("/mcp/") => None,
            Some(rest) => match rest.strip_prefix("/mcp/") {
                Some(s) => Some(s.trim_end_matches('/').to_string()),
                None => return Err(bad_url(url)),
            },
            None => return Err(bad_url(url)),
        };
        // Checks the server exists and the key may use it (404 / 403 as for `/mcp/{server}`).
        let entry_scope = gw.scope(state, ctx, only.as_deref(), headers).await?;
        let (listed, errors) = gw.list_tools(&entry_scope, headers, true).await;
        if listed.is_empty() {
            if let Some(e) = errors.into_iter().next() {
                return Err(GatewayError::Unavailable(e));
            }
        }
        let allowed: Option<Vec<&str>> = t["allowed_tools"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect());
        for (u, tool) in listed {
            let bare = tool
                .name
                .strip_prefix(&u.spec.prefix())
                .unwrap_or(&tool.name);
            if allowed
                .as_ref()
                .is_some_and(|a| !a.iter().any(|n| *n == bare || *n == tool.name))
            {
                continue;
            }
            if names.insert(tool.name.to_string()) {
                let description = tool.description.unwrap_or_default();
                out.push(match dialect {
                    Dialect::Chat => json!({"type": "function", "function": {
                        "name": tool.name, "description": description,
                        "parameters": tool.input_schema}}),
                    Dialect::Responses => json!({"type": "function", "name": tool.name,
                        "description": description, "parameters": tool.input_schema}),
                    Dialect::Messages => json!({"name": tool.name, "description": description,
                        "input_schema": tool.input_schema}),
                });
            }
        }
    }
    *tools = out;
    Ok(Some(Plan {
        dialect,
        names,
        auto,
        scope,
    }))
}

fn bad_url(url: &str) -> GatewayError {
    GatewayError::BadRequest(format!(
        "MCP tool server_url `{url}`: only the gateway's own servers are supported (`litellm_proxy` or `litellm_proxy/mcp/<server>`)"
    ))
}

/// The answer's tool calls when every one is to an offered MCP tool (None otherwise: the
/// answer goes to the client as it is).
pub fn calls(plan: &Plan, answer: &Value) -> Option<Vec<Call>> {
    let raw: Vec<(String, String, String)> = match plan.dialect {
        Dialect::Chat => answer["choices"][0]["message"]["tool_calls"]
            .as_array()?
            .iter()
            .map(|c| {
                Some((
                    c["id"].as_str().unwrap_or_default().to_string(),
                    c["function"]["name"].as_str()?.to_string(),
                    c["function"]["arguments"]
                        .as_str()
                        .unwrap_or("{}")
                        .to_string(),
                ))
            })
            .collect::<Option<_>>()?,
        Dialect::Responses => answer["output"]
            .as_array()?
            .iter()
            .filter(|i| i["type"] == "function_call")
            .map(|i| {
                Some((
                    i["call_id"].as_str().unwrap_or_default().to_string(),
                    i["name"].as_str()?.to_string(),
                    i["arguments"].as_str().unwrap_or("{}").to_string(),
                ))
            })
            .collect::<Option<_>>()?,
        Dialect::Messages => {
            if answer["stop_reason"] != "tool_use" {
                return None;
            }
            answer["content"]
                .as_array()?
                .iter()
                .filter(|b| b["type"] == "tool_use")
                .map(|b| {
                    Some((
                        b["id"].as_str().unwrap_or_default().to_string(),
                        b["name"].as_str()?.to_string(),
                        b["input"].to_string(),
                    ))
                })
                .collect::<Option<_>>()?
        }
    };
    if raw.is_empty() {
        return None;
    }
    raw.into_iter()
        .map(|(id, name, arguments)| {
            plan.names.contains(&name).then_some(Call {
                id,
                name,
                arguments,
            })
        })
        .collect()
}

/// Runs the calls through the gateway (permissions, logging) and returns each call's id and
/// result text; a failed call answers with its error, for the model to read.
pub async fn run(
    gw: &McpGateway,
    state: &AppState,
    ctx: &AuthContext,
    headers: &HeaderMap,
    plan: &Plan,
    calls: Vec<Call>,
    route: &'static str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in calls {
        let args = match serde_json::from_str::<Value>(&c.arguments) {
            Ok(Value::Object(m)) => Some(m),
            Ok(Value::Null) | Err(_) if c.arguments.trim().is_empty() => None,
            Ok(Value::Null) => None,
            _ => {
                out.push((
                    c.id,
                    "Error: the tool arguments are not a JSON object".to_string(),
                ));
                continue;
            }
        };
        let content = match gw
            .call(state, ctx, &plan.scope, headers, &c.name, None, args, route)
            .await
        {
            Ok(res) => {
                let text: Vec<String> = res
                    .content
                    .iter()
                    .map(|b| match b {
                        rmcp::model::ContentBlock::Text(t) => t.text.clone(),
                        other => serde_json::to_string(other).unwrap_or_default(),
                    })
                    .collect();
                text.join("\n")
            }
            Err(e) => format!("Error: {e}"),
        };
        out.push((c.id, content));
    }
    out
}

/// The next turn's request: the model's turn and the tools' results appended, in the
/// request's dialect.
pub fn feed(plan: &Plan, req: &mut Value, answer: &Value, results: Vec<(String, String)>) {
    match plan.dialect {
        Dialect::Chat => {
            if let Some(messages) = req["messages"].as_array_mut() {
                messages.push(answer["choices"][0]["message"].clone());
                messages.extend(results.iter().map(|(id, text)| tool_message(id, text)));
            }
        }
        Dialect::Responses => {
            let mut input = match req["input"].take() {
                Value::String(s) => vec![json!({"role": "user", "content": s})],
                Value::Array(a) => a,
                Value::Null => Vec::new(),
                other => vec![other],
            };
            for item in answer["output"].as_array().into_iter().flatten() {
                if item["type"] != "reasoning" {
                    input.push(item.clone());
                }
            }
            input.extend(results.iter().map(
                |(id, text)| json!({"type": "function_call_output", "call_id": id, "output": text}),
            ));
            req["input"] = Value::Array(input);
        }
        Dialect::Messages => {
            if let Some(messages) = req["messages"].as_array_mut() {
                messages.push(json!({"role": "assistant", "content": answer["content"]}));
                let blocks: Vec<Value> = results
                    .iter()
                    .map(|(id, text)| {
                        json!({"type": "tool_result", "tool_use_id": id,
                               "content": [{"type": "text", "text": text}]})
                    })
                    .collect();
                messages.push(json!({"role": "user", "content": blocks}));
            }
        }
    }
}

fn tool_message(id: &str, content: &str) -> Value {
    json!({"role": "tool", "tool_call_id": id, "content": content})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodies_naming_mcp_are_looked_at() {
        assert!(mentions_mcp(br#"{"tools":[{"type": "mcp"}]}"#));
        assert!(!mentions_mcp(br#"{"model":"mcp-model","messages":[]}"#));
    }
}
