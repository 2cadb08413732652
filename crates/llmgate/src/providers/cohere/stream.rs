//! Cohere Chat v2 SSE events → OpenAI chunks, one event at a time: `message-start` (role),
//! `content-delta` (text), `tool-call-start`/`-delta` (a call, then its argument fragments;
//! `-end` adds nothing), `tool-plan-delta` and `citation-start` (LiteLLM's
//! `provider_specific_fields`), `message-end` (finish reason, then the usage chunk when asked).

use llmgate_types::{ChatCompletionChunk, Delta, FunctionCallDelta, ToolCallDelta, Usage};
use serde_json::{json, Value};

use super::response::{finish_reason, usage};
use crate::providers::http::EventTranslator;
use crate::LlmError;

pub struct StreamState {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    started: bool,
    saw_tool_call: bool,
}

impl StreamState {
    pub fn new(model: &str, created: u64, include_usage: bool) -> Self {
        StreamState {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            model: model.to_string(),
            created,
            include_usage,
            started: false,
            saw_tool_call: false,
        }
    }

    fn chunk(&mut self, mut delta: Delta, finish: Option<&str>) -> ChatCompletionChunk {
        if !self.started {
            self.started = true;
            delta.role = Some("assistant".into());
        }
        ChatCompletionChunk::single(&self.id, self.created, &self.model, delta, finish)
    }

    fn provider_fields(&mut self, fields: Value) -> ChatCompletionChunk {
        let mut delta = Delta::default();
        delta
            .extra
            .insert("provider_specific_fields".into(), fields);
        self.chunk(delta, None)
    }

    fn tool_delta(&mut self, index: u32, call: &Value, start: bool) -> ChatCompletionChunk {
        self.saw_tool_call = true;
        let f = &call["function"];
        let arguments = match &f["arguments"] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let delta = Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index,
                id: start
                    .then(|| call["id"].as_str().map(str::to_string))
                    .flatten(),
                kind: start.then(|| "function".to_string()),
                function: Some(FunctionCallDelta {
                    name: start
                        .then(|| f["name"].as_str().map(str::to_string))
                        .flatten(),
                    arguments: Some(arguments),
                }),
                extra: Default::default(),
            }]),
            ..Default::default()
        };
        self.chunk(delta, None)
    }

    fn usage_chunk(&self, u: Usage) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            usage: Some(u),
            ..Default::default()
        }
    }
}

impl EventTranslator for StreamState {
    fn on_event(
        &mut self,
        event: Option<&str>,
        v: &Value,
    ) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        let kind = v["type"].as_str().or(event).unwrap_or_default();
        let message = &v["delta"]["message"];
        let index = v["index"].as_u64().unwrap_or(0) as u32;
        let mut out = Vec::new();
        match kind {
            "message-start" => out.push(self.chunk(Delta::default(), None)),
            "content-delta" => {
                let text = match &message["content"] {
                    Value::String(s) => s.as_str(),
                    c => c["text"].as_str().unwrap_or_default(),
                };
                if !text.is_empty() {
                    let delta = Delta {
                        content: Some(text.to_string()),
                        ..Default::default()
                    };
                    out.push(self.chunk(delta, None));
                }
            }
            "tool-call-start" => out.push(self.tool_delta(index, &message["tool_calls"], true)),
            "tool-call-delta" => out.push(self.tool_delta(index, &message["tool_calls"], false)),
            "tool-plan-delta" => {
                if let Some(plan) = message["tool_plan"].as_str().filter(|p| !p.is_empty()) {
                    out.push(self.provider_fields(json!({"tool_plan": plan})));
                }
            }
            "citation-start" => {
                let c = &message["citations"];
                if !c.is_null() {
                    let list = if c.is_array() { c.clone() } else { json!([c]) };
                    out.push(self.provider_fields(json!({"citations": list})));
                }
            }
            "message-end" => {
                let d = &v["delta"];
                if let Some(e) = d["error"].as_str().filter(|e| !e.is_empty()) {
                    return Err(LlmError::new(
                        crate::ErrorKind::InternalServer,
                        format!("Cohere streaming error: {e}"),
                    ));
                }
                let mut finish = finish_reason(d["finish_reason"].as_str().unwrap_or("COMPLETE"))?;
                if self.saw_tool_call {
                    finish = "tool_calls";
                }
                out.push(self.chunk(Delta::default(), Some(finish)));
                if self.include_usage {
                    out.push(self.usage_chunk(usage(&d["usage"])));
                }
            }
            _ => {}
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[Value], include_usage: bool) -> Vec<ChatCompletionChunk> {
        let mut s = StreamState::new("command-r-08-2024", 1, include_usage);
        events
            .iter()
            .flat_map(|e| s.on_event(e["type"].as_str(), e).unwrap())
            .collect()
    }

