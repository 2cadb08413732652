//! The media endpoints: images (`/images/generations`, `/images/edits`, `/images/variations`),
//! audio (`/audio/transcriptions`, `/audio/translations`, `/audio/speech`) and
//! `/moderations`. The JSON shapes are in `llmgate_types::media`; the forms, the answers that
//! are not JSON, the multipart codec (`multipart.rs`), audio durations (`duration.rs`) and
//! the prices (`cost.rs`) are here.

pub mod cost;
pub mod duration;
pub mod multipart;
pub mod size;

use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;
use serde_json::Value;

use crate::LlmError;

/// One uploaded file of a form; `data` shares the buffer it was read into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// The form field (`file`, `image`, `image[]`, `mask`).
    pub name: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// A `multipart/form-data` request: text fields in order (a name may repeat:
/// `timestamp_granularities[]`) and files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub files: Vec<FilePart>,
}

impl Form {
    /// The first value of a text field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets a text field (replacing every value it had).
    pub fn set_field(&mut self, name: &str, value: String) {
        self.remove_field(name);
        self.fields.push((name.to_string(), value));
    }

    /// Removes a text field; returns its first value.
    pub fn remove_field(&mut self, name: &str) -> Option<String> {
        let first = self.field(name).map(str::to_string);
        self.fields.retain(|(k, _)| k != name);
        first
    }

    /// The first file in field `name`.
    pub fn file(&self, name: &str) -> Option<&FilePart> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The uploaded images of an edit, in order (`image`, or `image[]` as clients send a list).
    pub fn images(&self) -> impl Iterator<Item = &FilePart> {
        self.files
            .iter()
            .filter(|f| f.name == "image" || f.name == "image[]")
    }

    /// A text field as JSON: a number or a boolean parsed (a form's values are all text),
    /// anything else as its string.
    pub fn scalar(&self, name: &str) -> Option<Value> {
        let v = self.field(name)?;
        Some(
            serde_json::from_str::<Value>(v.trim())
                .ok()
                .filter(|p| p.is_number() || p.is_boolean())
                .unwrap_or_else(|| Value::String(v.to_string())),
        )
    }

    /// Bytes of every file.
    pub fn file_bytes(&self) -> usize {
        self.files.iter().map(|f| f.data.len()).sum()
    }
}

/// Which multipart endpoint a form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    ImageEdit,
    ImageVariation,
    Transcription,
    Translation,
}

impl FormKind {
    /// The path under an OpenAI base (`images/edits`).
    pub fn path(self) -> &'static str {
        match self {
            FormKind::ImageEdit => "images/edits",
            FormKind::ImageVariation => "images/variations",
            FormKind::Transcription => "audio/transcriptions",
            FormKind::Translation => "audio/translations",
        }
    }

    /// The form field that must hold a file.
    pub fn file_field(self) -> &'static str {
        match self {
            FormKind::ImageEdit | FormKind::ImageVariation => "image",
            FormKind::Transcription | FormKind::Translation => "file",
        }
    }

    pub fn is_audio(self) -> bool {
        matches!(self, FormKind::Transcription | FormKind::Translation)
    }
}

/// A multipart request: the model (the upstream's name once routed; the form's `model`
/// field is set from it when sent) and the form.
#[derive(Debug, Clone)]
pub struct FormRequest {
    pub model: String,
    pub form: Form,
}

/// A transcription or translation as the upstream answered it: JSON (`json`,
/// `verbose_json`) or text (`text`, `srt`, `vtt`), with its content type.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub content_type: String,
    pub body: Bytes,
    /// The body parsed, when it is JSON (its `duration` and `usage` price the call).
    pub json: Option<Value>,
}

impl Transcript {
    /// An answer as the upstream sent it, parsed when its content type is JSON.
    pub fn new(content_type: String, body: Bytes) -> Transcript {
        let json = content_type
            .starts_with("application/json")
            .then(|| serde_json::from_slice(&body).ok())
            .flatten();
        Transcript {
            content_type,
            body,
            json,
        }
    }

    /// Seconds of audio the answer reports: `verbose_json`'s `duration`, else a
    /// `usage: {"type": "duration", "seconds": n}`, else Mistral's
    /// `usage.prompt_audio_seconds`.
    pub fn duration(&self) -> Option<f64> {
        let v = self.json.as_ref()?;
        v.get("duration").and_then(Value::as_f64).or_else(|| {
            let u = v.get("usage")?;
            (u.get("type").and_then(Value::as_str) == Some("duration"))
                .then(|| u.get("seconds").and_then(Value::as_f64))
                .flatten()
                .or_else(|| u.get("prompt_audio_seconds").and_then(Value::as_f64))
        })
    }

    /// Token usage (`usage: {"type": "tokens", ...}`, the gpt-4o transcribe models).
    pub fn token_usage(&self) -> Option<&Value> {
        let u = self.json.as_ref()?.get("usage")?;
        (u.get("type").and_then(Value::as_str) == Some("tokens")).then_some(u)
    }
}

/// Audio bytes as they arrive.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, LlmError>> + Send>>;

/// `/audio/speech`'s answer: the upstream's content type and its audio, streamed.
pub struct Audio {
    pub content_type: String,
    pub stream: ByteStream,
    /// The tokens the upstream reports, where speech is generated by a token-priced model
    /// (Gemini TTS); None: priced by the input (per character).
    pub usage: Option<SpeechUsage>,
}

/// A token-priced speech answer's usage: the prompt's tokens and the audio (and any text)
/// tokens generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpeechUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Of `output_tokens`, those of audio.
    pub output_audio_tokens: u64,
}

impl std::fmt::Debug for Audio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audio")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// `s` with each wait for its next item bounded by `idle`: a stalled upstream ends the
/// stream with a timeout error rather than holding the client forever.
pub fn idle_bounded<S>(
    s: S,
    idle: std::time::Duration,
    provider: &'static str,
) -> impl Stream<Item = Result<Bytes, LlmError>> + Send
where
    S: Stream<Item = Result<Bytes, LlmError>> + Send + Unpin + 'static,
{
    use futures::StreamExt;
    futures::stream::unfold(Some(s), move |state| async move {
        let mut s = state?;
        match tokio::time::timeout(idle, s.next()).await {
            Ok(Some(item)) => Some((item, Some(s))),
            Ok(None) => None,
            Err(_) => Some((Err(LlmError::timeout(provider, idle.as_secs_f64())), None)),
        }
    })
}

/// The MIME type of image bytes by their magic number (PNG, JPEG, GIF, WebP, HEIC); PNG when
/// none matches, as LiteLLM's `get_image_content_type` defaults.
pub fn image_mime(data: &[u8]) -> &'static str {
    match data {
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [b'G', b'I', b'F', b'8', ..] => "image/gif",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "image/webp",
        [_, _, _, _, b'f', b't', b'y', b'p', b'h', b'e', b'i', b'c', ..] => "image/heic",
        _ => "image/png",
    }
}
