//! Bodies LiteLLM sends watsonx.ai: `/text/chat` (OpenAI-shaped messages and params, tools
//! without `additionalProperties`/`strict`, `tool_choice_option`), `/text/generation` (one
//! prompt from LiteLLM's templates, `parameters` in watsonx's names) and `/text/embeddings`;
//! each with `model_id` and `project_id` (or `space_id`), except deployments.

use llmgate_types::{ChatCompletionRequest, ChatMessage, EmbeddingRequest};
use serde_json::{json, Map, Value};

use crate::providers::aws::{env, param};
use crate::providers::prompts;
use crate::{CallOptions, ErrorKind, LlmError};

/// Where a model runs: `project_id`, else `space_id` (deployments need neither).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub project_id: Option<String>,
    pub space_id: Option<String>,
}

/// `deployment/<id>` names a deployed model.
pub fn deployment(model: &str) -> Option<&str> {
    model.strip_prefix("deployment/")
}

/// `project_id` / `watsonx_project` / `space_id` litellm_params, else LiteLLM's variables.
pub fn scope(opts: &CallOptions, model: &str, provider: &str) -> Result<Scope, LlmError> {
    let s = Scope {
        project_id: param(opts, "project_id")
            .or_else(|| param(opts, "watsonx_project"))
            .or_else(|| env("WATSONX_PROJECT_ID"))
            .or_else(|| env("WX_PROJECT_ID"))
            .or_else(|| env("PROJECT_ID")),
        space_id: param(opts, "space_id")
            .or_else(|| env("WATSONX_DEPLOYMENT_SPACE_ID"))
            .or_else(|| env("WATSONX_SPACE_ID"))
            .or_else(|| env("WX_SPACE_ID"))
            .or_else(|| env("SPACE_ID")),
    };
    if s.project_id.is_none() && s.space_id.is_none() && deployment(model).is_none() {
        return Err(LlmError::new(
            ErrorKind::Authentication,
            "Error: Watsonx project_id and space_id not set. Set WX_PROJECT_ID or WX_SPACE_ID in environment variables or pass in as parameter.",
        )
        .with_provider(provider));
    }
    Ok(s)
}

/// `model_id` and `project_id` (else `space_id`) merged into a body, as `_prepare_payload`.
fn add_payload(body: &mut Map<String, Value>, model: &str, scope: &Scope) {
    if deployment(model).is_some() {
        return;
    }
    body.insert("model_id".into(), json!(model));
    match (&scope.project_id, &scope.space_id) {
        (Some(p), _) => body.insert("project_id".into(), json!(p)),
        (None, s) => body.insert("space_id".into(), json!(s)),
    };
}

/// `/text/generation` params that LiteLLM refuses on `watsonx/` (it points to `watsonx_text/`).
const TEXT_ONLY: &[&str] = &[
    "decoding_method",
    "max_new_tokens",
    "min_new_tokens",
    "length_penalty",
    "stop_sequences",
    "top_k",
    "repetition_penalty",
    "truncate_input_tokens",
    "include_stop_sequences",
    "return_options",
    "random_seed",
    "moderations",
    "min_tokens",
];

fn unsupported(
    provider: &str,
    req: &ChatCompletionRequest,
    opts: &CallOptions,
    set: &[(&'static str, bool)],
) -> Result<(), LlmError> {
    let refused: Vec<&str> = set.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect();
    if refused.is_empty() || opts.drop_params {
        return Ok(());
    }
    Err(LlmError::unsupported_params(provider, &refused, &req.model).with_model(&req.model))
}

/// Removes `key` wherever it appears (LiteLLM's `_remove_additional_properties` and
/// `_remove_strict_from_schema`: watsonx refuses both).
fn strip_key(v: &mut Value, key: &str) {
    match v {
        Value::Object(o) => {
            o.remove(key);
            o.values_mut().for_each(|x| strip_key(x, key));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip_key(x, key)),
        _ => {}
    }
}

/// The `/text/chat` body.
pub fn chat(
    req: &ChatCompletionRequest,
    opts: &CallOptions,
    scope: &Scope,
) -> Result<Value, LlmError> {
    let name = super::CHAT;
    if let Some(k) = TEXT_ONLY.iter().find(|k| req.extra.contains_key(**k)) {
        return Err(LlmError::bad_request(format!(
            "LiteLLM now defaults to Watsonx's `/text/chat` endpoint. Please use the `watsonx_text` provider instead, to call the `/text/generation` endpoint. Param: {k}"
        ))
        .with_provider(name));
    }
    unsupported(
        name,
        req,
        opts,
        &[
            ("max_completion_tokens", req.max_completion_tokens.is_some()),
            ("logit_bias", req.logit_bias.is_some()),
            ("user", req.user.is_some()),
            ("parallel_tool_calls", req.parallel_tool_calls.is_some()),
        ],
    )?;
    let mut b = Map::new();
    if deployment(&req.model).is_none() {
        b.insert("model".into(), json!(req.model));
    }
    b.insert(
        "messages".into(),
        crate::providers::chat_body::messages(&req.messages),
    );
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            b.insert(k.into(), v);
        }
    };
    put("temperature", req.temperature.map(|v| json!(v)));
    put("max_tokens", req.max_tokens.map(|v| json!(v)));
    put("top_p", req.top_p.map(|v| json!(v)));
    put("frequency_penalty", req.frequency_penalty.map(|v| json!(v)));
    put("presence_penalty", req.presence_penalty.map(|v| json!(v)));
    put("stop", req.stop.clone());
    put("seed", req.seed.map(|v| json!(v)));
    put("logprobs", req.logprobs.map(|v| json!(v)));
    put("top_logprobs", req.top_logprobs.map(|v| json!(v)));
    put("n", req.n.map(|v| json!(v)));
    put("response_format", req.response_format.clone());
    put(
        "reasoning_effort",
        req.reasoning_effort.clone().map(Value::String),
    );
    if let Some(tools) = &req.tools {
        let mut t = serde_json::to_value(tools).unwrap_or_default();
        strip_key(&mut t, "additionalProperties");
        strip_key(&mut t, "strict");
        put("tools", Some(t));
    }
    match &req.tool_choice {
        Some(Value::String(s)) if matches!(s.as_str(), "auto" | "none" | "required") => {
            put("tool_choice_option", Some(json!(s)))
        }
        other => put("tool_choice", other.clone()),
    }
    add_payload(&mut b, &req.model, scope);
    Ok(Value::Object(b))
}

