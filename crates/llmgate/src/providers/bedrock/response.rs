//! Bedrock Converse answers and ConverseStream events → OpenAI chat responses and chunks.

use llmgate_types::{
    ChatCompletionChunk, ChatCompletionResponse, Delta, FunctionCallDelta, ToolCallDelta, Usage,
};
use serde_json::{json, Value};

use crate::providers::anthropic::response::{usage as anthropic_usage, Thought};
use crate::LlmError;

pub fn finish_reason(stop: &str) -> &'static str {
    match stop {
        "tool_use" => "tool_calls",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop",
    }
}

/// Converse usage in OpenAI's convention (cache reads and writes counted in the prompt, as the
/// Anthropic adapter does, so the catalog prices each once).
pub fn usage(u: &Value, thinking: &str) -> Usage {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    let shaped = json!({
        "input_tokens": n("inputTokens"),
        "output_tokens": n("outputTokens"),
        "cache_read_input_tokens": n("cacheReadInputTokens"),
        "cache_creation_input_tokens": n("cacheWriteInputTokens"),
    });
    anthropic_usage(
        &shaped,
        &Thought {
            text: thinking,
            any_block: !thinking.is_empty(),
        },
    )
}

/// The client's name for a tool Bedrock names `name` (`names` from `request::original_names`).
fn client_name<'a>(names: &'a [(String, String)], name: &'a str) -> &'a str {
    names
        .iter()
        .find(|(b, _)| b == name)
        .map_or(name, |(_, o)| o.as_str())
}

/// A Converse response as an OpenAI chat completion.
pub fn translate(
    v: &Value,
    model: &str,
    created: u64,
    names: &[(String, String)],
) -> ChatCompletionResponse {
    let mut text = String::new();
    let mut thinking = String::new();
    let mut blocks = Vec::new();
    let mut calls = Vec::new();
    for block in v["output"]["message"]["content"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(t) = block["text"].as_str() {
            text.push_str(t);
        } else if let Some(tu) = block.get("toolUse") {
            calls.push(json!({
                "id": tu["toolUseId"],
                "type": "function",
                "function": {
                    "name": client_name(names, tu["name"].as_str().unwrap_or("")),
                    "arguments": serde_json::to_string(&tu["input"]).unwrap_or_default(),
                },
            }));
        } else if let Some(rc) = block.get("reasoningContent") {
            let rt = &rc["reasoningText"];
            if let Some(t) = rt["text"].as_str() {
                thinking.push_str(t);
            }
            blocks.push(
                json!({"type": "thinking", "thinking": rt["text"], "signature": rt["signature"]}),
            );
        }
    }
    let stop = v["stopReason"].as_str().unwrap_or("end_turn");
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) }});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    if !thinking.is_empty() {
        message["reasoning_content"] = json!(thinking);
        message["thinking_blocks"] = Value::Array(blocks);
    }
    let mut out: ChatCompletionResponse = serde_json::from_value(json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(stop)}],
    }))
    .unwrap_or_default();
    out.usage = Some(usage(&v["usage"], &thinking));
    out
}

/// ConverseStream events, one at a time, → OpenAI chunks.
pub struct StreamState {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    started: bool,
    /// Converse's content block index of each tool call → its OpenAI tool index.
    tools: Vec<(u64, u32)>,
    thinking: String,
    /// Bedrock's tool names → the client's.
    names: Vec<(String, String)>,
}

impl StreamState {
    pub fn new(model: &str, created: u64, include_usage: bool) -> Self {
        StreamState {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            model: model.to_string(),
            created,
            include_usage,
            started: false,
            tools: Vec::new(),
            thinking: String::new(),
            names: Vec::new(),
        }
    }

    pub fn with_names(mut self, names: Vec<(String, String)>) -> Self {
        self.names = names;
        self
    }

    fn chunk(&mut self, mut delta: Delta, finish: Option<&str>) -> ChatCompletionChunk {
        if !self.started {
            self.started = true;
            delta.role = Some("assistant".into());
        }
        ChatCompletionChunk::single(&self.id, self.created, &self.model, delta, finish)
    }

    fn tool_index(&mut self, block: u64) -> u32 {
        if let Some((_, i)) = self.tools.iter().find(|(b, _)| *b == block) {
            return *i;
        }
        let i = self.tools.len() as u32;
        self.tools.push((block, i));
        i
    }

