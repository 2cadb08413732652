//! OpenAI chat request → Cohere Chat v2 body. Cohere v2 takes OpenAI's message and tool
//! shapes, which LiteLLM sends as they are, renaming only the sampling params
//! (`CohereV2ChatConfig.map_openai_params`); here they are also cut to the fields Cohere
//! defines (it refuses others). Provider-specific fields (`documents`, `citation_options`,
//! `safety_mode`, ...) pass through. `user`, `metadata` and `stream_options` are not sent
//! (the usage chunk is built from `message-end`).

use llmgate_types::ChatCompletionRequest;
use serde_json::{json, Map, Value};

use crate::{CallOptions, LlmError};

/// Whether the model takes `thinking` (LiteLLM reads it from the id).
pub fn is_reasoning_model(model: &str) -> bool {
    model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase()
        .contains("command-a-reasoning")
}

/// `reasoning_effort` as Cohere's `thinking` (LiteLLM's budgets per level).
fn thinking(effort: &str) -> Option<Value> {
    let budget = match effort {
        "none" => return Some(json!({"type": "disabled"})),
        "minimal" => 128,
        "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        _ => return None,
    };
    Some(json!({"type": "enabled", "token_budget": budget}))
}

/// OpenAI's `response_format` in Cohere's form: `json_schema` becomes `json_object` with the
/// schema under `json_schema` (LiteLLM passes OpenAI's form on, which Cohere refuses).
fn response_format(rf: &Value) -> Value {
    match rf["type"].as_str() {
        Some("json_schema") => {
            let schema = rf["json_schema"]
                .get("schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            json!({"type": "json_object", "json_schema": schema})
        }
        _ => rf.clone(),
    }
}

/// Fields Cohere v2 defines on a message; others (`name`, `reasoning_content`,
/// `cache_control`, ...) are left out, as Cohere refuses unknown fields.
const MESSAGE_FIELDS: &[&str] = &[
    "role",
    "content",
    "tool_calls",
    "tool_call_id",
    "tool_plan",
    "citations",
];

/// Content part types Cohere v2 takes.
const PART_TYPES: &[&str] = &["text", "image_url", "document", "thinking"];

/// OpenAI chat params Cohere has no counterpart for: refused, or dropped with `drop_params`.
const OPENAI_ONLY: &[&str] = &[
    "web_search_options",
    "service_tier",
    "modalities",
    "audio",
    "prediction",
    "store",
    "functions",
    "function_call",
    "prompt_cache_key",
    "safety_identifier",
    "verbosity",
];

/// The messages as Cohere v2 takes them: OpenAI's shapes (`developer` as `system`), without
/// `null` content or fields Cohere does not define; a part of a type it does not take is a 400.
fn messages(req: &ChatCompletionRequest) -> Result<Vec<Value>, LlmError> {
    let mut out = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        let mut v = serde_json::to_value(m).unwrap_or_default();
        let Some(o) = v.as_object_mut() else { continue };
        o.retain(|k, v| MESSAGE_FIELDS.contains(&k.as_str()) && !v.is_null());
        if o.get("role").and_then(Value::as_str) == Some("developer") {
            o.insert("role".into(), json!("system"));
        }
        if let Some(Value::Array(parts)) = o.get_mut("content") {
            for p in parts.iter_mut() {
                let kind = p["type"].as_str().unwrap_or_default();
                if !PART_TYPES.contains(&kind) {
                    return Err(LlmError::bad_request(format!(
                        "Cohere takes text, image_url and document content parts, not {kind:?}"
                    ))
                    .with_provider(super::NAME));
                }
                if let Some(po) = p.as_object_mut() {
                    po.remove("cache_control");
                }
            }
        }
        out.push(v);
    }
    Ok(out)
}