/// The prompt LiteLLM builds for `/text/generation` from the model id.
pub fn prompt(model: &str, messages: &[ChatMessage]) -> String {
    let m = model.to_lowercase();
    let has = |s: &str| m.contains(s);
    if m.split('/').next() == Some("ibm-mistralai") || has("ibm-mistral") {
        return prompts::mistral_instruct(messages);
    }
    if has("granite-chat") || (has("granite") && has("chat")) {
        return prompts::granite(messages);
    }
    if has("meta-llama/llama-3-instruct") || (has("meta-llama/llama-3") && has("instruct")) {
        return prompts::llama3_instruct(messages);
    }
    if has("meta-llama/llama-2") && has("chat") {
        return prompts::llama2_chat(messages);
    }
    // LiteLLM tries the model's Hugging Face chat template, then falls back to this.
    prompts::default(messages)
}

/// `/text/generation` parameters a request or deployment may set in watsonx's own names, and
/// LiteLLM's aliases (`min_tokens`).
const TEXT_PARAMS: &[(&str, &str)] = &[
    ("decoding_method", "decoding_method"),
    ("min_tokens", "min_new_tokens"),
    ("min_new_tokens", "min_new_tokens"),
    ("max_new_tokens", "max_new_tokens"),
    ("top_k", "top_k"),
    ("truncate_input_tokens", "truncate_input_tokens"),
    ("length_penalty", "length_penalty"),
    ("time_limit", "time_limit"),
    ("return_options", "return_options"),
    ("repetition_penalty", "repetition_penalty"),
    ("random_seed", "random_seed"),
    ("stop_sequences", "stop_sequences"),
    ("include_stop_sequences", "include_stop_sequences"),
];

