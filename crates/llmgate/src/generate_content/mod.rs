//! Google's `generateContent` API in front of every provider: the request, answer and stream
//! types of `:generateContent` / `:streamGenerateContent` (Google's JSON names, the snake_case
//! spellings Google also accepts read too, unknown fields kept in `extra`), translated through
//! the chat format (`to_chat.rs`, `from_chat.rs`, `stream.rs`: hub and spoke, as
//! `messages/`). The reverse direction — chat to Google's body and Google's answer to chat —
//! is the Gemini provider's (`providers/gemini/`); the two meet in the tests, which read this
//! module's `usageMetadata` back with the provider's reader.
//!
//! Gemini and Vertex AI deployments get Google's body natively from the gateway's relay
//! (`llmgate-server`'s `routes/passthrough/native.rs`); `Client::generate_content*` is the
//! path through chat, for every provider (a Google one included).

pub mod client;
pub mod from_chat;
pub mod schema;
pub mod stream;
pub mod to_chat;

use std::pin::Pin;

use futures::Stream;
use llmgate_types::{Extra, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::LlmError;

/// A `GenerateContentRequest`. The model comes from the URL path (`models/{model}:...`);
/// `safetySettings`, `cachedContent`, `labels` and built-in tools (`googleSearch`,
/// `codeExecution`, ...) have no chat form and are not translated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    #[serde(default)]
    pub contents: Vec<Content>,
    #[serde(
        default,
        alias = "system_instruction",
        skip_serializing_if = "Option::is_none"
    )]
    pub system_instruction: Option<Content>,
    #[serde(
        default,
        alias = "generation_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub generation_config: Option<GenerationConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    #[serde(
        default,
        alias = "tool_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub tool_config: Option<ToolConfig>,
    /// Ignored on the way to chat: no other provider has Google's safety categories.
    #[serde(
        default,
        alias = "safety_settings",
        skip_serializing_if = "Option::is_none"
    )]
    pub safety_settings: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One turn: `user` (also `function`, Google's old role for function responses) or `model`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default)]
    pub parts: Vec<Part>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One part of a turn; exactly one of the data fields is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A text part that is the model's reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    #[serde(
        default,
        alias = "inline_data",
        skip_serializing_if = "Option::is_none"
    )]
    pub inline_data: Option<Blob>,
    #[serde(default, alias = "file_data", skip_serializing_if = "Option::is_none")]
    pub file_data: Option<FileData>,
    #[serde(
        default,
        alias = "function_call",
        skip_serializing_if = "Option::is_none"
    )]
    pub function_call: Option<FunctionCall>,
    #[serde(
        default,
        alias = "function_response",
        skip_serializing_if = "Option::is_none"
    )]
    pub function_response: Option<FunctionResponse>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Part {
    pub fn text(t: impl Into<String>) -> Part {
        Part {
            text: Some(t.into()),
            ..Default::default()
        }
    }
}

