//! Ollama's `/api/chat` and `/api/generate` answers → OpenAI chat completions.

use llmgate_types::{ChatCompletionResponse, Usage};
use serde_json::{json, Value};

/// `<think>...</think>` at the start of a text: (reasoning, rest), as LiteLLM splits it.
pub fn split_think(text: &str) -> (Option<String>, String) {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix("<think>") {
        if let Some((r, c)) = rest.split_once("</think>") {
            return (Some(r.trim().to_string()), c.trim_start().to_string());
        }
    }
    (None, text.to_string())
}

/// An OpenAI tool call from Ollama's (`arguments` an object).
pub fn tool_call(c: &Value) -> Value {
    let args = match &c["function"]["arguments"] {
        Value::String(s) => s.clone(),
        Value::Null => "{}".to_string(),
        // As LiteLLM's `json.dumps`, byte for byte.
        v => super::pyjson::dumps(v),
    };
    let id = c["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("call_{}", uuid::Uuid::new_v4()));
    json!({"id": id, "type": "function", "function": {"name": c["function"]["name"].as_str().unwrap_or_default(), "arguments": args}})
}

/// `stop`/`length` as Ollama's `done_reason` says (`load`, `unload` and the like: `stop`).
pub fn finish_reason(v: &Value) -> &'static str {
    match v["done_reason"].as_str() {
        Some("length") => "length",
        _ => "stop",
    }
}

pub fn usage(v: &Value) -> Usage {
    Usage::new(
        v["prompt_eval_count"].as_u64().unwrap_or(0),
        v["eval_count"].as_u64().unwrap_or(0),
    )
}

fn completion(
    model: &str,
    created: u64,
    message: Value,
    finish: &str,
    v: &Value,
) -> ChatCompletionResponse {
    serde_json::from_value(json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage(v),
    }))
    .unwrap_or_default()
}

/// An `/api/chat` answer; the model named `ollama_chat/<model>` as LiteLLM names it.
pub fn chat(v: &Value, model: &str, created: u64) -> ChatCompletionResponse {
    let m = &v["message"];
    let (mut reasoning, content) = match m["content"].as_str() {
        Some(c) => {
            let (r, c) = split_think(c);
            (r, Some(c))
        }
        None => (None, None),
    };
    if let Some(t) = m["thinking"].as_str() {
        reasoning = Some(t.to_string());
    }
    let calls: Vec<Value> = m["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(tool_call)
        .collect();
    let mut message = json!({"role": "assistant", "content": content});
    if let Some(r) = reasoning {
        message["reasoning_content"] = json!(r);
    }
    let finish = if calls.is_empty() {
        finish_reason(v)
    } else {
        message["tool_calls"] = json!(calls);
        "tool_calls"
    };
    completion(&format!("ollama_chat/{model}"), created, message, finish, v)
}

/// Text in a ```json fence, unfenced.
fn unfenced(text: &str) -> &str {
    let t = text.trim();
    let Some(rest) = t.strip_prefix("```") else {
        return t;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

/// An `/api/generate` answer. In JSON mode (`format: "json"`) an object with `name` and
/// `arguments` is a tool call, as LiteLLM reads it.
pub fn generate(v: &Value, model: &str, created: u64, json_mode: bool) -> ChatCompletionResponse {
    let text = v["response"].as_str().unwrap_or_default();
    let (mut reasoning, content) = match v["thinking"].as_str().filter(|t| !t.is_empty()) {
        Some(t) => (Some(t.to_string()), text.to_string()),
        None => split_think(text),
    };
    if reasoning.as_deref() == Some("") {
        reasoning = None;
    }
    let mut message = json!({"role": "assistant", "content": content});
    let mut finish = finish_reason(v);
    if json_mode {
        if let Ok(parsed) = serde_json::from_str::<Value>(unfenced(text)) {
            if parsed.get("name").is_some() && parsed.get("arguments").is_some() {
                message["content"] = Value::Null;
                message["tool_calls"] = json!([tool_call(&json!({"function": parsed}))]);
                finish = "tool_calls";
            } else {
                // The JSON without a code fence around it (LiteLLM re-serializes it).
                message["content"] = json!(unfenced(text));
            }
        }
    }
    if let Some(r) = reasoning {
        message["reasoning_content"] = json!(r);
    }
    completion(&format!("ollama/{model}"), created, message, finish, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_answers_carry_tools_thinking_and_usage() {
        let v = json!({"message": {"role": "assistant", "content": "", "thinking": "hmm",
            "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},
            "done": true, "done_reason": "stop", "prompt_eval_count": 7, "eval_count": 2});
        let r = serde_json::to_value(chat(&v, "llama3.1", 1)).unwrap();
        assert_eq!(r["model"], "ollama_chat/llama3.1");
        assert_eq!(r["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            r["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"a\": 1}"
        );
        assert_eq!(r["choices"][0]["message"]["reasoning_content"], "hmm");
        assert_eq!(r["usage"]["total_tokens"], 9);
    }

    #[test]
    fn generate_splits_think_tags_and_reads_json_tool_calls() {
        let v = json!({"response": "<think>a</think>b", "done": true, "done_reason": "length"});
        let r = serde_json::to_value(generate(&v, "m", 1, false)).unwrap();
        assert_eq!(r["choices"][0]["message"]["content"], "b");
        assert_eq!(r["choices"][0]["message"]["reasoning_content"], "a");
        assert_eq!(r["choices"][0]["finish_reason"], "length");
        let v = json!({"response": "```json\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n```", "done": true});
        let r = serde_json::to_value(generate(&v, "m", 1, true)).unwrap();
        assert_eq!(r["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            r["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
            "f"
        );
    }
}
