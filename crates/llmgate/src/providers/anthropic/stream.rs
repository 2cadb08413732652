//! Anthropic's SSE events → OpenAI chat chunks, one event at a time.

use llmgate_types::{ChatCompletionChunk, Delta, FunctionCallDelta, ToolCallDelta, Usage};
use serde_json::{json, Value};

use super::request::JSON_TOOL;
use super::response::{finish_reason, usage, Thought};
use crate::LlmError;

/// What the translation remembers between events.
pub struct StreamState {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    /// Anthropic block index → (OpenAI tool-call index, is the forced JSON tool).
    tool_blocks: Vec<(u64, u32, bool)>,
    next_tool: u32,
    usage: Value,
    finish: Option<&'static str>,
    /// The thinking text so far, for `reasoning_tokens` (LiteLLM counts it).
    reasoning: String,
    thinking_block: bool,
    /// How many thinking blocks have started (LiteLLM numbers streamed thinking blocks so).
    thinking_blocks: u64,
}

impl StreamState {
    pub fn new(created: u64, include_usage: bool) -> Self {
        StreamState {
            id: String::new(),
            model: String::new(),
            created,
            include_usage,
            tool_blocks: Vec::new(),
            next_tool: 0,
            usage: json!({}),
            finish: None,
            reasoning: String::new(),
            thinking_block: false,
            thinking_blocks: 0,
        }
    }

    fn chunk(&self, delta: Delta, finish: Option<&str>) -> ChatCompletionChunk {
        ChatCompletionChunk::single(&self.id, self.created, &self.model, delta, finish)
    }

    fn tool(&self, block: u64) -> Option<(u32, bool)> {
        self.tool_blocks
            .iter()
            .find(|(b, _, _)| *b == block)
            .map(|(_, i, j)| (*i, *j))
    }

