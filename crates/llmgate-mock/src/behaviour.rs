//! What the mock does, chosen by the requested model name (`mock-error-429`, `mock-slow-200`, ...).

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer normally.
    Normal,
    /// Answer with this HTTP status and an OpenAI error body.
    Error(u16),
    /// 400 `context_length_exceeded`.
    ContextWindow,
    /// 400 as Azure's content filter answers it (`content_filter`, inner
    /// `ResponsibleAIPolicyViolation` with the filter results).
    ContentFilter,
    /// Wait, then answer normally.
    Slow(Duration),
    /// Streams: two content chunks, then an error event and the end of the stream.
    StreamError,
    /// Streams: three content chunks, then the connection is cut (no error event, no end).
    StreamDrop,
    /// Streams: `usage` on the finish chunk itself, no separate usage chunk (as Mistral does).
    UsageOnFinish,
    /// Streams: normal chunks with this delay between them.
    StreamSlow(Duration),
    /// 401 quoting the key it was sent, in full and abbreviated (`mock-echo-key`): what a
    /// careless upstream does, for tests that the gateway masks it.
    EchoKey,
}

impl Behaviour {
    pub fn of(model: &str) -> Behaviour {
        let ms = |s: &str| s.parse().ok().map(Duration::from_millis);
        if let Some(code) = model
            .strip_prefix("mock-error-")
            .and_then(|s| s.parse().ok())
        {
            return Behaviour::Error(code);
        }
        if model == "mock-context-window" {
            return Behaviour::ContextWindow;
        }
        if model == "mock-content-filter" {
            return Behaviour::ContentFilter;
        }
        if model == "mock-echo-key" {
            return Behaviour::EchoKey;
        }
        if model == "mock-stream-error" {
            return Behaviour::StreamError;
        }
        if model == "mock-stream-drop" {
            return Behaviour::StreamDrop;
        }
        if model == "mock-usage-on-finish" {
            return Behaviour::UsageOnFinish;
        }
        if let Some(d) = model.strip_prefix("mock-stream-slow-").and_then(ms) {
            return Behaviour::StreamSlow(d);
        }
        if let Some(d) = model.strip_prefix("mock-slow-").and_then(ms) {
            return Behaviour::Slow(d);
        }
        Behaviour::Normal
    }
}

/// OpenAI's error `type` for a status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_exceeded",
        503 => "service_unavailable",
        _ => "server_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pick_behaviours() {
        assert_eq!(Behaviour::of("gpt-4o"), Behaviour::Normal);
        assert_eq!(Behaviour::of("mock-error-429"), Behaviour::Error(429));
        assert_eq!(
            Behaviour::of("mock-slow-300"),
            Behaviour::Slow(Duration::from_millis(300))
        );
        assert_eq!(
            Behaviour::of("mock-stream-slow-20"),
            Behaviour::StreamSlow(Duration::from_millis(20))
        );
        assert_eq!(Behaviour::of("mock-stream-error"), Behaviour::StreamError);
        assert_eq!(Behaviour::of("mock-stream-drop"), Behaviour::StreamDrop);
        assert_eq!(Behaviour::of("mock-echo-key"), Behaviour::EchoKey);
        assert_eq!(
            Behaviour::of("mock-context-window"),
            Behaviour::ContextWindow
        );
    }
}
