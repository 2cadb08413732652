//! Messages as LiteLLM's `OpenAIGPTConfig` sends them to the OpenAI-like APIs that are not
//! rows of the compat table (watsonx's `/text/chat`, SageMaker's Messages API): a tool-call
//! turn's `content: null` left out, a `developer` turn sent as a system turn.

use llmgate_types::ChatMessage;
use serde_json::{Map, Value};

pub fn messages(messages: &[ChatMessage]) -> Value {
    let out = messages
        .iter()
        .map(|m| {
            let mut v = serde_json::to_value(m).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                if o.get("content").is_some_and(Value::is_null) {
                    o.remove("content");
                }
                if m.role == "developer" {
                    let content = o.remove("content").unwrap_or(Value::Null);
                    *o = Map::from_iter([
                        ("role".to_string(), Value::from("system")),
                        ("content".to_string(), content),
                    ]);
                }
            }
            v
        })
        .collect();
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_content_dropped_and_developer_as_system() {
        let msgs: Vec<ChatMessage> = serde_json::from_value(json!([
            {"role": "developer", "content": "Be brief.", "name": "x"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        ]))
        .unwrap();
        assert_eq!(
            messages(&msgs),
            json!([
                {"role": "system", "content": "Be brief."},
                {"role": "assistant", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            ])
        );
    }
}