    /// One `event` message: its `:event-type` and JSON payload.
    pub fn on_event(
        &mut self,
        kind: &str,
        v: &Value,
    ) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        let mut out = Vec::new();
        match kind {
            "messageStart" => out.push(self.chunk(Delta::default(), None)),
            "contentBlockStart" => {
                if let Some(tu) = v["start"].get("toolUse") {
                    let index = self.tool_index(v["contentBlockIndex"].as_u64().unwrap_or(0));
                    let delta = Delta {
                        tool_calls: Some(vec![ToolCallDelta {
                            index,
                            id: tu["toolUseId"].as_str().map(str::to_string),
                            kind: Some("function".into()),
                            function: Some(FunctionCallDelta {
                                name: tu["name"]
                                    .as_str()
                                    .map(|n| client_name(&self.names, n).to_string()),
                                arguments: Some(String::new()),
                            }),
                            extra: Default::default(),
                        }]),
                        ..Default::default()
                    };
                    out.push(self.chunk(delta, None));
                }
            }
            "contentBlockDelta" => {
                let d = &v["delta"];
                if let Some(t) = d["text"].as_str() {
                    let delta = Delta {
                        content: Some(t.to_string()),
                        ..Default::default()
                    };
                    out.push(self.chunk(delta, None));
                } else if let Some(tu) = d.get("toolUse") {
                    let index = self.tool_index(v["contentBlockIndex"].as_u64().unwrap_or(0));
                    let delta = Delta {
                        tool_calls: Some(vec![ToolCallDelta {
                            index,
                            id: None,
                            kind: None,
                            function: Some(FunctionCallDelta {
                                name: None,
                                arguments: Some(tu["input"].as_str().unwrap_or("").to_string()),
                            }),
                            extra: Default::default(),
                        }]),
                        ..Default::default()
                    };
                    out.push(self.chunk(delta, None));
                } else if let Some(rc) = d.get("reasoningContent") {
                    let mut delta = Delta::default();
                    if let Some(t) = rc["text"].as_str() {
                        self.thinking.push_str(t);
                        delta.reasoning_content = Some(t.to_string());
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{"type": "thinking", "thinking": t}]),
                        );
                    } else if let Some(s) = rc["signature"].as_str() {
                        delta.extra.insert(
                            "thinking_blocks".into(),
                            json!([{"type": "thinking", "thinking": "", "signature": s}]),
                        );
                    }
                    out.push(self.chunk(delta, None));
                }
            }
            "messageStop" => {
                let f = finish_reason(v["stopReason"].as_str().unwrap_or("end_turn"));
                out.push(self.chunk(Delta::default(), Some(f)));
            }
            "metadata" if self.include_usage && !v["usage"].is_null() => {
                let mut c = ChatCompletionChunk::single(
                    &self.id,
                    self.created,
                    &self.model,
                    Delta::default(),
                    None,
                );
                c.choices.clear();
                c.usage = Some(usage(&v["usage"], &self.thinking));
                out.push(c);
            }
            // contentBlockStop and events a newer Bedrock adds carry nothing for OpenAI's shape.
            _ => {}
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_with_tools_thinking_and_cache_usage() {
        let v = json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
                {"text": "calling"},
                {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15, "cacheReadInputTokens": 3, "cacheWriteInputTokens": 2}
        });
        let names = vec![("get_weather".to_string(), "get.weather".to_string())];
        let r = translate(&v, "m", 1, &names);
        let c = &r.choices[0];
        assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
        let call = &c.message.tool_calls.as_ref().unwrap()[0];
        assert_eq!(call.function.name, "get.weather");
        assert_eq!(call.function.arguments, "{\"city\":\"Paris\"}");
        assert_eq!(c.message.reasoning_content.as_deref(), Some("hmm"));
        let u = r.usage.unwrap();
        assert_eq!(u.prompt_tokens, 15);
        assert_eq!(u.completion_tokens, 5);
        assert_eq!(u.cached_tokens(), 3);
        assert_eq!(u.extra["cache_creation_input_tokens"], 2);
    }

    #[test]
    fn stream_events_become_chunks() {
        let mut s = StreamState::new("m", 1, true);
        let mut all = Vec::new();
        for (k, v) in [
            ("messageStart", json!({"role": "assistant"})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "Hi"}}),
            ),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{}"}}}),
            ),
            ("messageStop", json!({"stopReason": "tool_use"})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 4, "outputTokens": 2}}),
            ),
        ] {
            all.extend(s.on_event(k, &v).unwrap());
        }
        assert_eq!(all[0].choices[0].delta.role.as_deref(), Some("assistant"));
        assert_eq!(all[1].choices[0].delta.content.as_deref(), Some("Hi"));
        let tc = &all[2].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        assert_eq!((tc.index, tc.id.as_deref()), (0, Some("t1")));
        assert_eq!(
            all[4].choices[0].finish_reason.as_deref(),
            Some("tool_calls")
        );
        assert_eq!(all[5].usage.as_ref().unwrap().total_tokens, 6);
    }
}
