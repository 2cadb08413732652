//! Small dialects of OpenAI-compatible vendors, as LiteLLM speaks them (one function each).

use serde_json::{json, Map, Value};

/// The levels DeepSeek takes alongside `thinking` (LiteLLM's `SUPPORTED_REASONING_EFFORTS`).
const DEEPSEEK_EFFORTS: &[&str] = &["minimal", "low", "medium", "high", "xhigh", "max", "ultra"];

/// DeepSeek has `thinking: {"type": "enabled" | "disabled"}` (no budget): `reasoning_effort`
/// `none` turns it off, any other effort on (and a known level is sent as well). A `thinking`
/// of one of those types wins, reduced to its type.
pub fn deepseek(map: &mut Map<String, Value>) {
    let thinking = map.shift_remove("thinking").filter(|t| !t.is_null());
    let effort = map
        .shift_remove("reasoning_effort")
        .filter(|e| !e.is_null());
    let kind = thinking
        .as_ref()
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        .filter(|t| matches!(*t, "enabled" | "disabled"));
    let on = match (kind, &effort) {
        (Some(k), _) => k == "enabled",
        (None, Some(e)) => e.as_str() != Some("none"),
        (None, None) => return,
    };
    map.insert(
        "thinking".into(),
        json!({"type": if on { "enabled" } else { "disabled" }}),
    );
    if let Some(e) = effort
        .as_ref()
        .and_then(Value::as_str)
        .filter(|e| on && DEEPSEEK_EFFORTS.contains(e))
    {
        map.insert("reasoning_effort".into(), json!(e));
    }
}

/// DeepSeek takes content lists only with images (its vision models): a text-only list is sent
/// as its text, as LiteLLM collapses it. A list with an image is sent as given, also to a model
/// without vision, where LiteLLM drops the images (see the README).
pub fn deepseek_messages(map: &mut Map<String, Value>) {
    for m in map
        .get_mut("messages")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        let Some(Value::Array(parts)) = m.get("content") else {
            continue;
        };
        let has_image = parts
            .iter()
            .any(|p| p.get("type").and_then(Value::as_str) == Some("image_url"));
        if has_image {
            continue;
        }
        let text: String = parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect();
        if !text.is_empty() {
            m.insert("content".into(), json!(text));
        }
    }
}

/// OpenRouter: `usage: {"include": true}` on every request (its cost comes back in the usage),
/// and `reasoning_effort` `max` is its `xhigh`.
pub fn openrouter(map: &mut Map<String, Value>) {
    if map.get("reasoning_effort").and_then(Value::as_str) == Some("max") {
        map.insert("reasoning_effort".into(), json!("xhigh"));
    }
    if !map.contains_key("usage") {
        map.insert("usage".into(), json!({"include": true}));
    }
}

/// Fireworks names models as resources: a short name gets `accounts/fireworks/models/`
/// (`routers/` for its routers), as LiteLLM's `resolve_fireworks_resource_name` sends it.
pub fn fireworks(map: &mut Map<String, Value>) {
    let Some(model) = map.get("model").and_then(Value::as_str) else {
        return;
    };
    let short = model.strip_prefix("fireworks_ai/").unwrap_or(model);
    let name = if short.starts_with("accounts/") || short.starts_with("FW-") || short.contains('#')
    {
        short.to_string()
    } else if short.starts_with("routers/") || short.starts_with("models/") {
        format!("accounts/fireworks/{short}")
    } else if short.ends_with("-fast")
        || matches!(short, "firerouter" | "auto" | "auto-instant")
        || short.starts_with("firerouter/")
    {
        format!("accounts/fireworks/routers/{short}")
    } else {
        format!("accounts/fireworks/models/{short}")
    };
    map.insert("model".into(), json!(name));
}

/// The tool LiteLLM asks Groq to call for a JSON schema the model cannot take natively.
const JSON_TOOL: &str = "json_tool_call";

/// Groq: a JSON schema for a model without native structured outputs goes as a forced call of
/// one tool whose parameters are the schema (LiteLLM's workaround); with tools of the caller's
/// own that cannot work, and is refused.
pub fn groq(map: &mut Map<String, Value>, native_schema: bool) -> Result<(), crate::LlmError> {
    if native_schema {
        return Ok(());
    }
    let schema = match map.get("response_format") {
        Some(f) => f
            .get("response_schema")
            .or_else(|| f.get("json_schema").and_then(|s| s.get("schema")))
            .cloned(),
        None => None,
    };
    let Some(schema) = schema else {
        return Ok(());
    };
    let model = map.get("model").and_then(Value::as_str).unwrap_or("");
    if map.get("tools").is_some_and(|t| !t.is_null()) {
        return Err(crate::LlmError::bad_request(format!(
            "Groq model '{model}' does not support native structured outputs. LiteLLM uses a tool-calling workaround for structured outputs on this model, which is incompatible with user-provided tools. Either use a model that supports native structured outputs (e.g., gpt-oss-120b, llama-4, kimi-k2), or remove the tools parameter. See: https://console.groq.com/docs/structured-outputs#supported-models"
        ))
        .with_model(model));
    }
    map.shift_remove("response_format");
    map.insert(
        "tools".into(),
        json!([{"type": "function", "function": {"name": JSON_TOOL, "parameters": schema}}]),
    );
    map.insert(
        "tool_choice".into(),
        json!({"type": "function", "function": {"name": JSON_TOOL}}),
    );
    Ok(())
}

/// Groq's answer to that workaround: the one `json_tool_call` call's arguments are the content.
pub fn groq_answer(v: &mut Value) {
    for c in v
        .get_mut("choices")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let Some(calls) = c["message"]["tool_calls"].as_array() else {
            continue;
        };
        let [call] = calls.as_slice() else { continue };
        if call["function"]["name"].as_str() != Some(JSON_TOOL) {
            continue;
        }
        let args = call["function"]["arguments"].clone();
        let msg = &mut c["message"];
        msg["content"] = args;
        if let Some(o) = msg.as_object_mut() {
            o.shift_remove("tool_calls");
        }
        c["finish_reason"] = json!("stop");
    }
}

/// DeepInfra takes `tool_choice` only as `auto` or `none`: another is refused, or dropped with
/// `drop_params`. (LiteLLM also leaves `auto` and `none` out; `none` is sent here, see the README.)
pub fn deepinfra(map: &mut Map<String, Value>, drop_params: bool) -> Result<(), crate::LlmError> {
    match map.get("tool_choice") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == "auto" => {
            map.shift_remove("tool_choice");
            Ok(())
        }
        Some(Value::String(s)) if s == "none" => Ok(()),
        Some(_) if drop_params => {
            map.shift_remove("tool_choice");
            Ok(())
        }
        Some(other) => Err(crate::LlmError::new(
            crate::ErrorKind::UnsupportedParams,
            format!("Deepinfra doesn't support tool_choice={other}. To drop unsupported openai params from the call, set `litellm.drop_params = True`"),
        )),
    }
}
