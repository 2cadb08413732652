//! The router's settings from a LiteLLM config: `router_settings`, with the reliability keys
//! LiteLLM also reads from `litellm_settings` (fallbacks, cooldowns, retries) where
//! `router_settings` does not set them.

use serde_json::{Map, Value};

use super::Config;

/// `litellm_settings` keys that configure the router when `router_settings` lacks them.
const FROM_LITELLM_SETTINGS: &[&str] = &[
    "fallbacks",
    "default_fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "allowed_fails",
    "cooldown_time",
    "retry_policy",
];

/// The router's settings; an error is `(field path, message)`.
pub fn settings(cfg: &Config) -> Result<llmgate::router::Settings, (String, String)> {
    let rs = &cfg.router_settings;
    let mut m: Map<String, Value> = rs.extra.clone();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put(
        "routing_strategy",
        rs.routing_strategy.clone().map(Value::from),
    );
    put("allowed_fails", rs.allowed_fails.map(Value::from));
    put("cooldown_time", rs.cooldown_time.map(Value::from));
    for k in FROM_LITELLM_SETTINGS {
        if let (false, Some(v)) = (m.contains_key(*k), cfg.litellm_settings.extra.get(*k)) {
            m.insert(k.to_string(), v.clone());
        }
    }
    let mut s = llmgate::router::Settings::from_map(&m).map_err(|e| {
        let (field, msg) = e.split_once(": ").unwrap_or(("router_settings", &e));
        (field.to_string(), msg.to_string())
    })?;
    // LiteLLM's proxy default: no retries unless configured.
    s.num_retries = rs
        .num_retries
        .or(cfg.litellm_settings.num_retries)
        .unwrap_or(0);
    Ok(s)
}