/// Tools as Cohere v2 takes them: OpenAI's function tools with a name, a description and
/// parameters (`strict` and other vendors' fields left out); any other tool type is a 400.
fn tools(req: &ChatCompletionRequest) -> Result<Option<Value>, LlmError> {
    let Some(list) = req.tools.as_ref() else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(list.len());
    for t in list {
        let f = match (t.kind.as_str(), &t.function) {
            ("function", Some(f)) => f,
            (kind, _) => {
                return Err(LlmError::bad_request(format!(
                    "Cohere takes function tools only, not {kind:?}"
                ))
                .with_provider(super::NAME))
            }
        };
        let mut def = Map::new();
        def.insert("name".into(), json!(f.name));
        if let Some(d) = &f.description {
            def.insert("description".into(), json!(d));
        }
        if let Some(p) = &f.parameters {
            def.insert("parameters".into(), p.clone());
        }
        out.push(json!({"type": "function", "function": def}));
    }
    Ok(Some(Value::Array(out)))
}

/// The `/v2/chat` body.
pub fn build(
    req: &ChatCompletionRequest,
    opts: &CallOptions,
    stream: bool,
) -> Result<Value, LlmError> {
    let model = req.model.as_str();
    let mut present: Vec<&str> = Vec::new();
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages(req)?));
    if stream {
        body.insert("stream".into(), json!(true));
    }
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            body.insert(k.into(), v);
        }
    };
    set("temperature", req.temperature.map(Value::from));
    set(
        "max_tokens",
        req.max_completion_tokens
            .or(req.max_tokens)
            .map(Value::from),
    );
    set("p", req.top_p.map(Value::from));
    set("frequency_penalty", req.frequency_penalty.map(Value::from));
    set("presence_penalty", req.presence_penalty.map(Value::from));
    set("stop_sequences", req.stop.clone().map(stop_list));
    set("seed", req.seed.map(Value::from));
    set("logprobs", req.logprobs.map(Value::from));
    set("tools", tools(req)?);
    // Cohere takes only REQUIRED and NONE (`auto` is its default); LiteLLM drops the rest,
    // a named function included.
    set(
        "tool_choice",
        match req.tool_choice.as_ref().and_then(Value::as_str) {
            Some("required") => Some(json!("REQUIRED")),
            Some("none") => Some(json!("NONE")),
            _ => None,
        },
    );
    set(
        "response_format",
        req.response_format.as_ref().map(response_format),
    );
    if let Some(effort) = &req.reasoning_effort {
        if is_reasoning_model(model) {
            set("thinking", thinking(effort));
        } else {
            present.push("reasoning_effort");
        }
    }
    for (k, v) in &req.extra {
        if v.is_null() {
            continue;
        }
        if let Some(p) = OPENAI_ONLY.iter().find(|p| **p == k) {
            present.push(p);
            continue;
        }
        if k == "thinking" && !is_reasoning_model(model) {
            present.push("thinking");
            continue;
        }
        // `top_k` is Cohere's `k`.
        let name = if k == "top_k" { "k" } else { k.as_str() };
        body.entry(name.to_string()).or_insert_with(|| v.clone());
    }
    // OpenAI params Cohere v2 has no counterpart for: refused, or dropped with `drop_params`.
    if req.logit_bias.is_some() {
        present.push("logit_bias");
    }
    if req.top_logprobs.is_some() {
        present.push("top_logprobs");
    }
    if req.parallel_tool_calls.is_some() {
        present.push("parallel_tool_calls");
    }
    // Cohere answers one generation: n = 1 stays out; more is refused (LiteLLM sends
    // `num_generations`, a field Cohere's v2 API refuses).
    if req.n.is_some_and(|n| n > 1) {
        present.push("n");
    }
    if !present.is_empty() && !opts.drop_params {
        return Err(LlmError::unsupported_params(super::NAME, &present, model).with_model(model));
    }
    Ok(Value::Object(body))
}

