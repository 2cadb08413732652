//! watsonx.ai answers back to OpenAI: `/text/chat` is OpenAI-shaped already (its SSE chunks
//! too); `/text/generation` answers `results[0]` with `generated_text`, token counts and a
//! `stop_reason`, streamed as SSE events of the same shape; embeddings as `results`.

use llmgate_types::{ChatCompletionChunk, ChatCompletionResponse, Delta, Usage};
use serde_json::{json, Value};

use crate::providers::http::EventTranslator;
use crate::{parse_rfc3339, ErrorKind, LlmError};

/// LiteLLM's `map_finish_reason` for watsonx's stop reasons.
pub fn finish_reason(stop: &str) -> &str {
    match stop {
        "eos_token" | "stop_sequence" | "stop" => "stop",
        "max_tokens" | "token_limit" | "length" => "length",
        "time_limit" | "cancelled" | "error" => "stop",
        other => other,
    }
}

/// `created_at` (ISO 8601, `Z` or an offset) as epoch seconds.
fn created(v: &Value) -> u64 {
    v["created_at"]
        .as_str()
        .and_then(parse_rfc3339)
        .unwrap_or_else(crate::now_secs)
}

fn invalid(provider: &str, v: &Value) -> LlmError {
    LlmError::new(
        ErrorKind::InternalServer,
        format!("Error: Invalid response from Watsonx.ai API: {v}"),
    )
    .with_provider(provider)
}

/// A `/text/chat` answer: OpenAI's shape, `model` the caller's.
pub fn chat(v: Value, model: &str) -> Result<ChatCompletionResponse, LlmError> {
    let mut r: ChatCompletionResponse =
        serde_json::from_value(v.clone()).map_err(|_| invalid(super::CHAT, &v))?;
    r.model = model.to_string();
    if r.created == 0 {
        r.created = created(&v);
    }
    Ok(r)
}

/// A `/text/generation` answer.
pub fn text(v: &Value, model: &str) -> Result<ChatCompletionResponse, LlmError> {
    let r = v["results"]
        .get(0)
        .filter(|r| r.is_object())
        .ok_or_else(|| invalid(super::TEXT, v))?;
    let p = r["input_token_count"].as_u64().unwrap_or(0);
    let c = r["generated_token_count"].as_u64().unwrap_or(0);
    serde_json::from_value(json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
        "object": "chat.completion",
        "created": created(v),
        "model": model,
        "choices": [{"index": 0,
            "message": {"role": "assistant", "content": r["generated_text"].as_str().unwrap_or("")},
            "finish_reason": finish_reason(r["stop_reason"].as_str().unwrap_or("stop"))}],
        "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
    }))
    .map_err(|_| invalid(super::TEXT, v))
}

