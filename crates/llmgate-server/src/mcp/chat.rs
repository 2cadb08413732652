//! MCP tools in LLM calls, as LiteLLM takes them: a `tools` entry `{"type": "mcp",
//! "server_url": "litellm_proxy/mcp/<server>" (or `litellm_proxy`: every server the key may
//! use), "allowed_tools": [...], "require_approval": "never"}` is replaced by the function tools
//! of its servers (`<server>-<tool>`, schemas unchanged) in the request's own format (chat
//! completions, the Responses API, Anthropic's Messages API: a [`Dialect`]). When an entry says
//! `require_approval: never` (LiteLLM's `_should_auto_execute_tools`: any entry), the tool
//! calls the model makes are run here and their results fed back
//! (`routes/endpoint/mcp_loop.rs` drives the turns); otherwise they are the client's to run, as
//! the provider's API returns them.

use std::collections::{HashMap, HashSet};

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
    /// Per offered name: its entry's `server_label`, and whether a call needs the client's
    /// approval (the Responses API's per-entry `require_approval`).
    tools: HashMap<String, (String, bool)>,
    /// The Responses API's `mcp_list_tools` item of each entry.
    pub listed: Vec<Value>,
}

impl Plan {
    /// The entry's label of an offered tool.
    pub fn label(&self, name: &str) -> String {
        self.tools
            .get(name)
            .map(|t| t.0.clone())
            .unwrap_or_default()
    }

    /// Whether the Responses API must ask the client before running `name`.
    pub fn needs_approval(&self, name: &str) -> bool {
        self.tools.get(name).is_none_or(|t| t.1)
    }

    pub fn offers(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// OpenAI's `require_approval`: `"never"`, `"always"` (also the default), or
/// `{"never": {"tool_names": [...]}, "always": {"tool_names": [...]}}` (bare or `<server>-<tool>`
/// names).
fn approval_needed(policy: &Value, bare: &str, full: &str) -> bool {
    let named = |v: &Value| {
        v["tool_names"]
            .as_array()
            .is_some_and(|a| a.iter().any(|n| n == bare || n == full))
    };
    match policy {
        Value::String(s) => s != "never",
        Value::Object(m) => {
            if named(&policy["always"]) {
                true
            } else if m.contains_key("never") {
                !named(&policy["never"])
            } else {
                !m.contains_key("always")
            }
        }
        _ => true,
    }
}

/// A new output item id (`mcpl_`, `mcp_`, `mcpr_` as OpenAI's).
pub fn item_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
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
    let mut offered = HashMap::new();
    let mut listed_items = Vec::new();
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
            if let Some(e) = errors.first() {
                return Err(GatewayError::Unavailable(e.clone()));
            }
        }
        let label = t["server_label"]
            .as_str()
            .map(str::to_string)
            .or_else(|| only.clone())
            .unwrap_or_else(|| PREFIX.to_string());
        let mut list_tools = Vec::new();
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
                let approval = approval_needed(&t["require_approval"], bare, &tool.name);
                offered.insert(tool.name.to_string(), (label.clone(), approval));
                list_tools.push(json!({"name": tool.name, "description": tool.description,
                    "input_schema": tool.input_schema, "annotations": tool.annotations}));
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
        listed_items.push(json!({"id": item_id("mcpl"), "type": "mcp_list_tools",
            "server_label": label, "tools": list_tools,
            "error": (!errors.is_empty()).then(|| errors.join("; "))}));
    }
    *tools = out;
    Ok(Some(Plan {
        dialect,
        names,
        auto,
        scope,
        tools: offered,
        listed: listed_items,
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
        let o = run_one(gw, state, ctx, headers, plan, &c, route).await;
        let text = match (&o.error, o.output) {
            (Some(e), None) => format!("Error: {}", e["message"].as_str().unwrap_or_default()),
            (_, Some(t)) => t,
            (None, None) => String::new(),
        };
        out.push((c.id, text));
    }
    out
}

/// What one call came to: the tool's text (also of a result the tool marked an error), and
/// the error as the Responses API's `mcp_call.error` gives it.
pub struct Outcome {
    pub output: Option<String>,
    pub error: Option<Value>,
}

pub async fn run_one(
    gw: &McpGateway,
    state: &AppState,
    ctx: &AuthContext,
    headers: &HeaderMap,
    plan: &Plan,
    c: &Call,
    route: &'static str,
) -> Outcome {
    let protocol = |code: i32, message: String| Outcome {
        output: None,
        error: Some(json!({"type": "mcp_protocol_error", "code": code, "message": message})),
    };
    let args = match serde_json::from_str::<Value>(&c.arguments) {
        Ok(Value::Object(m)) => Some(m),
        Ok(Value::Null) | Err(_) if c.arguments.trim().is_empty() => None,
        Ok(Value::Null) => None,
        _ => return protocol(-32602, "the tool arguments are not a JSON object".into()),
    };
    match gw
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
            let error = (res.is_error == Some(true)).then(|| {
                json!({"type": "mcp_tool_execution_error",
                       "content": serde_json::to_value(&res.content).unwrap_or_default()})
            });
            Outcome {
                output: Some(text.join("\n")),
                error,
            }
        }
        Err(e) => {
            let code = match e {
                super::gateway::CallError::UnknownTool(_)
                | super::gateway::CallError::Forbidden(_) => -32602,
                super::gateway::CallError::Budget(_) => -32600,
                super::gateway::CallError::Upstream(_) => -32603,
            };
            protocol(code, e.to_string())
        }
    }
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

