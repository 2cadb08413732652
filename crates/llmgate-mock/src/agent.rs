//! What a chat answer says: the mock's text, a call of the request's first tool (`*tool*`
//! models), or an agent's turn (`*agent*` models: call a tool until a tool result is in the
//! conversation, then answer with that result), for tests that run coding agents. Given a
//! `Read` tool and a `.txt` path in the user's words (Claude Code), the agent reads that file.
//! `*reasoning*` models reason before they answer.

use axum::http::HeaderMap;
use serde_json::{json, Value};

use crate::openai::{CONTENT, TOOL_ARGS};

/// A chat answer's content: text, or one tool call (name, arguments).
pub(crate) struct Reply {
    pub text: String,
    pub tool: Option<(String, String)>,
    /// Reasoning sent before the answer (`reasoning_content`).
    pub reasoning: Option<String>,
}

impl Reply {
    pub fn text(t: &str) -> Reply {
        Reply {
            text: t.to_string(),
            tool: None,
            reasoning: None,
        }
    }
}

pub(crate) fn reply(model: &str, body: &Value, headers: &HeaderMap) -> Reply {
    let mut r = turn(model, body, headers);
    if model.contains("reasoning") {
        r.reasoning = Some("Let me think.".into());
    }
    r
}

fn texts(content: &Value) -> Vec<&str> {
    match content {
        Value::String(s) => vec![s.as_str()],
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => Vec::new(),
    }
}

/// Claude Code's turn: `Read` on the `.txt` path the user named, then the file's text quoted.
fn read_turn(body: &Value) -> Option<Reply> {
    let messages = body["messages"].as_array()?;
    let has_read = body["tools"]
        .as_array()?
        .iter()
        .any(|t| t["function"]["name"] == "Read");
    let path = messages
        .iter()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| texts(&m["content"]))
        .flat_map(str::split_whitespace)
        .map(|w| w.trim_matches(|c: char| "\"'`.,:;()".contains(c)))
        .find(|w| w.starts_with('/') && w.ends_with(".txt"))?;
    if !has_read {
        return None;
    }
    if let Some(result) = messages.iter().rev().find(|m| m["role"] == "tool") {
        return Some(Reply::text(&format!(
            "The file says: {}",
            texts(&result["content"]).join("")
        )));
    }
    Some(Reply {
        text: String::new(),
        tool: Some(("Read".into(), json!({ "file_path": path }).to_string())),
        reasoning: None,
    })
}

fn turn(model: &str, body: &Value, headers: &HeaderMap) -> Reply {
    if model.contains("agent") && headers.get("x-mock-tool").is_none() {
        if let Some(r) = read_turn(body) {
            return r;
        }
    }
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
                reasoning: None,
            };
        }
        return Reply::text(CONTENT);
    }
    if model.contains("tool") {
        if let Some(name) = tools.first().and_then(|t| name_of(t)) {
            return Reply {
                text: String::new(),
                tool: Some((name, TOOL_ARGS.to_string())),
                reasoning: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_with_read_reads_the_named_file_then_answers() {
        let h = HeaderMap::new();
        let tools = json!([{"type": "function", "function": {"name": "Agent"}},
                           {"type": "function", "function": {"name": "Read"}}]);
        let first = json!({"tools": tools, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Read the file /tmp/x/notes.txt."}]}]});
        let r = reply("mock-agent", &first, &h);
        let (name, args) = r.tool.unwrap();
        assert_eq!(
            (name.as_str(), args.as_str()),
            ("Read", r#"{"file_path":"/tmp/x/notes.txt"}"#)
        );
        let second = json!({"tools": tools, "messages": [
            {"role": "user", "content": "Read the file /tmp/x/notes.txt."},
            {"role": "assistant", "content": null, "tool_calls": []},
            {"role": "tool", "tool_call_id": "c", "content": "42 apples"}]});
        let r = reply("mock-agent", &second, &h);
        assert!(r.tool.is_none());
        assert_eq!(r.text, "The file says: 42 apples");
        assert!(reply("mock-reasoning", &first, &h).reasoning.is_some());
    }
}
