//! A `guardrails:` entry as LiteLLM reads it: `guardrail_name` and `litellm_params`
//! (`guardrail`, `mode` — one or a list —, `default_on`, the integration's own params).

use std::time::Duration;

use serde_json::{Map, Value};

/// When a guardrail runs (LiteLLM's `GuardrailEventHooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// On the request, before the router call: a block means no upstream call.
    PreCall,
    /// On the request, while the upstream call runs: the answer waits until it passes.
    DuringCall,
    /// On the answer (a stream is buffered and checked whole).
    PostCall,
    /// Masks only what is logged, never changes the call.
    LoggingOnly,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "pre_call" => Mode::PreCall,
            "during_call" => Mode::DuringCall,
            "post_call" => Mode::PostCall,
            "logging_only" => Mode::LoggingOnly,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::PreCall => "pre_call",
            Mode::DuringCall => "during_call",
            Mode::PostCall => "post_call",
            Mode::LoggingOnly => "logging_only",
        }
    }
}

/// What a guardrail whose service fails or times out does (LiteLLM's `unreachable_fallback`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// The call is refused (LiteLLM's default).
    FailClosed,
    /// The call goes on unchecked; the log says the guardrail failed to respond.
    FailOpen,
}

/// One `guardrails:` entry, parsed.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: String,
    /// `litellm_params.guardrail`: the integration.
    pub kind: String,
    pub modes: Vec<Mode>,
    pub default_on: bool,
    pub on_error: OnError,
    /// How long an external service may take (`timeout`, seconds).
    pub timeout: Duration,
    /// Every `litellm_params` key, for the integration to read its own.
    pub params: Map<String, Value>,
    /// `guardrail_info` beside `litellm_params`: served back by `/guardrails/list`.
    pub info: Value,
}

/// Default bound on an external guardrail call when `timeout` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Entry {
    pub fn parse(i: usize, v: &Value) -> Result<Entry, String> {
        let at = format!("guardrails[{i}]");
        let name = v
            .get("guardrail_name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{at}.guardrail_name is required"))?
            .to_string();
        let params = v
            .get("litellm_params")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| format!("{at}.litellm_params is required"))?;
        let kind = params
            .get("guardrail")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}.litellm_params.guardrail is required"))?
            .to_string();
        let modes = match params.get("mode") {
            None | Some(Value::Null) => vec![Mode::PreCall],
            Some(Value::String(s)) => vec![mode(&at, s)?],
            Some(Value::Array(items)) => items
                .iter()
                .map(|m| mode(&at, m.as_str().unwrap_or_default()))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("{at}.litellm_params.mode: {other} is not a mode")),
        };
        let default_on = match params.get("default_on") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let on_error = match params.get("unreachable_fallback").and_then(Value::as_str) {
            None | Some("fail_closed") => OnError::FailClosed,
            Some("fail_open") => OnError::FailOpen,
            Some(o) => {
                return Err(format!(
                    "{at}.litellm_params.unreachable_fallback: {o} (fail_closed or fail_open)"
                ))
            }
        };
        let timeout = match params.get("timeout") {
            None | Some(Value::Null) => DEFAULT_TIMEOUT,
            Some(t) => t
                .as_f64()
                .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
                .filter(|s| *s > 0.0 && s.is_finite())
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("{at}.litellm_params.timeout: {t} is not seconds"))?,
        };
        Ok(Entry {
            name,
            kind,
            modes,
            default_on,
            on_error,
            timeout,
            params,
            info: v.get("guardrail_info").cloned().unwrap_or(Value::Null),
        })
    }

    pub fn str_param(&self, k: &str) -> Option<&str> {
        self.params
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// `mode` as LiteLLM lists it: a string, or the list.
    pub fn mode_value(&self) -> Value {
        match self.modes.as_slice() {
            [one] => Value::from(one.name()),
            many => many.iter().map(|m| Value::from(m.name())).collect(),
        }
    }
}

fn mode(at: &str, s: &str) -> Result<Mode, String> {
    Mode::parse(s).ok_or_else(|| {
        format!(
            "{at}.litellm_params.mode: {s:?} (pre_call, during_call, post_call or logging_only)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modes_one_or_many() {
        let e = Entry::parse(
            0,
            &json!({"guardrail_name": "g", "litellm_params": {"guardrail": "x", "mode": ["pre_call", "post_call"], "default_on": true}}),
        )
        .unwrap();
        assert_eq!(e.modes, vec![Mode::PreCall, Mode::PostCall]);
        assert!(e.default_on);
        assert_eq!(e.on_error, OnError::FailClosed);
        let e = Entry::parse(
            0,
            &json!({"guardrail_name": "g", "litellm_params": {"guardrail": "x", "mode": "during_call", "unreachable_fallback": "fail_open", "timeout": 0.5}}),
        )
        .unwrap();
        assert_eq!(e.modes, vec![Mode::DuringCall]);
        assert_eq!(e.on_error, OnError::FailOpen);
        assert_eq!(e.timeout, Duration::from_millis(500));
        assert!(Entry::parse(0, &json!({"guardrail_name": "g", "litellm_params": {"guardrail": "x", "mode": "sometimes"}})).is_err());
        assert!(Entry::parse(0, &json!({"litellm_params": {"guardrail": "x"}})).is_err());
    }
}
