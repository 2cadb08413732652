//! What an OpenAI-compatible mock model answers, by its name: text; a call of the request's
//! first tool (`*tool*`); reasoning before the answer (`*reasoning*`); or a coding agent's
//! turn (`*agent*`): a call of the request's `Read` tool on the `.txt` path the user named,
//! then, once the tool result is in the conversation, text quoting it.

use serde_json::{json, Value};

pub const CONTENT: &str = "Hello from mock";
pub const TOOL_ARGS: &str = r#"{"location":"Paris"}"#;

/// The assistant turn a chat request gets.
pub struct Reply {
    /// The tool called (its name), with these arguments.
    pub tool: Option<String>,
    pub args: String,
    pub text: String,
    pub reasoning: Option<String>,
}

impl Reply {
    pub fn of(model: &str, req: &Value) -> Reply {
        let mut r = Reply {
            tool: None,
            args: TOOL_ARGS.to_string(),
            text: CONTENT.to_string(),
            reasoning: model
                .contains("reasoning")
                .then(|| "Let me think.".to_string()),
        };
        if model.contains("agent") {
            agent_turn(req, &mut r);
        } else if model.contains("tool") {
            r.tool = req["tools"][0]["function"]["name"]
                .as_str()
                .map(str::to_string);
        }
        r
    }
}

fn texts(content: &Value) -> Vec<&str> {
    match content {
        Value::String(s) => vec![s.as_str()],
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => Vec::new(),
    }
}

fn agent_turn(req: &Value, r: &mut Reply) {
    let messages = req["messages"].as_array().cloned().unwrap_or_default();
    if let Some(result) = messages.iter().rev().find(|m| m["role"] == "tool") {
        r.text = format!("The file says: {}", texts(&result["content"]).join(""));
        return;
    }
    let has_read = req["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["function"]["name"] == "Read");
    let path = messages
        .iter()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| texts(&m["content"]))
        .flat_map(str::split_whitespace)
        .map(|w| w.trim_matches(|c: char| "\"'`.,:;()".contains(c)))
        .find(|w| w.starts_with('/') && w.ends_with(".txt"));
    if let (true, Some(p)) = (has_read, path) {
        r.tool = Some("Read".into());
        r.args = json!({ "file_path": p }).to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_reads_then_answers() {
        let tools = json!([{"type": "function", "function": {"name": "Bash"}},
                           {"type": "function", "function": {"name": "Read"}}]);
        let first = json!({"tools": tools, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Read the file /tmp/x/notes.txt."}]}]});
        let r = Reply::of("mock-agent", &first);
        assert_eq!(r.tool.as_deref(), Some("Read"));
        assert_eq!(r.args, r#"{"file_path":"/tmp/x/notes.txt"}"#);
        let second = json!({"tools": tools, "messages": [
            {"role": "user", "content": "Read the file /tmp/x/notes.txt."},
            {"role": "assistant", "content": null, "tool_calls": []},
            {"role": "tool", "tool_call_id": "c", "content": "42 apples"}]});
        let r = Reply::of("mock-agent", &second);
        assert!(r.tool.is_none());
        assert_eq!(r.text, "The file says: 42 apples");
        // Without the tool (a side request): text.
        let plain = Reply::of(
            "mock-agent",
            &json!({"messages": [{"role": "user", "content": "/a.txt"}]}),
        );
        assert!(plain.tool.is_none());
    }
}