/// Whether an item is one of the Responses API's MCP items.
fn is_mcp_item(item: &Value) -> bool {
    item["type"].as_str().is_some_and(|t| t.starts_with("mcp_"))
}

/// The Responses API's MCP items of a request's input (or a stored conversation) as a model
/// reads them: an `mcp_call` is the function call and its output; `mcp_list_tools` and
/// approval requests go (an approved request's call is the `mcp_call` that follows it); a
/// declined request is the call and an output saying it was declined. `before` holds the
/// earlier items (the stored conversation) where an approval's request may be.
pub fn model_items(before: &[Value], items: Vec<Value>) -> Vec<Value> {
    if !items.iter().any(is_mcp_item) {
        return items;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item["type"].as_str() {
            Some("mcp_list_tools") | Some("mcp_approval_request") => {}
            Some("mcp_approval_response") => {
                if item["approve"] == true {
                    continue;
                }
                let rid = &item["approval_request_id"];
                let request = before
                    .iter()
                    .chain(&items[..i])
                    .find(|r| r["type"] == "mcp_approval_request" && r["id"] == *rid);
                if let Some(r) = request {
                    out.push(json!({"type": "function_call", "call_id": rid,
                                    "name": r["name"], "arguments": r["arguments"]}));
                    out.push(json!({"type": "function_call_output", "call_id": rid,
                                    "output": "The user declined to run this tool call."}));
                }
            }
            Some("mcp_call") => {
                let output = match (&item["output"], &item["error"]) {
                    (Value::String(s), _) => s.clone(),
                    (_, Value::Null) => String::new(),
                    (_, e) => format!(
                        "Error: {}",
                        e["message"]
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| e.to_string())
                    ),
                };
                out.push(json!({"type": "function_call", "call_id": item["id"],
                                "name": item["name"], "arguments": item["arguments"]}));
                out.push(
                    json!({"type": "function_call_output", "call_id": item["id"],
                                "output": output}),
                );
            }
            _ => out.push(item.clone()),
        }
    }
    out
}

fn tool_message(id: &str, content: &str) -> Value {
    json!({"role": "tool", "tool_call_id": id, "content": content})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcp_items_become_function_calls_for_the_model() {
        let before = vec![
            json!({"type": "mcp_list_tools", "server_label": "s", "tools": []}),
            json!({"type": "mcp_approval_request", "id": "mcpr_1", "name": "s-add",
                   "arguments": "{}", "server_label": "s"}),
            json!({"type": "mcp_approval_request", "id": "mcpr_2", "name": "s-rm",
                   "arguments": "{\"x\":1}", "server_label": "s"}),
        ];
        let items = vec![
            json!({"type": "mcp_approval_response", "approve": true, "approval_request_id": "mcpr_1"}),
            json!({"type": "mcp_call", "id": "mcp_9", "name": "s-add", "arguments": "{}",
                   "output": "2", "approval_request_id": "mcpr_1"}),
            json!({"type": "mcp_approval_response", "approve": false, "approval_request_id": "mcpr_2"}),
            json!({"role": "user", "content": "go on"}),
        ];
        assert!(model_items(&[], before.clone()).is_empty());
        let out = model_items(&before, items);
        let kinds: Vec<&str> = out
            .iter()
            .map(|i| i["type"].as_str().unwrap_or("msg"))
            .collect();
        assert_eq!(
            kinds,
            [
                "function_call",
                "function_call_output",
                "function_call",
                "function_call_output",
                "msg"
            ]
        );
        assert_eq!(out[0]["call_id"], "mcp_9");
        assert_eq!(out[1]["output"], "2");
        assert_eq!(out[2]["name"], "s-rm");
        assert!(out[3]["output"].as_str().unwrap().contains("declined"));
        // Without MCP items the input is left as it is.
        let plain = vec![json!({"role": "user", "content": "hi"})];
        assert_eq!(model_items(&[], plain.clone()), plain);
    }

    #[test]
    fn require_approval_forms() {
        assert!(!approval_needed(&json!("never"), "add", "s-add"));
        assert!(approval_needed(&json!("always"), "add", "s-add"));
        assert!(approval_needed(&Value::Null, "add", "s-add"));
        let never = json!({"never": {"tool_names": ["add"]}});
        assert!(!approval_needed(&never, "add", "s-add"));
        assert!(approval_needed(&never, "rm", "s-rm"));
        let always = json!({"always": {"tool_names": ["s-rm"]}});
        assert!(approval_needed(&always, "rm", "s-rm"));
        assert!(!approval_needed(&always, "add", "s-add"));
    }

    #[test]
    fn only_bodies_naming_mcp_are_looked_at() {
        assert!(mentions_mcp(br#"{"tools":[{"type": "mcp"}]}"#));
        assert!(!mentions_mcp(br#"{"model":"mcp-model","messages":[]}"#));
    }
}