/// `/text/embeddings` vectors and `input_token_count`.
pub fn embedding(v: &Value) -> Result<(Vec<Value>, u64), LlmError> {
    let results = v["results"]
        .as_array()
        .ok_or_else(|| invalid(super::CHAT, v))?;
    let vectors = results
        .iter()
        .map(|r| {
            r.get("embedding")
                .cloned()
                .ok_or_else(|| invalid(super::CHAT, v))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((vectors, v["input_token_count"].as_u64().unwrap_or(0)))
}

/// `/text/chat_stream`: each event an OpenAI chunk; usage kept for the end (sent when asked).
pub struct ChatStream {
    model: String,
    include_usage: bool,
    usage: Option<Usage>,
    id: String,
    created: u64,
}

impl ChatStream {
    pub fn new(model: &str, include_usage: bool) -> Self {
        ChatStream {
            model: model.to_string(),
            include_usage,
            usage: None,
            id: String::new(),
            created: 0,
        }
    }
}

impl EventTranslator for ChatStream {
    fn on_event(
        &mut self,
        _event: Option<&str>,
        data: &Value,
    ) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        if data.get("errors").is_some() {
            let status = data["status_code"].as_u64().unwrap_or(500) as u16;
            return Err(LlmError::from_upstream(
                status,
                Vec::new(),
                data.to_string().as_bytes(),
                super::CHAT,
            ));
        }
        let mut c: ChatCompletionChunk =
            serde_json::from_value(data.clone()).map_err(|_| invalid(super::CHAT, data))?;
        c.model = self.model.clone();
        if c.created == 0 {
            c.created = created(data);
        }
        self.id = c.id.clone();
        self.created = c.created;
        if let Some(u) = c.usage.take() {
            self.usage = Some(u);
        }
        Ok(if c.choices.is_empty() {
            Vec::new()
        } else {
            vec![c]
        })
    }

    fn on_end(&mut self) -> Vec<ChatCompletionChunk> {
        match (self.include_usage, self.usage.take()) {
            (true, Some(u)) => vec![ChatCompletionChunk {
                id: self.id.clone(),
                object: "chat.completion.chunk".into(),
                created: self.created,
                model: self.model.clone(),
                usage: Some(u),
                ..Default::default()
            }],
            _ => Vec::new(),
        }
    }
}

/// `/text/generation_stream`: each event's `results[0].generated_text` is the next piece;
/// a `stop_reason` other than `not_finished` ends the answer; the counts are the usage.
pub struct TextStream {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    started: bool,
    usage: Option<Usage>,
}

impl TextStream {
    pub fn new(model: &str, include_usage: bool) -> Self {
        TextStream {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            created: crate::now_secs(),
            model: model.to_string(),
            include_usage,
            started: false,
            usage: None,
        }
    }
}

impl EventTranslator for TextStream {
    fn on_event(
        &mut self,
        _event: Option<&str>,
        data: &Value,
    ) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        if data.get("errors").is_some() {
            let status = data["status_code"].as_u64().unwrap_or(500) as u16;
            return Err(LlmError::from_upstream(
                status,
                Vec::new(),
                data.to_string().as_bytes(),
                super::TEXT,
            ));
        }
        let Some(r) = data["results"].get(0) else {
            return Ok(Vec::new());
        };
        let text = r["generated_text"].as_str().unwrap_or("");
        let stop = r["stop_reason"].as_str().unwrap_or("not_finished");
        let finish = (stop != "not_finished").then(|| finish_reason(stop));
        if let (Some(p), Some(c)) = (
            r["input_token_count"].as_u64(),
            r["generated_token_count"].as_u64(),
        ) {
            self.usage = Some(Usage::new(p, c));
        }
        if text.is_empty() && finish.is_none() {
            return Ok(Vec::new());
        }
        let delta = Delta {
            role: (!self.started).then(|| "assistant".to_string()),
            content: (!text.is_empty()).then(|| text.to_string()),
            ..Default::default()
        };
        self.started = true;
        Ok(vec![ChatCompletionChunk::single(
            &self.id,
            self.created,
            &self.model,
            delta,
            finish,
        )])
    }

    fn on_end(&mut self) -> Vec<ChatCompletionChunk> {
        match (self.include_usage, self.usage.take()) {
            (true, Some(u)) => vec![ChatCompletionChunk {
                id: self.id.clone(),
                object: "chat.completion.chunk".into(),
                created: self.created,
                model: self.model.clone(),
                usage: Some(u),
                ..Default::default()
            }],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_answers_and_timestamps() {
        let v = json!({"model_id": "ibm/granite-13b-chat-v2", "created_at": "2024-05-01T12:00:00.123Z",
            "results": [{"generated_text": "Hello", "generated_token_count": 2,
                "input_token_count": 7, "stop_reason": "max_tokens"}]});
        let r = text(&v, "ibm/granite-13b-chat-v2").unwrap();
        assert_eq!(r.created, 1_714_564_800);
        assert_eq!(r.choices[0].finish_reason.as_deref(), Some("length"));
        let u = r.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (7, 2, 9)
        );
        assert!(text(&json!({"x": 1}), "m").is_err());
        assert_eq!(
            parse_rfc3339("2024-05-01T14:00:00+02:00"),
            Some(1_714_564_800)
        );
    }

    #[test]
    fn text_stream_pieces_then_usage() {
        let mut s = TextStream::new("m", true);
        let ev = |t: &str, stop: &str, n: u64| {
            json!({"results": [{"generated_text": t, "stop_reason": stop,
                "input_token_count": 5, "generated_token_count": n}]})
        };
        let a = s.on_event(None, &ev("Hel", "not_finished", 1)).unwrap();
        let b = s.on_event(None, &ev("lo", "eos_token", 2)).unwrap();
        assert_eq!(a[0].choices[0].delta.role.as_deref(), Some("assistant"));
        assert_eq!(b[0].choices[0].delta.content.as_deref(), Some("lo"));
        assert_eq!(b[0].choices[0].finish_reason.as_deref(), Some("stop"));
        let end = s.on_end();
        assert_eq!(end[0].usage.as_ref().unwrap().total_tokens, 7);
    }

    #[test]
    fn chat_stream_keeps_usage_for_the_end() {
        let mut s = ChatStream::new("watsonx/ibm/granite", true);
        let c = s
            .on_event(
                None,
                &json!({"id": "x", "model_id": "ibm/granite", "created": 3, "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": null}]}),
            )
            .unwrap();
        assert_eq!(c[0].model, "watsonx/ibm/granite");
        let last = s
            .on_event(
                None,
                &json!({"id": "x", "created": 3, "choices": [], "usage":
                    {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}}),
            )
            .unwrap();
        assert!(last.is_empty());
        assert_eq!(s.on_end()[0].usage.as_ref().unwrap().total_tokens, 5);
        let e = s
            .on_event(
                None,
                &json!({"errors": [{"code": "x", "message": "boom"}], "status_code": 429}),
            )
            .unwrap_err();
        assert_eq!(e.status, 429);
    }
}