    #[test]
    fn text_then_finish_then_usage() {
        let out = run(
            &[
                json!({"type": "message-start", "id": "m1", "delta": {"message": {"role": "assistant", "content": []}}}),
                json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
                json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hel"}}}}),
                json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "lo"}}}}),
                json!({"type": "citation-start", "index": 0, "delta": {"message": {"citations": {"start": 0, "end": 5, "text": "Hello", "sources": []}}}}),
                json!({"type": "content-end", "index": 0}),
                json!({"type": "message-end", "delta": {"finish_reason": "MAX_TOKENS",
                    "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 2}, "tokens": {"input_tokens": 60, "output_tokens": 2}}}}),
            ],
            true,
        );
        assert_eq!(out[0].choices[0].delta.role.as_deref(), Some("assistant"));
        let text: String = out
            .iter()
            .flat_map(|c| c.choices.iter().filter_map(|ch| ch.delta.content.clone()))
            .collect();
        assert_eq!(text, "Hello");
        let cite = &out[3].choices[0].delta.extra["provider_specific_fields"]["citations"];
        assert_eq!(cite[0]["text"], "Hello");
        assert_eq!(out[4].choices[0].finish_reason.as_deref(), Some("length"));
        let u = out[5].usage.as_ref().unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (60, 2));
        assert!(out[5].choices.is_empty());
        assert!(out.iter().all(|c| c.id == out[0].id));
        assert_eq!(
            run(&[json!({"type": "message-end", "delta": {}})], false).len(),
            1
        );
    }

    #[test]
    fn tool_calls_stream_as_openai_deltas() {
        let out = run(
            &[
                json!({"type": "message-start", "delta": {"message": {"role": "assistant"}}}),
                json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "Look up."}}}),
                json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "get_weather_x", "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}}),
                json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "{\"city\":"}}}}}),
                json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "\"Paris\"}"}}}}}),
                json!({"type": "tool-call-end", "index": 0}),
                json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL"}}),
            ],
            false,
        );
        assert_eq!(
            out[1].choices[0].delta.extra["provider_specific_fields"]["tool_plan"],
            "Look up."
        );
        let start = &out[2].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        assert_eq!(start.id.as_deref(), Some("get_weather_x"));
        assert_eq!(
            start.function.as_ref().unwrap().name.as_deref(),
            Some("get_weather")
        );
        let args: String = out
            .iter()
            .flat_map(|c| c.choices.iter())
            .flat_map(|ch| ch.delta.tool_calls.iter().flatten())
            .filter_map(|t| t.function.as_ref()?.arguments.clone())
            .collect();
        assert_eq!(args, "{\"city\":\"Paris\"}");
        let last = out.last().unwrap();
        assert_eq!(last.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn an_error_end_is_an_error() {
        let mut s = StreamState::new("m", 1, false);
        let e = s
            .on_event(
                None,
                &json!({"type": "message-end", "delta": {"finish_reason": "ERROR"}}),
            )
            .unwrap_err();
        assert_eq!(e.status, 500);
    }
}
