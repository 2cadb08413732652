//! What an agent call counts as: the text of the message sent (prompt tokens) and of what the
//! agent answered (completion tokens), as LiteLLM's `A2ARequestUtils` counts A2A calls whose
//! agents report no usage.

use serde_json::Value;

/// Appends the text of every part under `v` (a message, a task, an event), skipping a task's
/// `history` (the client's own messages echoed back).
pub fn texts(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(parts)) = m.get("parts") {
                for p in parts {
                    if let Some(t) = p.get("text").and_then(Value::as_str) {
                        if !out.is_empty() {
                            out.push('\n');
                        }
                        out.push_str(t);
                    }
                }
            }
            for (k, child) in m {
                if k != "parts" && k != "history" {
                    texts(child, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| texts(c, out)),
        _ => {}
    }
}

/// Tokens of `text` (the tokenizer LiteLLM's `token_counter` uses for a model it does not know).
pub fn tokens(model: &str, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    llmgate::tokens::count_text(model, text) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_of_a_task_without_its_history() {
        let task = json!({"kind": "task", "history": [{"parts": [{"kind": "text", "text": "hi"}]}],
            "artifacts": [{"parts": [{"kind": "text", "text": "echo: hi"}]}],
            "status": {"state": "completed", "message": {"parts": [{"kind": "text", "text": "done"}]}}});
        let mut s = String::new();
        texts(&task, &mut s);
        assert!(s.contains("echo: hi") && s.contains("done") && !s.contains("\nhi"));
    }
}
