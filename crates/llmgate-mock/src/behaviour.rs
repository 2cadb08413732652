//! What the mock does, chosen by the requested model name (`mock-error-429`, `mock-slow-200`, ...),
//! or set for a model name at run time ([`Overrides`], `POST /_mock/behaviour`).

use std::collections::HashMap;
use std::sync::Mutex;
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
    /// An answer Azure's filter cut (`mock-content-filter-output`): `finish_reason:
    /// content_filter` with a flagged `content_filter_results`, streamed or not.
    ContentFilterOutput,
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
        if model == "mock-content-filter-output" {
            return Behaviour::ContentFilterOutput;
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

/// A behaviour set for one model name at run time, which wins over the name's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub behaviour: Behaviour,
    /// Requests left before it lapses (None: until cleared).
    pub times: Option<u32>,
    /// `retry-after` on error answers.
    pub retry_after: Option<String>,
}

/// Run-time behaviours by model name (`POST /_mock/behaviour`): a test makes a model fail on
/// demand, for the next N requests or until cleared, and then recover.
#[derive(Default, Debug)]
pub struct Overrides(Mutex<HashMap<String, Override>>);

impl Overrides {
    /// Sets (`Some`) or clears (`None`) the override of `model`.
    pub fn set(&self, model: &str, o: Option<Override>) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match o {
            Some(o) if o.times != Some(0) => m.insert(model.to_string(), o),
            _ => m.remove(model),
        };
    }

    /// What a request to `model` does when an override is set (its behaviour and
    /// `retry-after`), counted against its `times`.
    /// The behaviour `model` asks for: a run-time override first (counted as taken), else
    /// the one its name picks.
    pub fn behaviour(&self, model: &str) -> Behaviour {
        self.take(model)
            .map(|(b, _)| b)
            .unwrap_or_else(|| Behaviour::of(model))
    }

    pub fn take(&self, model: &str) -> Option<(Behaviour, Option<String>)> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let o = m.get_mut(model)?;
        let out = (o.behaviour, o.retry_after.clone());
        if let Some(n) = o.times.as_mut() {
            *n -= 1;
            if *n == 0 {
                m.remove(model);
            }
        }
        Some(out)
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

    #[test]
    fn overrides_win_for_their_times_then_lapse() {
        let o = Overrides::default();
        assert_eq!(o.take("cd-a"), None);
        o.set(
            "cd-a",
            Some(Override {
                behaviour: Behaviour::Error(401),
                times: Some(2),
                retry_after: Some("1".into()),
            }),
        );
        let failing = Some((Behaviour::Error(401), Some("1".to_string())));
        assert_eq!(o.take("cd-b"), None);
        assert_eq!(o.take("cd-a"), failing);
        assert_eq!(o.take("cd-a"), failing);
        assert_eq!(o.take("cd-a"), None, "lapsed after 2 requests");

        let slow = Behaviour::Slow(Duration::from_millis(5));
        let until_cleared = Override {
            behaviour: slow,
            times: None,
            retry_after: None,
        };
        o.set("cd-a", Some(until_cleared));
        for _ in 0..5 {
            assert_eq!(o.take("cd-a"), Some((slow, None)));
        }
        o.set("cd-a", None);
        assert_eq!(o.take("cd-a"), None, "cleared");
    }
}
