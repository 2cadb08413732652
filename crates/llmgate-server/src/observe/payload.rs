//! LiteLLM's `StandardLoggingPayload`: the one JSON record of a call every logging callback
//! sends (field names and meanings as LiteLLM's logging spec), built once per call and
//! shared by every logger.

use std::time::UNIX_EPOCH;

use serde_json::{json, Map, Value};

use super::event::{CallEvent, Status};
use crate::config::{is, Config};

/// What LiteLLM puts where messages and answers were, with message logging off.
pub const REDACTED: &str = "redacted-by-litellm";

/// The `litellm_settings` that shape every payload.
#[derive(Clone, Default)]
pub struct Settings {
    pub turn_off_message_logging: bool,
    pub redact_user_api_key_info: bool,
    /// `langfuse_default_tags`: tags every Langfuse trace carries.
    pub langfuse_default_tags: Vec<String>,
}

impl Settings {
    pub fn from_config(cfg: &Config) -> Settings {
        let ls = &cfg.litellm_settings.extra;
        Settings {
            turn_off_message_logging: is(ls.get("turn_off_message_logging"), true),
            redact_user_api_key_info: is(ls.get("redact_user_api_key_info"), true),
            langfuse_default_tags: ls
                .get("langfuse_default_tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
        }
    }
}

/// Seconds since the epoch of an instant, from the call's wall-clock start.
fn epoch(ev: &CallEvent<'_>, at: std::time::Instant) -> f64 {
    let base = ev
        .started_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    base + at.saturating_duration_since(ev.start).as_secs_f64()
}

/// The request's input as LiteLLM logs it: chat messages, else the prompt or input.
fn messages(request: &Value) -> Value {
    for k in ["messages", "input", "prompt", "query"] {
        if let Some(v) = request.get(k) {
            return v.clone();
        }
    }
    Value::Null
}

/// The request's parameters without its input (LiteLLM's `model_parameters`).
fn model_parameters(request: &Value) -> Value {
    let mut out = Map::new();
    if let Some(o) = request.as_object() {
        for (k, v) in o {
            if !matches!(
                k.as_str(),
                "messages" | "input" | "prompt" | "query" | "documents" | "model" | "metadata"
            ) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

pub fn standard(ev: &CallEvent<'_>, s: &Settings) -> Value {
    let c = &ev.caller;
    let d = ev.deployment;
    let u = ev.usage;
    let tokens = |f: fn(&llmgate::Usage) -> u64| u.map(f).unwrap_or(0);
    let start = epoch(ev, ev.start);
    let end = epoch(ev, ev.end);
    let completion_start = ev.first_chunk.map_or(end, |t| epoch(ev, t));
    let mut metadata = json!({
        "user_api_key_hash": c.key_hash,
        "user_api_key_alias": c.key_alias(),
        "user_api_key_team_id": c.team_id(),
        "user_api_key_org_id": c.org_id,
        "user_api_key_user_id": c.user_id(),
        "user_api_key_team_alias": c.team_alias(),
        "user_api_key_user_email": c.user_email(),
        "user_api_key_end_user_id": c.end_user,
        "user_api_key_request_route": ev.route,
        "spend_logs_metadata": null,
        "requester_ip_address": c.client_ip,
        "requester_metadata": {},
        "applied_guardrails": [],
        "usage_object": u,
    });
    if s.redact_user_api_key_info {
        if let Some(m) = metadata.as_object_mut() {
            m.retain(|k, _| !k.starts_with("user_api_key"));
        }
    }
    let (error_str, error_information) = match ev.status {
        Status::Success => (Value::Null, Value::Null),
        Status::Failure(e) => {
            let message = e.body()["error"]["message"].clone();
            (
                message.clone(),
                json!({
                    "error_code": e.status().to_string(),
                    "error_class": e.kind().map(|k| k.class_name()).unwrap_or("ProxyException"),
                    "llm_provider": d.map(|d| d.provider.as_str()).unwrap_or(""),
                    "traceback": "",
                    "error_message": message,
                }),
            )
        }
        Status::Abandoned => {
            let message = "the client closed the connection before the answer ended";
            (
                json!(message),
                json!({"error_code": "499", "error_class": "ClientDisconnected",
                       "llm_provider": d.map(|d| d.provider.as_str()).unwrap_or(""),
                       "traceback": "", "error_message": message}),
            )
        }
    };
    let (msgs, response, params) = match ev.capture {
        _ if s.turn_off_message_logging => (json!(REDACTED), json!(REDACTED), json!({})),
        Some(cap) => (
            messages(&cap.request),
            cap.response.clone().unwrap_or(Value::Null),
            model_parameters(&cap.request),
        ),
        None => (Value::Null, Value::Null, json!({})),
    };
    let status = if ev.status.is_success() {
        "success"
    } else {
        "failure"
    };
    json!({
        "id": ev.call_id,
        "trace_id": ev.call_id,
        "call_type": ev.call_type,
        "stream": ev.stream,
        "response_cost": ev.cost,
        "status": status,
        "custom_llm_provider": d.map(|d| d.provider.as_str()),
        "total_tokens": tokens(|u| u.total_tokens),
        "prompt_tokens": tokens(|u| u.prompt_tokens),
        "completion_tokens": tokens(|u| u.completion_tokens),
        "startTime": start,
        "endTime": end,
        "completionStartTime": completion_start,
        "response_time": end - start,
        "model": d.map(|d| d.bare_model()).unwrap_or(ev.requested_model),
        "model_id": d.map(|d| d.id.as_str()),
        "model_group": ev.model_group,
        "api_base": d.map(|d| d.api_base.as_str()).unwrap_or(""),
        "metadata": metadata,
        "cache_hit": ev.cache_hit,
        "cache_key": null,
        "saved_cache_cost": 0.0,
        "request_tags": ev.tags,
        "end_user": c.end_user,
        "requester_ip_address": c.client_ip,
        "messages": msgs,
        "response": response,
        "error_str": error_str,
        "error_information": error_information,
        "model_parameters": params,
        "hidden_params": {
            "model_id": d.map(|d| d.id.as_str()),
            "cache_key": null,
            "api_base": d.map(|d| d.api_base.as_str()),
            "response_cost": ev.cost,
            "litellm_overhead_time_ms": null,
            "additional_headers": null,
        },
        "guardrail_information": ev.guardrails,
    })
}
