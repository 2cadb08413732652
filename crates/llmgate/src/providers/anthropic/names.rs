//! Tool names Anthropic accepts (`^[a-zA-Z0-9_-]{1,128}$`): a name with other characters
//! (`actions/download-logs`, `mcp.search` from MCP or OpenAPI tools) is renamed for the request
//! and the answer's calls get their original names back, as LiteLLM does. The renaming is
//! per request and never lossy: two names that clean to the same one get `_2`, `_3`, ...

use std::collections::HashSet;

use llmgate_types::ChatCompletionRequest;
use serde_json::Value;

const MAX_LEN: usize = 128;

/// original → sent, only for the names that had to change.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ToolNames(Vec<(String, String)>);

fn clean(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_LEN)
        .collect()
}

impl ToolNames {
    /// The renaming for a request's function tools (hosted tools keep their reserved names).
    pub fn of(req: &ChatCompletionRequest) -> ToolNames {
        let originals: Vec<&str> = req
            .tools
            .iter()
            .flatten()
            .filter(|t| {
                (t.kind == "function" || t.kind == "custom")
                    && !t.extra.contains_key("input_schema")
            })
            .filter_map(|t| t.function.as_ref().map(|f| f.name.as_str()))
            .filter(|n| !n.is_empty())
            .collect();
        // Names already valid keep their slot whatever the order.
        let mut used: HashSet<String> = originals
            .iter()
            .filter(|n| clean(n) == **n)
            .map(|n| n.to_string())
            .collect();
        let mut map: Vec<(String, String)> = Vec::new();
        for original in originals {
            let candidate = clean(original);
            if candidate == original || map.iter().any(|(o, _)| o == original) {
                continue;
            }
            let mut unique = candidate.clone();
            let mut n = 1;
            while used.contains(&unique) {
                n += 1;
                let suffix = format!("_{n}");
                let head: String = candidate.chars().take(MAX_LEN - suffix.len()).collect();
                unique = format!("{head}{suffix}");
            }
            used.insert(unique.clone());
            map.push((original.to_string(), unique));
        }
        ToolNames(map)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn sent(&self, original: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(o, _)| o == original)
            .map(|(_, s)| s.as_str())
    }

    /// The original of a name Anthropic answered with.
    pub fn original(&self, sent: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, s)| s == sent)
            .map(|(o, _)| o.as_str())
    }

    /// Renames the body's custom tools, a named tool choice and the history's tool calls.
    pub fn apply(&self, body: &mut Value) {
        if self.is_empty() {
            return;
        }
        let rename = |v: &mut Value| {
            if let Some(s) = v.as_str().and_then(|n| self.sent(n)) {
                *v = Value::String(s.to_string());
            }
        };
        for t in body["tools"].as_array_mut().into_iter().flatten() {
            if t["type"] == "custom" {
                rename(&mut t["name"]);
            }
        }
        if body["tool_choice"]["type"] == "tool" {
            rename(&mut body["tool_choice"]["name"]);
        }
        for m in body["messages"].as_array_mut().into_iter().flatten() {
            for b in m["content"].as_array_mut().into_iter().flatten() {
                if b["type"] == "tool_use" {
                    rename(&mut b["name"]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(list: &[&str]) -> ToolNames {
        let tools: Vec<Value> = list
            .iter()
            .map(|n| json!({"type": "function", "function": {"name": n}}))
            .collect();
        let req: ChatCompletionRequest =
            serde_json::from_value(json!({"model": "m", "messages": [], "tools": tools})).unwrap();
        ToolNames::of(&req)
    }

    #[test]
    fn invalid_names_are_renamed_without_collisions() {
        let n = names(&["foo/bar", "foo_bar", "a.b", "a/b", "ok-name"]);
        assert_eq!(
            n.0,
            [
                ("foo/bar".to_string(), "foo_bar_2".to_string()),
                ("a.b".to_string(), "a_b".to_string()),
                ("a/b".to_string(), "a_b_2".to_string()),
            ]
        );
        assert_eq!(n.original("foo_bar_2"), Some("foo/bar"));
        assert_eq!(n.original("foo_bar"), None);
        assert!(names(&["valid_name"]).is_empty());
    }
}
