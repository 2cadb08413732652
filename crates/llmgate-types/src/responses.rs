//! `/responses` (OpenAI's Responses API): request, response object and stream event. Items,
//! tools and content parts stay JSON: the bridge reads the kinds it knows and passes the
//! rest through on the native path.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Extra, Usage};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ResponsesRequest {
    #[serde(default)]
    pub model: String,
    /// A string, or a list of items (messages, function calls and outputs, reasoning...).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub input: Value,
    /// A string (or, in newer API versions, a list of message items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// `{"format": {"type": "text" | "json_object" | "json_schema", ...}, "verbosity": ...}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Value>,
    /// `{"effort": ..., "summary": ...}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResponsesRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// `store` defaults to true.
    pub fn stores(&self) -> bool {
        self.store.unwrap_or(true)
    }

    /// The input as a list of items: a string is one user message.
    pub fn input_items(&self) -> Vec<Value> {
        match &self.input {
            Value::String(s) => vec![serde_json::json!({
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": s}],
            })],
            Value::Array(items) => items.clone(),
            Value::Null => vec![],
            other => vec![other.clone()],
        }
    }
}

/// A response object (`"object": "response"`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ResponseObject {
    #[serde(default)]
    pub id: String,
    #[serde(default = "response_object")]
    pub object: String,
    #[serde(default)]
    pub created_at: u64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub output: Vec<Value>,
    #[serde(default)]
    pub usage: Option<ResponseUsage>,
    #[serde(flatten)]
    pub extra: Extra,
    /// The usage in chat terms (what the gateway prices); not sent.
    #[serde(skip)]
    pub chat_usage: Option<Usage>,
}

fn response_object() -> String {
    "response".to_string()
}

impl ResponseObject {
    /// Fills [`ResponseObject::chat_usage`] from `usage`.
    pub fn price_usage(&mut self) {
        self.chat_usage = self.usage.as_ref().map(ResponseUsage::to_chat);
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ResponseUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    /// `{"cached_tokens": n}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_details: Option<Value>,
    /// `{"reasoning_tokens": n}`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_details: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResponseUsage {
    pub fn from_chat(u: &Usage) -> Self {
        ResponseUsage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
            total_tokens: u.prompt_tokens + u.completion_tokens,
            input_tokens_details: Some(serde_json::json!({"cached_tokens": u.cached_tokens()})),
            output_tokens_details: Some(
                serde_json::json!({"reasoning_tokens": u.reasoning_tokens()}),
            ),
            extra: Extra::new(),
        }
    }

    pub fn to_chat(&self) -> Usage {
        let detail = |d: &Option<Value>, k: &str| d.as_ref().and_then(|d| d.get(k)?.as_u64());
        let mut u = Usage::new(self.input_tokens, self.output_tokens);
        if let Some(c) = detail(&self.input_tokens_details, "cached_tokens") {
            u.prompt_tokens_details = Some(crate::PromptTokensDetails {
                cached_tokens: Some(c),
                ..Default::default()
            });
        }
        if let Some(r) = detail(&self.output_tokens_details, "reasoning_tokens") {
            u.completion_tokens_details = Some(crate::CompletionTokensDetails {
                reasoning_tokens: Some(r),
                ..Default::default()
            });
        }
        u
    }
}

/// One stream event: `{"type": "response.output_text.delta", "sequence_number": 3, ...}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ResponseEvent {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub sequence_number: u64,
    /// The response, on `response.created|in_progress|completed|failed|incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseObject>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResponseEvent {
    pub fn new(kind: &str, fields: Value) -> Self {
        let extra = match fields {
            Value::Object(m) => m,
            _ => Extra::new(),
        };
        ResponseEvent {
            kind: kind.to_string(),
            sequence_number: 0,
            response: None,
            extra,
        }
    }

    /// Whether the event ends the response (completed, failed or incomplete).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "response.completed" | "response.failed" | "response.incomplete"
        )
    }
}
