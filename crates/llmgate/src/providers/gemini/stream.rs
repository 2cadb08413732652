//! Gemini's streamed `GenerateContentResponse`s (`alt=sse`) → OpenAI chat chunks.

use llmgate_types::{ChatCompletionChunk, Delta, FunctionCallDelta, ToolCallDelta};
use serde_json::{json, Value};

use super::response::{
    annotations, args, call_extra, call_id, finish_reason, metadata, served_model, signatures,
    usage,
};
use crate::LlmError;

pub struct StreamState {
    /// The provider errors carry (`gemini`, `vertex_ai`).
    provider: &'static str,
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    started: bool,
    next_tool: u32,
    usage: Value,
    /// The grounding metadata of the event that carried the last usage (search-grounded
    /// answers price their tool-use tokens apart).
    grounding: Vec<Value>,
    finished: bool,
}

impl StreamState {
    pub fn new(provider: &'static str, model: &str, created: u64, include_usage: bool) -> Self {
        StreamState {
            provider,
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            model: model.to_string(),
            created,
            include_usage,
            started: false,
            next_tool: 0,
            usage: Value::Null,
            grounding: Vec::new(),
            finished: false,
        }
    }

    fn chunk(&self, delta: Delta, finish: Option<&str>) -> ChatCompletionChunk {
        ChatCompletionChunk::single(&self.id, self.created, &self.model, delta, finish)
    }

    /// One streamed response object; an `error` object is an error inside the stream.
    pub fn on_event(&mut self, v: &Value) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        if let Some(err) = v.get("error") {
            let status = err["code"]
                .as_u64()
                .filter(|c| (400..600).contains(c))
                .unwrap_or(500) as u16;
            return Err(super::errors::litellm_class(LlmError::from_upstream(
                status,
                vec![],
                v.to_string().as_bytes(),
                self.provider,
            )));
        }
        let mut out = Vec::new();
        // The event's grounding, safety and citation metadata (usage prices grounding apart).
        let meta = metadata(v["candidates"].as_array().into_iter().flatten());
        if !v["usageMetadata"].is_null() {
            self.usage = v["usageMetadata"].clone();
            self.grounding = meta[0].1.clone();
        }
        if let Some(id) = v["responseId"].as_str() {
            id.clone_into(&mut self.id);
        }
        if let Some(m) = served_model(v) {
            self.model = m.to_string();
        }
        let cand = &v["candidates"][0];
        let mut saw_call = false;
        for part in cand["content"]["parts"].as_array().into_iter().flatten() {
            let mut delta = Delta::default();
            if !self.started {
                delta.role = Some("assistant".into());
                self.started = true;
            }
            if part.get("functionCall").is_some() {
                saw_call = true;
                let n = self.next_tool;
                self.next_tool += 1;
                delta.tool_calls = Some(vec![ToolCallDelta {
                    index: n,
                    id: Some(call_id(part)),
                    kind: Some("function".into()),
                    function: Some(FunctionCallDelta {
                        name: part["functionCall"]["name"].as_str().map(str::to_string),
                        arguments: Some(args(part)),
                    }),
                    // As LiteLLM: the call's own signature on the call.
                    extra: call_extra(part),
                }]);
            } else if let Some(t) = part["text"].as_str() {
                if part["thought"] == true {
                    delta.reasoning_content = Some(t.to_string());
                } else {
                    delta.content = Some(t.to_string());
                }
            } else {
                continue;
            }
            if let Some(sigs) = signatures(std::slice::from_ref(part)) {
                // As LiteLLM: the delta carrying a signed part names its signature.
                delta.extra.insert(
                    "provider_specific_fields".into(),
                    json!({"thought_signatures": sigs}),
                );
            }
            out.push(self.chunk(delta, None));
        }
        let cites = annotations(cand);
        if let Some(first) = out.first_mut().filter(|_| !cites.is_empty()) {
            first.choices[0]
                .delta
                .extra
                .insert("annotations".into(), Value::Array(cites));
        }
        let blocked = v["candidates"].as_array().is_none_or(|c| c.is_empty())
            && v["promptFeedback"]["blockReason"].is_string();
        if blocked && !self.started {
            // As LiteLLM: the blocked prompt's assistant turn opens, then ends filtered.
            self.started = true;
            out.push(self.chunk(
                Delta {
                    role: Some("assistant".into()),
                    ..Default::default()
                },
                None,
            ));
        }
        let finish = cand["finishReason"]
            .as_str()
            .or(blocked.then_some("SAFETY"))
            .map(|reason| {
                let f = finish_reason(reason);
                if f == "stop" && (saw_call || self.next_tool > 0) {
                    "tool_calls"
                } else {
                    f
                }
            });
        if let Some(f) = finish {
            out.push(self.chunk(Delta::default(), Some(f)));
            self.finished = true;
        }
        // Grounding, safety and citation metadata on the event's chunks (a flagged answer's
        // only chunk is its finish).
        let meta: Vec<_> = meta.into_iter().filter(|(_, m)| !m.is_empty()).collect();
        if !meta.is_empty() {
            if out.is_empty() {
                out.push(self.chunk(Delta::default(), None));
            }
            for c in &mut out {
                for (k, m) in &meta {
                    c.extra.insert((*k).into(), Value::Array(m.clone()));
                }
            }
        }
        Ok(out)
    }

    /// After the last event: the usage chunk, when asked for.
    pub fn finish(&mut self) -> Vec<ChatCompletionChunk> {
        let mut out = Vec::new();
        if !self.finished {
            out.push(self.chunk(Delta::default(), Some("stop")));
        }
        if self.include_usage {
            let mut c = self.chunk(Delta::default(), None);
            c.choices.clear();
            c.usage = Some(usage(&self.usage, &self.grounding));
            out.push(c);
        }
        out
    }
}

impl crate::providers::http::EventTranslator for StreamState {
    fn on_event(
        &mut self,
        _event: Option<&str>,
        data: &Value,
    ) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        StreamState::on_event(self, data)
    }

    fn on_end(&mut self) -> Vec<ChatCompletionChunk> {
        self.finish()
    }
}
