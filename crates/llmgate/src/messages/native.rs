//! Anthropic-family upstreams: the Messages answer and stream relayed as they come, with the
//! usage read on the way (to price the call).

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::usage::to_openai;
use super::{EventStream, MessagesAnswer, MessagesEvent};
use crate::providers::http::sse_events;
use crate::{ErrorKind, LlmError};

/// An upstream's Messages answer as it is, with its usage.
pub fn answer(v: Value) -> MessagesAnswer {
    let usage = to_openai(&v["usage"]);
    let body = match v {
        Value::Object(m) => m,
        _ => Default::default(),
    };
    MessagesAnswer { body, usage }
}

/// Anthropic's stream error event as an error (the gateway answers it in the route's shape
/// and settles the call as failed).
fn stream_error(data: &Value, provider: &str) -> LlmError {
    let e = &data["error"];
    let kind = match e["type"].as_str().unwrap_or("") {
        "overloaded_error" => ErrorKind::ServiceUnavailable,
        "rate_limit_error" => ErrorKind::RateLimit,
        "invalid_request_error" => ErrorKind::BadRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        _ => ErrorKind::InternalServer,
    };
    LlmError::new(
        kind,
        e["message"].as_str().unwrap_or("stream error").to_string(),
    )
    .with_provider(provider)
}

/// Keeps the usage of a stream: `message_start` has the input side, each `message_delta`
/// the running totals (Anthropic's are cumulative).
#[derive(Default)]
pub struct UsageTally {
    usage: serde_json::Map<String, Value>,
}

impl UsageTally {
    pub fn on_event(&mut self, e: &mut MessagesEvent) {
        let u = match e.kind() {
            "message_start" => e.data.get("message").and_then(|m| m.get("usage")),
            "message_delta" => e.data.get("usage"),
            _ => None,
        };
        let Some(Value::Object(u)) = u else {
            return;
        };
        for (k, v) in u {
            if !v.is_null() {
                self.usage.insert(k.clone(), v.clone());
            }
        }
        if e.kind() == "message_delta" {
            e.usage = Some(to_openai(&Value::Object(self.usage.clone())));
        }
    }
}

/// An upstream's Messages SSE stream relayed event by event.
pub fn relay(
    res: reqwest::Response,
    provider: &'static str,
    idle: Option<Duration>,
) -> EventStream {
    let events = sse_events(res, provider, idle);
    let out = events.scan(
        (UsageTally::default(), false),
        move |(tally, failed), ev| {
            if *failed {
                return futures::future::ready(None);
            }
            let item = match ev {
                Err(e) => Err(e),
                Ok(ev) if ev.data.trim().is_empty() => return futures::future::ready(Some(None)),
                Ok(ev) => match serde_json::from_str::<Value>(&ev.data) {
                    Err(e) => Err(LlmError::new(
                        ErrorKind::InternalServer,
                        format!("could not parse a stream event: {e}: {}", ev.data),
                    )
                    .with_provider(provider)),
                    Ok(data) if data["type"] == "error" => Err(stream_error(&data, provider)),
                    Ok(data) => {
                        let mut e = MessagesEvent::new(data);
                        tally.on_event(&mut e);
                        Ok(e)
                    }
                },
            };
            *failed = item.is_err();
            futures::future::ready(Some(Some(item)))
        },
    );
    Box::pin(out.filter_map(futures::future::ready))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_closing_delta_carries_the_whole_usage() {
        let mut t = UsageTally::default();
        let mut start = MessagesEvent::new(json!({"type": "message_start", "message": {
            "usage": {"input_tokens": 10, "cache_read_input_tokens": 50, "output_tokens": 1}}}));
        t.on_event(&mut start);
        assert!(start.usage.is_none());
        let mut delta = MessagesEvent::new(json!({"type": "message_delta",
            "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 12}}));
        t.on_event(&mut delta);
        let u = delta.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.cached_tokens()),
            (60, 12, 50)
        );
    }

    #[test]
    fn error_events_become_errors() {
        let e = stream_error(
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}),
            "anthropic",
        );
        assert_eq!(e.kind, ErrorKind::ServiceUnavailable);
        assert!(e.message.contains("busy"));
    }
}
