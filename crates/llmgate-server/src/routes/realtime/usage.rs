//! A realtime session's usage: every `response.done` server event carries `response.usage`
//! (`input_tokens`, `output_tokens`, `input_token_details{text_tokens, audio_tokens,
//! cached_tokens, cached_tokens_details}`, `output_token_details{text_tokens, audio_tokens}`);
//! they are summed, as LiteLLM's `RealtimeAPITokenUsageProcessor` does, and the session priced
//! once from them: text and audio tokens each at their own catalog price, cached ones at the
//! cache-read price.

use llmgate::catalog::ModelInfo;
use llmgate::{CompletionTokensDetails, PromptTokensDetails, Usage};
use serde_json::{json, Value};

/// Token counts summed over a session, each split the way it is priced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub responses: u64,
    pub input: u64,
    pub output: u64,
    /// Input text and audio tokens not read from the cache, and those that were.
    text_in: u64,
    audio_in: u64,
    cached_text: u64,
    cached_audio: u64,
    text_out: u64,
    audio_out: u64,
    /// The model the upstream says the session runs (`session.created`).
    pub session_model: Option<String>,
}

fn n(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

impl Tally {
    /// Looks at one server event's text. Only `session.created` and `response.done` matter;
    /// every other frame (audio deltas are most of a session) is skipped without parsing.
    pub fn feed(&mut self, text: &str) {
        if !text.contains("\"response.done\"") && !text.contains("\"session.created\"") {
            return;
        }
        let Ok(event) = serde_json::from_str::<Value>(text) else {
            return;
        };
        match event.get("type").and_then(Value::as_str) {
            Some("session.created") => {
                if let Some(m) = event.pointer("/session/model").and_then(Value::as_str) {
                    self.session_model = Some(m.to_string());
                }
            }
            Some("response.done") => {
                self.responses += 1;
                if let Some(u) = event.pointer("/response/usage") {
                    self.add(u);
                }
            }
            _ => {}
        }
    }

    fn add(&mut self, u: &Value) {
        let input = n(u, "input_tokens");
        let output = n(u, "output_tokens");
        self.input += input;
        self.output += output;
        let none = Value::Null;
        let inp = u.get("input_token_details").unwrap_or(&none);
        let out = u.get("output_token_details").unwrap_or(&none);
        let audio_in = n(inp, "audio_tokens").min(input);
        // Without a text count, what is not audio is text (image tokens are priced as text).
        let text_in = match inp.get("text_tokens").and_then(Value::as_u64) {
            Some(t) => t,
            None => input - audio_in,
        };
        let cached = n(inp, "cached_tokens");
        let (cached_text, cached_audio) = match inp.get("cached_tokens_details") {
            Some(d) => (n(d, "text_tokens"), n(d, "audio_tokens")),
            None => {
                let t = cached.min(text_in);
                (t, (cached - t).min(audio_in))
            }
        };
        let cached_text = cached_text.min(text_in);
        let cached_audio = cached_audio.min(audio_in);
        self.text_in += text_in - cached_text;
        self.cached_text += cached_text;
        self.audio_in += audio_in - cached_audio;
        self.cached_audio += cached_audio;
        let audio_out = n(out, "audio_tokens").min(output);
        self.audio_out += audio_out;
        self.text_out += match out.get("text_tokens").and_then(Value::as_u64) {
            Some(t) => t,
            None => output - audio_out,
        };
    }

    /// The session's usage in the chat shape the spend log keeps.
    pub fn usage(&self) -> Usage {
        let mut u = Usage::new(self.input, self.output);
        let mut p = PromptTokensDetails {
            cached_tokens: Some(self.cached_text + self.cached_audio),
            audio_tokens: Some(self.audio_in + self.cached_audio),
            ..Default::default()
        };
        p.extra
            .insert("text_tokens".into(), json!(self.text_in + self.cached_text));
        u.prompt_tokens_details = Some(p);
        let mut c = CompletionTokensDetails::default();
        c.extra.insert("text_tokens".into(), json!(self.text_out));
        c.extra.insert("audio_tokens".into(), json!(self.audio_out));
        u.completion_tokens_details = Some(c);
        u
    }

    /// The session's cost at `info`'s prices: an audio token at the audio price where the
    /// catalog has one (else the text price), a cached token at the cache-read price. None
    /// when the model has no token price at all.
    pub fn cost(&self, info: &ModelInfo) -> Option<f64> {
        let p = &info.prices;
        if p.input_cost_per_token.is_none()
            && p.output_cost_per_token.is_none()
            && p.input_cost_per_audio_token.is_none()
            && p.output_cost_per_audio_token.is_none()
        {
            return None;
        }
        let input = p.input_cost_per_token.unwrap_or(0.0);
        let output = p.output_cost_per_token.unwrap_or(0.0);
        let audio_in = p.input_cost_per_audio_token.unwrap_or(input);
        let audio_out = p.output_cost_per_audio_token.unwrap_or(output);
        let cache_read = p.cache_read_input_token_cost.unwrap_or(input);
        let cache_read_audio = p.cache_read_input_audio_token_cost.unwrap_or(audio_in);
        Some(
            self.text_in as f64 * input
                + self.cached_text as f64 * cache_read
                + self.audio_in as f64 * audio_in
                + self.cached_audio as f64 * cache_read_audio
                + self.text_out as f64 * output
                + self.audio_out as f64 * audio_out,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(usage: Value) -> String {
        json!({"type": "response.done", "event_id": "e", "response": {"id": "r", "usage": usage}})
            .to_string()
    }

    #[test]
    fn sums_response_done_events_and_skips_the_rest() {
        let mut t = Tally::default();
        t.feed(r#"{"type":"session.created","session":{"model":"gpt-realtime"}}"#);
        t.feed(r#"{"type":"response.audio.delta","delta":"AAAA"}"#);
        t.feed(&done(json!({
            "input_tokens": 100, "output_tokens": 50,
            "input_token_details": {"text_tokens": 60, "audio_tokens": 40, "cached_tokens": 20},
            "output_token_details": {"text_tokens": 10, "audio_tokens": 40}
        })));
        t.feed(&done(json!({"input_tokens": 10, "output_tokens": 5})));
        assert_eq!(t.responses, 2);
        assert_eq!(t.session_model.as_deref(), Some("gpt-realtime"));
        let u = t.usage();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (110, 55, 165)
        );
        let p = u.prompt_tokens_details.unwrap();
        assert_eq!(p.cached_tokens, Some(20));
        assert_eq!(p.audio_tokens, Some(40));
        assert_eq!(p.extra["text_tokens"], 70);
        let c = u.completion_tokens_details.unwrap();
        assert_eq!(c.extra["text_tokens"], 15);
        assert_eq!(c.extra["audio_tokens"], 40);

        let mut info = ModelInfo::unpriced("gpt-realtime");
        info.prices.input_cost_per_token = Some(4e-6);
        info.prices.output_cost_per_token = Some(16e-6);
        info.prices.input_cost_per_audio_token = Some(32e-6);
        info.prices.output_cost_per_audio_token = Some(64e-6);
        info.prices.cache_read_input_token_cost = Some(0.4e-6);
        // text in: 60-20 + 10 = 50 plain, 20 cached; audio in 40; text out 15; audio out 40.
        let want = 50.0 * 4e-6 + 20.0 * 0.4e-6 + 40.0 * 32e-6 + 15.0 * 16e-6 + 40.0 * 64e-6;
        assert!((t.cost(&info).unwrap() - want).abs() < 1e-12);
        assert_eq!(t.cost(&ModelInfo::unpriced("x")), None);
    }

    #[test]
    fn malformed_events_count_nothing() {
        let mut t = Tally::default();
        t.feed(r#"{"type":"response.done""#);
        t.feed(r#"{"type":"response.done","response":{"usage":{"input_tokens":"many"}}}"#);
        assert_eq!(t.input, 0);
        assert_eq!(t.responses, 1);
    }
}