/// Inline bytes, base64.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Blob {
    #[serde(default, alias = "mime_type")]
    pub mime_type: String,
    #[serde(default)]
    pub data: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A file by URI (`gs://`, the Files API, an https URL).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileData {
    #[serde(default, alias = "mime_type", skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, alias = "file_uri")]
    pub file_uri: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FunctionCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FunctionResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub response: Value,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, alias = "top_p", skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, alias = "top_k", skip_serializing_if = "Option::is_none")]
    pub top_k: Option<f64>,
    #[serde(
        default,
        alias = "max_output_tokens",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_output_tokens: Option<u64>,
    #[serde(
        default,
        alias = "stop_sequences",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(
        default,
        alias = "candidate_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub candidate_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(
        default,
        alias = "presence_penalty",
        skip_serializing_if = "Option::is_none"
    )]
    pub presence_penalty: Option<f64>,
    #[serde(
        default,
        alias = "frequency_penalty",
        skip_serializing_if = "Option::is_none"
    )]
    pub frequency_penalty: Option<f64>,
    #[serde(
        default,
        alias = "response_mime_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_mime_type: Option<String>,
    /// Google's OpenAPI-subset schema (`type: OBJECT`, `nullable`).
    #[serde(
        default,
        alias = "response_schema",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_schema: Option<Value>,
    /// Standard JSON Schema.
    #[serde(
        default,
        alias = "response_json_schema",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_json_schema: Option<Value>,
    #[serde(
        default,
        alias = "thinking_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub thinking_config: Option<ThinkingConfig>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    #[serde(
        default,
        alias = "include_thoughts",
        skip_serializing_if = "Option::is_none"
    )]
    pub include_thoughts: Option<bool>,
    /// Tokens; `-1` asks for the model's dynamic budget, `0` for none.
    #[serde(
        default,
        alias = "thinking_budget",
        skip_serializing_if = "Option::is_none"
    )]
    pub thinking_budget: Option<i64>,
    /// Gemini 3's `low` / `medium` / `high` (and `minimal`).
    #[serde(
        default,
        alias = "thinking_level",
        skip_serializing_if = "Option::is_none"
    )]
    pub thinking_level: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tool entry: function declarations, or one of Google's built-in tools (kept in `extra`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    #[serde(
        default,
        alias = "function_declarations",
        skip_serializing_if = "Option::is_none"
    )]
    pub function_declarations: Option<Vec<FunctionDeclaration>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeclaration {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Google's schema subset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Standard JSON Schema.
    #[serde(
        default,
        alias = "parameters_json_schema",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters_json_schema: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig {
    #[serde(
        default,
        alias = "function_calling_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub function_calling_config: Option<FunctionCallingConfig>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCallingConfig {
    /// `AUTO`, `ANY`, `NONE`, `VALIDATED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(
        default,
        alias = "allowed_function_names",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_function_names: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `GenerateContentResponse` (an answer, or one chunk of a stream).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    #[serde(default)]
    pub content: Content,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub index: u32,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Google's token counts: `candidatesTokenCount` without the thoughts, which are
/// `thoughtsTokenCount`; `cachedContentTokenCount` is part of `promptTokenCount`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: u64,
    #[serde(default)]
    pub candidates_token_count: u64,
    #[serde(default)]
    pub total_token_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_content_token_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thoughts_token_count: Option<u64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An answer and its usage in the SDK's (OpenAI) form, to price it.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateContentAnswer {
    #[serde(flatten)]
    pub body: GenerateContentResponse,
    #[serde(skip)]
    pub usage: Usage,
}

/// One stream chunk; `usage` is set on the last one (with the finish reason): the call's usage
/// in the SDK's form, to price it.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateContentChunk {
    #[serde(flatten)]
    pub body: GenerateContentResponse,
    #[serde(skip)]
    pub usage: Option<Usage>,
}

/// Chunks, one per chat chunk that carries something, as they arrive.
pub type GenerateContentStream =
    Pin<Box<dyn Stream<Item = Result<GenerateContentChunk, LlmError>> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn camel_and_snake_case_read_and_unknown_fields_kept() {
        let r: GenerateContentRequest = serde_json::from_value(json!({
            "contents": [{"role": "user", "parts": [{"text": "hi", "videoMetadata": {"fps": 1}}]}],
            "system_instruction": {"parts": [{"text": "sys"}]},
            "generationConfig": {"maxOutputTokens": 9, "stop_sequences": ["x"], "mediaResolution": "LOW"},
            "cachedContent": "cachedContents/1",
        }))
        .unwrap();
        assert_eq!(
            r.system_instruction.as_ref().unwrap().parts[0]
                .text
                .as_deref(),
            Some("sys")
        );
        let g = r.generation_config.as_ref().unwrap();
        assert_eq!(
            (g.max_output_tokens, g.stop_sequences.as_deref()),
            (Some(9), Some(&["x".to_string()][..]))
        );
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(
            back["contents"][0]["parts"][0]["videoMetadata"],
            json!({"fps": 1})
        );
        assert_eq!(back["generationConfig"]["mediaResolution"], "LOW");
        assert_eq!(back["cachedContent"], "cachedContents/1");
        assert_eq!(back["systemInstruction"]["parts"][0]["text"], "sys");
    }
}