/// `stop` as a list (OpenAI allows one string).
fn stop_list(stop: Value) -> Value {
    match stop {
        Value::String(s) => json!([s]),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> ChatCompletionRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn params_are_renamed_as_litellm_maps_them() {
        let r = req(json!({
            "model": "command-r-08-2024",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"}
            ],
            "temperature": 0.3, "top_p": 0.9, "max_completion_tokens": 50, "max_tokens": 10,
            "stop": "END", "seed": 7, "n": 1, "tool_choice": "required", "top_k": 5,
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "documents": [{"id": "d1", "data": {"text": "Paris is sunny"}}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}},
            "stream_options": {"include_usage": true}, "user": "u1"
        }));
        let b = build(&r, &CallOptions::default(), true).unwrap();
        assert_eq!(b["model"], "command-r-08-2024");
        assert_eq!(b["stream"], true);
        assert_eq!(b["temperature"], 0.3);
        assert_eq!(b["p"], 0.9);
        assert_eq!(b["k"], 5);
        assert_eq!(b["max_tokens"], 50);
        assert_eq!(b["stop_sequences"], json!(["END"]));
        assert_eq!(b["seed"], 7);
        assert_eq!(b["tool_choice"], "REQUIRED");
        assert!(b.get("num_generations").is_none());
        assert_eq!(b["tools"][0]["function"]["name"], "get_weather");
        assert_eq!(b["documents"][0]["id"], "d1");
        assert_eq!(
            b["response_format"],
            json!({"type": "json_object", "json_schema": {"type": "object", "properties": {"a": {"type": "string"}}}})
        );
        let m = &b["messages"];
        assert_eq!(m[0], json!({"role": "system", "content": "Be brief."}));
        assert!(m[2].get("content").is_none(), "{}", m[2]);
        assert_eq!(m[2]["tool_calls"][0]["id"], "c1");
        assert_eq!(m[3]["tool_call_id"], "c1");
        for k in ["stream_options", "user", "top_p", "top_k", "stop", "n"] {
            assert!(b.get(k).is_none(), "{k} sent");
        }
    }

    #[test]
    fn unsupported_params_are_refused_or_dropped() {
        let r = req(
            json!({"model": "command-r7b-12-2024", "messages": [{"role": "user", "content": "hi"}],
            "logit_bias": {"1": 2}, "reasoning_effort": "low", "n": 2}),
        );
        let e = build(&r, &CallOptions::default(), false).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("'reasoning_effort'"), "{}", e.message);
        assert!(e.message.contains("'logit_bias'"), "{}", e.message);
        assert!(e.message.contains("'n'"), "{}", e.message);
        let drop = CallOptions {
            drop_params: true,
            ..Default::default()
        };
        let b = build(&r, &drop, false).unwrap();
        assert!(b.get("logit_bias").is_none() && b.get("thinking").is_none());
        assert!(b.get("num_generations").is_none() && b.get("n").is_none());
    }

    #[test]
    fn messages_keep_only_what_cohere_defines() {
        let r = req(json!({"model": "command-a-03-2025", "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "metric", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "name": "ann", "content": "hi", "cache_control": {"type": "ephemeral"}},
            {"role": "assistant", "content": "ok", "reasoning_content": "hmm"}
        ], "tools": [{"type": "function", "function": {"name": "f", "strict": true, "parameters": {"type": "object"}}}]}));
        let b = build(&r, &CallOptions::default(), false).unwrap();
        assert_eq!(
            b["messages"],
            json!([
                {"role": "system", "content": [{"type": "text", "text": "metric"}]},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "ok"}
            ])
        );
        assert!(b["tools"][0]["function"].get("strict").is_none());
        let file = req(
            json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,AA=="}}]}]}),
        );
        assert_eq!(
            build(&file, &CallOptions::default(), false)
                .unwrap_err()
                .status,
            400
        );
        let web = req(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "web_search_options": {}, "thinking": {"type": "enabled"}}),
        );
        let e = build(&web, &CallOptions::default(), false).unwrap_err();
        assert!(
            e.message.contains("['web_search_options', 'thinking']"),
            "{}",
            e.message
        );
    }

    #[test]
    fn reasoning_models_take_thinking() {
        let r = req(
            json!({"model": "command-a-reasoning-08-2025", "messages": [{"role": "user", "content": "hi"}],
            "reasoning_effort": "medium", "tool_choice": "auto"}),
        );
        let b = build(&r, &CallOptions::default(), false).unwrap();
        assert_eq!(
            b["thinking"],
            json!({"type": "enabled", "token_budget": 2048})
        );
        assert!(b.get("tool_choice").is_none());
    }
}
