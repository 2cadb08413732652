//! Anthropic's Messages API in front of every provider: the request, answer and stream types
//! of `/v1/messages`, passed natively to Anthropic-family upstreams (`native.rs`) and
//! translated through the chat format for every other one (`to_chat.rs`, `from_chat.rs`,
//! `stream.rs`: hub and spoke, so a provider added later works behind this route too).

pub mod client;
pub mod from_chat;
pub mod names;
pub mod native;
pub mod stream;
pub mod to_chat;
pub mod usage;

use std::pin::Pin;

use futures::Stream;
use llmgate_types::{Extra, Usage};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::LlmError;

/// A Messages request. The fields translation reads are typed; everything else (betas'
/// fields, `context_management`, `output_config`, ...) stays in `extra` and reaches an
/// Anthropic upstream as it came.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MessagesRequest {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub messages: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl MessagesRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// The end user as LiteLLM reads it on this route: `user`, `litellm_metadata.user`, then
    /// `metadata.user_id`.
    pub fn end_user(&self) -> Option<String> {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        s(self.extra.get("user"))
            .or_else(|| {
                s(self
                    .extra
                    .get("litellm_metadata")
                    .and_then(|m| m.get("user")))
            })
            .or_else(|| s(self.metadata.as_ref().and_then(|m| m.get("user_id"))))
            .filter(|u| !u.is_empty())
    }

    /// The request as Anthropic takes it: `metadata` holds only `user_id` there (the proxy's
    /// own keys, `tags` and the like, are refused upstream).
    pub fn native_body(&self, model: &str) -> Value {
        let mut req = self.clone();
        req.model = model.to_string();
        req.metadata = req
            .metadata
            .as_ref()
            .and_then(|m| m.get("user_id"))
            .map(|u| serde_json::json!({ "user_id": u }));
        serde_json::to_value(req).unwrap_or_default()
    }
}

/// A Messages answer (a `message` object) and its usage in the SDK's (OpenAI) form, to price it.
#[derive(Debug, Clone, Serialize)]
pub struct MessagesAnswer {
    #[serde(flatten)]
    pub body: Map<String, Value>,
    #[serde(skip)]
    pub usage: Usage,
}

/// One Messages stream event (`message_start`, `content_block_delta`, ...). `usage` is set on
/// the `message_delta` that closes the answer: the call's usage so far, to price it.
#[derive(Debug, Clone, Serialize)]
pub struct MessagesEvent {
    #[serde(flatten)]
    pub data: Map<String, Value>,
    #[serde(skip)]
    pub usage: Option<Usage>,
}

impl MessagesEvent {
    pub fn new(data: Value) -> MessagesEvent {
        let data = match data {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        MessagesEvent { data, usage: None }
    }

    pub fn kind(&self) -> &str {
        self.data.get("type").and_then(Value::as_str).unwrap_or("")
    }

    /// The SSE `event:` name Anthropic gives the event (its `type`).
    pub fn event_name(&self) -> Option<&'static str> {
        Some(match self.kind() {
            "message_start" => "message_start",
            "content_block_start" => "content_block_start",
            "content_block_delta" => "content_block_delta",
            "content_block_stop" => "content_block_stop",
            "message_delta" => "message_delta",
            "message_stop" => "message_stop",
            "ping" => "ping",
            "error" => "error",
            _ => return None,
        })
    }
}

/// Messages events, one per upstream event or chat chunk, as they arrive.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<MessagesEvent, LlmError>> + Send>>;

/// The body of Anthropic's `count_tokens`: what it counts, nothing else.
pub mod native_count {
    use serde_json::{Map, Value};

    use super::MessagesRequest;

    pub fn body(req: &MessagesRequest, model: &str) -> Value {
        let full = req.native_body(model);
        let mut body = Map::new();
        for k in [
            "model",
            "system",
            "messages",
            "tools",
            "tool_choice",
            "thinking",
            "mcp_servers",
        ] {
            if let Some(v) = full.get(k).filter(|v| !v.is_null()) {
                body.insert(k.into(), v.clone());
            }
        }
        Value::Object(body)
    }
}
