//! Codestral's fill-in-the-middle endpoint (`text-completion-codestral/`), as LiteLLM speaks it:
//! the api_base is the endpoint itself (`https://codestral.mistral.ai/v1/fim/completions`), the
//! request a completion with `suffix`, and the answer chat-shaped (`choices[].message`), turned
//! into a text completion.

use serde_json::{json, Map, Value};

use crate::{CallOptions, LlmError};

/// The completion parameters LiteLLM sends Codestral; `user` and `stream_options` are left out
/// silently, any other one is refused (or dropped with `drop_params`).
const SUPPORTED: &[&str] = &[
    "model",
    "prompt",
    "suffix",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "seed",
    "stop",
    "min_tokens",
];

pub fn body(map: &mut Map<String, Value>, opts: &CallOptions) -> Result<(), LlmError> {
    for k in ["user", "stream_options"] {
        map.shift_remove(k);
    }
    if map.get("stream") != Some(&Value::Bool(true)) {
        map.shift_remove("stream");
    }
    if map.get("n").and_then(Value::as_u64) == Some(1) {
        map.shift_remove("n");
    }
    map.retain(|_, v| !v.is_null());
    let refused: Vec<String> = map
        .keys()
        .filter(|k| !SUPPORTED.contains(&k.as_str()))
        .cloned()
        .collect();
    if !refused.is_empty() {
        if !opts.drop_params {
            let model = map.get("model").and_then(Value::as_str).unwrap_or("");
            let names: Vec<&str> = refused.iter().map(String::as_str).collect();
            return Err(
                LlmError::unsupported_params("text-completion-codestral", &names, model)
                    .with_model(model),
            );
        }
        for k in &refused {
            map.shift_remove(k);
        }
    }
    if let Some(seed) = map.shift_remove("seed") {
        map.insert("random_seed".into(), seed);
    }
    if let Some(m) = map.shift_remove("max_completion_tokens") {
        map.insert("max_tokens".into(), m);
    }
    Ok(())
}

/// Codestral's answer: each choice's message content is the completion's text.
pub fn answer(v: &mut Value) {
    for c in v
        .get_mut("choices")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let text = c["message"]["content"].clone();
        if let Some(o) = c.as_object_mut() {
            o.shift_remove("message");
            o.insert("text".into(), text);
        }
    }
    v["object"] = json!("text_completion");
}

/// A streamed chunk: each choice's delta content is the text.
pub fn chunk(v: &mut Value) {
    for c in v
        .get_mut("choices")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let text = c["delta"]["content"].as_str().unwrap_or("").to_string();
        if let Some(o) = c.as_object_mut() {
            o.shift_remove("delta");
            o.insert("text".into(), json!(text));
        }
    }
    v["object"] = json!("text_completion");
}
