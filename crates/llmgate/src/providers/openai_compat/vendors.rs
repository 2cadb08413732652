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
