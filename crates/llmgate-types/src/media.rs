//! `/images/generations`, `/audio/speech` and `/moderations`: OpenAI's JSON request and
//! answer shapes (the multipart endpoints — image edits and variations, transcriptions and
//! translations — are forms, modelled in the SDK). Unknown fields are kept in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Extra;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageGenerationRequest {
    #[serde(default)]
    pub model: String,
    /// Required; an `Option` so that a missing one is a clear 400, not a parse error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// `1024x1024`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// `standard`, `hd`, `low`, `medium`, `high`, `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// `url` or `b64_json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One generated image.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer of `/images/generations`, `/images/edits` and `/images/variations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageResponse {
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub data: Vec<ImageData>,
    /// The gpt-image models' token usage (`input_tokens`, `input_tokens_details`,
    /// `output_tokens`, `total_tokens`), as OpenAI sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SpeechRequest {
    #[serde(default)]
    pub model: String,
    /// Required: the text to speak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// A voice name (or `{"id": ...}`, a custom voice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<Value>,
    /// `mp3` (the default), `opus`, `aac`, `flac`, `wav`, `pcm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl SpeechRequest {
    /// The content type of the audio the request asks for (OpenAI's, per `response_format`).
    pub fn content_type(&self) -> &'static str {
        match self.response_format.as_deref().unwrap_or("mp3") {
            "opus" => "audio/ogg",
            "aac" => "audio/aac",
            "flac" => "audio/flac",
            "wav" => "audio/wav",
            "pcm" => "audio/pcm",
            _ => "audio/mpeg",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ModerationRequest {
    /// Optional: without one, LiteLLM's default moderation model answers.
    #[serde(default)]
    pub model: String,
    /// Required: a string, strings, or multi-modal parts.
    #[serde(default)]
    pub input: Value,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ModerationResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub results: Vec<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}