/// The `/text/generation` body: `input`, `moderations`, `parameters`, payload.
pub fn text(
    req: &ChatCompletionRequest,
    opts: &CallOptions,
    scope: &Scope,
) -> Result<Value, LlmError> {
    unsupported(
        super::TEXT,
        req,
        opts,
        &[
            ("tools", req.tools.is_some()),
            ("tool_choice", req.tool_choice.is_some()),
            ("response_format", req.response_format.is_some()),
            ("n", req.n.is_some()),
            ("presence_penalty", req.presence_penalty.is_some()),
            ("logprobs", req.logprobs.is_some()),
            ("top_logprobs", req.top_logprobs.is_some()),
            ("logit_bias", req.logit_bias.is_some()),
            ("user", req.user.is_some()),
            ("max_completion_tokens", req.max_completion_tokens.is_some()),
            ("reasoning_effort", req.reasoning_effort.is_some()),
            ("parallel_tool_calls", req.parallel_tool_calls.is_some()),
        ],
    )?;
    let mut p = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            p.insert(k.into(), v);
        }
    };
    put("max_new_tokens", req.max_tokens.map(|v| json!(v)));
    put("temperature", req.temperature.map(|v| json!(v)));
    put("top_p", req.top_p.map(|v| json!(v)));
    put(
        "repetition_penalty",
        req.frequency_penalty.map(|v| json!(v)),
    );
    put("random_seed", req.seed.map(|v| json!(v)));
    put("stop_sequences", req.stop.clone());
    for (from, to) in TEXT_PARAMS {
        if let Some(v) = req.extra.get(*from).or_else(|| opts.extra.get(*from)) {
            p.insert(to.to_string(), v.clone());
        }
    }
    let moderations = req
        .extra
        .get("moderations")
        .or_else(|| opts.extra.get("moderations"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut b = Map::new();
    b.insert("input".into(), json!(prompt(&req.model, &req.messages)));
    b.insert("moderations".into(), moderations);
    b.insert("parameters".into(), Value::Object(p));
    add_payload(&mut b, &req.model, scope);
    Ok(Value::Object(b))
}

/// The `/text/embeddings` body: strings only, as LiteLLM checks.
pub fn embedding(req: &EmbeddingRequest, scope: &Scope) -> Result<Value, LlmError> {
    let inputs = match &req.input {
        Value::String(s) => vec![json!(s)],
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_string) => a.clone(),
        _ => {
            return Err(LlmError::bad_request(
                "WatsonX embeddings require a string or list of strings",
            )
            .with_provider(super::CHAT))
        }
    };
    let mut b = Map::new();
    b.insert("inputs".into(), Value::Array(inputs));
    b.insert("parameters".into(), json!({}));
    add_payload(&mut b, &req.model, scope);
    Ok(Value::Object(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            project_id: Some("p1".into()),
            space_id: None,
        }
    }

    #[test]
    fn chat_body_as_litellm_sends_it() {
        let req: ChatCompletionRequest = serde_json::from_value(json!({
            "model": "ibm/granite-3-8b-instruct",
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 20, "temperature": 0.2, "tool_choice": "required",
            "tools": [{"type": "function", "function": {"name": "get_weather", "strict": true,
                "parameters": {"type": "object", "additionalProperties": false,
                    "properties": {"city": {"type": "string"}}}}}]
        }))
        .unwrap();
        let b = chat(&req, &CallOptions::default(), &scope()).unwrap();
        assert_eq!(b["model"], "ibm/granite-3-8b-instruct");
        assert_eq!(b["model_id"], "ibm/granite-3-8b-instruct");
        assert_eq!(b["project_id"], "p1");
        assert_eq!(b["tool_choice_option"], "required");
        assert!(b.get("tool_choice").is_none());
        let f = &b["tools"][0]["function"];
        assert!(f.get("strict").is_none());
        assert!(f["parameters"].get("additionalProperties").is_none());
        assert_eq!(b["max_tokens"], 20);

        let mut named = req.clone();
        named.tool_choice = Some(json!({"type": "function", "function": {"name": "get_weather"}}));
        let b = chat(&named, &CallOptions::default(), &scope()).unwrap();
        assert_eq!(b["tool_choice"]["function"]["name"], "get_weather");

        let mut text_param = req.clone();
        text_param
            .extra
            .insert("decoding_method".into(), json!("greedy"));
        let e = chat(&text_param, &CallOptions::default(), &scope()).unwrap_err();
        assert!(e.message.contains("watsonx_text"), "{}", e.message);
    }

    #[test]
    fn deployments_carry_no_model_or_scope() {
        let req = ChatCompletionRequest {
            model: "deployment/dep-1".into(),
            messages: vec![ChatMessage::text("user", "Hi")],
            ..Default::default()
        };
        let none = Scope::default();
        let b = chat(&req, &CallOptions::default(), &none).unwrap();
        assert!(b.get("model").is_none() && b.get("model_id").is_none());
        assert!(b.get("project_id").is_none() && b.get("space_id").is_none());
    }

    #[test]
    fn text_body_maps_params_and_builds_the_prompt() {
        let req: ChatCompletionRequest = serde_json::from_value(json!({
            "model": "ibm/granite-13b-chat-v2",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
            "max_tokens": 9, "seed": 4, "stop": ["\n"], "frequency_penalty": 1.1,
            "top_k": 3, "min_tokens": 2
        }))
        .unwrap();
        let b = text(&req, &CallOptions::default(), &scope()).unwrap();
        assert_eq!(
            b["input"],
            "<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>"
        );
        assert_eq!(
            b["parameters"],
            json!({"max_new_tokens": 9, "random_seed": 4, "stop_sequences": ["\n"],
                "repetition_penalty": 1.1, "top_k": 3, "min_new_tokens": 2})
        );
        assert_eq!(b["moderations"], json!({}));
        assert_eq!(b["model_id"], "ibm/granite-13b-chat-v2");
        let mut tools = req.clone();
        tools.tools = Some(vec![]);
        assert_eq!(
            text(&tools, &CallOptions::default(), &scope())
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(prompt("google/flan-t5-xl", &req.messages), "Be brief. Hi");
    }

    #[test]
    fn embeddings_and_scope() {
        let req = EmbeddingRequest {
            model: "ibm/slate-30m-english-rtrvr".into(),
            input: json!(["a", "b"]),
            ..Default::default()
        };
        let space = Scope {
            project_id: None,
            space_id: Some("s1".into()),
        };
        let b = embedding(&req, &space).unwrap();
        assert_eq!(b["inputs"], json!(["a", "b"]));
        assert_eq!(b["space_id"], "s1");
        let bad = EmbeddingRequest {
            input: json!([[1, 2]]),
            ..req
        };
        assert!(embedding(&bad, &space).is_err());
        let e = scope_err();
        assert_eq!(e.status, 401);
    }

    fn scope_err() -> LlmError {
        super::scope(&CallOptions::default(), "ibm/x", "watsonx").unwrap_err()
    }
}