    /// Translates one event; `Err` for an `error` event (an error inside the stream).
    pub fn on_event(
        &mut self,
        event: &str,
        data: &Value,
    ) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        let kind = data["type"].as_str().unwrap_or(event);
        let mut out = Vec::new();
        match kind {
            "message_start" => {
                let m = &data["message"];
                self.id = m["id"].as_str().unwrap_or("").to_string();
                self.model = m["model"].as_str().unwrap_or("").to_string();
                merge(&mut self.usage, &m["usage"]);
                out.push(self.chunk(
                    Delta {
                        role: Some("assistant".into()),
                        content: Some(String::new()),
                        ..Default::default()
                    },
                    None,
                ));
            }
            "content_block_start" => {
                let idx = data["index"].as_u64().unwrap_or(0);
                let block = &data["content_block"];
                if block["type"] == "thinking" || block["type"] == "redacted_thinking" {
                    self.thinking_block = true;
                    self.thinking_blocks += 1;
                }
                if block["type"] == "redacted_thinking" {
                    let index = self.thinking_blocks - 1;
                    out.push(self.chunk(
                        Delta {
                            extra: thinking_block(
                                json!({"type": "redacted_thinking", "data": block["data"], "index": index}),
                            ),
                            ..Default::default()
                        },
                        None,
                    ));
                }
                if block["type"] == "tool_use" {
                    let is_json = block["name"] == JSON_TOOL;
                    let n = self.next_tool;
                    if !is_json {
                        self.next_tool += 1;
                        out.push(self.chunk(
                            Delta {
                                tool_calls: Some(vec![ToolCallDelta {
                                    index: n,
                                    id: block["id"].as_str().map(str::to_string),
                                    kind: Some("function".into()),
                                    function: Some(FunctionCallDelta {
                                        name: block["name"].as_str().map(str::to_string),
                                        arguments: Some(String::new()),
                                    }),
                                    ..Default::default()
                                }]),
                                ..Default::default()
                            },
                            None,
                        ));
                    }
                    self.tool_blocks.push((idx, n, is_json));
                }
            }
            "content_block_delta" => {
                let idx = data["index"].as_u64().unwrap_or(0);
                let d = &data["delta"];
                let thinking_index = self.thinking_blocks.saturating_sub(1);
                let delta = match d["type"].as_str() {
                    Some("text_delta") => Some(Delta {
                        content: d["text"].as_str().map(str::to_string),
                        ..Default::default()
                    }),
                    Some("thinking_delta") => Some({
                        self.reasoning
                            .push_str(d["thinking"].as_str().unwrap_or(""));
                        Delta {
                            reasoning_content: d["thinking"].as_str().map(str::to_string),
                            extra: thinking_block(
                                json!({"type": "thinking", "thinking": d["thinking"], "index": thinking_index}),
                            ),
                            ..Default::default()
                        }
                    }),
                    Some("signature_delta") => Some(Delta {
                        extra: thinking_block(
                            json!({"type": "thinking", "thinking": "", "signature": d["signature"], "index": thinking_index}),
                        ),
                        ..Default::default()
                    }),
                    Some("input_json_delta") => {
                        let partial = d["partial_json"].as_str().unwrap_or("").to_string();
                        match self.tool(idx) {
                            // The forced JSON tool's input is the answer's text.
                            Some((_, true)) => Some(Delta {
                                content: Some(partial),
                                ..Default::default()
                            }),
                            Some((n, false)) => Some(Delta {
                                tool_calls: Some(vec![ToolCallDelta {
                                    index: n,
                                    function: Some(FunctionCallDelta {
                                        name: None,
                                        arguments: Some(partial),
                                    }),
                                    ..Default::default()
                                }]),
                                ..Default::default()
                            }),
                            None => None,
                        }
                    }
                    _ => None,
                };
                if let Some(delta) = delta {
                    out.push(self.chunk(delta, None));
                }
            }
            "message_delta" => {
                merge(&mut self.usage, &data["usage"]);
                if let Some(stop) = data["delta"]["stop_reason"].as_str() {
                    let json_only =
                        self.tool_blocks.iter().all(|(_, _, j)| *j) && !self.tool_blocks.is_empty();
                    let f = finish_reason(stop);
                    self.finish = Some(if f == "tool_calls" && json_only {
                        "stop"
                    } else {
                        f
                    });
                }
            }
            "message_stop" => {
                out.push(self.chunk(Delta::default(), Some(self.finish.unwrap_or("stop"))));
                if self.include_usage {
                    let mut c = self.chunk(Delta::default(), None);
                    c.choices.clear();
                    c.usage = Some(self.usage());
                    out.push(c);
                }
            }
            "error" => {
                let status = match data["error"]["type"].as_str() {
                    Some("overloaded_error") => 529,
                    Some("rate_limit_error") => 429,
                    Some("invalid_request_error") => 400,
                    Some("authentication_error") => 401,
                    Some("permission_error") => 403,
                    Some("not_found_error") => 404,
                    Some("request_too_large") => 413,
                    Some("timeout_error") => 408,
                    _ => 500,
                };
                return Err(LlmError::from_upstream(
                    status,
                    vec![],
                    data.to_string().as_bytes(),
                    "anthropic",
                ));
            }
            _ => {} // ping, content_block_stop
        }
        Ok(out)
    }

    pub fn usage(&self) -> Usage {
        usage(
            &self.usage,
            &Thought {
                text: &self.reasoning,
                any_block: self.thinking_block,
            },
        )
    }
}

/// A thinking delta's block, also under `provider_specific_fields` as LiteLLM sends it.
fn thinking_block(block: Value) -> serde_json::Map<String, Value> {
    serde_json::Map::from_iter([
        ("thinking_blocks".to_string(), json!([block])),
        (
            "provider_specific_fields".to_string(),
            json!({"thinking_blocks": [block]}),
        ),
    ])
}

/// Later usage events carry the running totals of some fields only.
fn merge(into: &mut Value, from: &Value) {
    if let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) {
        for (k, v) in from {
            if !v.is_null() {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

impl crate::providers::http::EventTranslator for StreamState {
    fn on_event(
        &mut self,
        event: Option<&str>,
        data: &Value,
    ) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        StreamState::on_event(self, event.unwrap_or(""), data)
    }
}
