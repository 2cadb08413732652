//! Mistral's Voxtral text-to-speech as LiteLLM's `MistralTextToSpeechConfig` sends it:
//! `POST {base ending in /v1}/audio/speech`, a bearer key, a JSON body of `model`, `input`,
//! `voice_id` (OpenAI's voice names mapped to Mistral's, a `{"id": ...}` voice by its id),
//! `response_format` and `ref_audio` (a voice clone's sample) — OpenAI's other fields have no
//! Mistral counterpart and are left out. Mistral answers JSON with the audio base64 in
//! `audio_data`; it is decoded and sent on as bytes with the content type of the format
//! asked for.

use base64::Engine;
use bytes::Bytes;
use llmgate_types::SpeechRequest;
use serde_json::{json, Map, Value};

use crate::{ErrorKind, LlmError};

/// Mistral's row name.
pub(super) const NAME: &str = "mistral";

/// `{base}/audio/speech` with `/v1` added where the base lacks it.
pub(super) fn url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/audio/speech")
    } else {
        format!("{base}/v1/audio/speech")
    }
}

/// LiteLLM's `OPENAI_VOICE_ALIASES`.
fn voice_alias(v: &str) -> &str {
    match v.to_ascii_lowercase().as_str() {
        "alloy" => "en_paul_neutral",
        "echo" => "gb_oliver_neutral",
        "fable" => "en_paul_cheerful",
        "onyx" => "en_paul_confident",
        "nova" | "shimmer" => "gb_jane_sarcasm",
        _ => v,
    }
}

/// A voice as a string, or an object's `voice_id` / `id` / `name`.
fn voice_id(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => ["voice_id", "id", "name"].iter().find_map(|k| {
            o.get(*k)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        }),
        _ => None,
    }?;
    let s = s.trim();
    (!s.is_empty()).then(|| voice_alias(s).to_string())
}

/// Mistral's request body for `req`.
pub(super) fn body(req: &SpeechRequest) -> Value {
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    b.insert("input".into(), json!(req.input.as_deref().unwrap_or("")));
    let voice = req
        .voice
        .as_ref()
        .and_then(voice_id)
        .or_else(|| req.extra.get("voice_id").and_then(voice_id));
    if let Some(v) = voice {
        b.insert("voice_id".into(), json!(v));
    }
    if let Some(f) = &req.response_format {
        b.insert("response_format".into(), json!(f));
    }
    if let Some(r) = req.extra.get("ref_audio").filter(|r| r.is_string()) {
        b.insert("ref_audio".into(), r.clone());
    }
    Value::Object(b)
}

/// The audio in Mistral's answer.
pub(super) fn audio(answer: &[u8]) -> Result<Bytes, LlmError> {
    let fail = |m: String| LlmError::new(ErrorKind::InternalServer, m).with_provider(NAME);
    let v: Value = serde_json::from_slice(answer).map_err(|_| {
        let head = String::from_utf8_lossy(&answer[..answer.len().min(500)]).into_owned();
        fail(format!("Non-JSON response from Mistral speech API: {head}"))
    })?;
    let Some(b64) = v
        .get("audio_data")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        let keys: Vec<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        return Err(fail(format!(
            "No audio_data in Mistral speech response. Response keys: {keys:?}"
        )));
    };
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map(Bytes::from)
        .map_err(|_| fail("Invalid base64 audio_data in Mistral speech response.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> SpeechRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn bodies_as_litellm_sends_them() {
        let r = req(
            json!({"model": "voxtral-mini-tts-latest", "input": "hi", "voice": "alloy",
                           "response_format": "wav", "speed": 1.5, "instructions": "calm"}),
        );
        assert_eq!(
            body(&r),
            json!({"model": "voxtral-mini-tts-latest", "input": "hi", "voice_id": "en_paul_neutral", "response_format": "wav"})
        );
        let r = req(
            json!({"model": "m", "input": "hi", "voice": {"id": "my-clone"}, "ref_audio": "UklG"}),
        );
        assert_eq!(
            body(&r),
            json!({"model": "m", "input": "hi", "voice_id": "my-clone", "ref_audio": "UklG"})
        );
        assert_eq!(
            url("https://api.mistral.ai/v1/"),
            "https://api.mistral.ai/v1/audio/speech"
        );
        assert_eq!(
            url("http://127.0.0.1:9"),
            "http://127.0.0.1:9/v1/audio/speech"
        );
    }

    #[test]
    fn audio_is_decoded_or_a_clear_error() {
        assert_eq!(&audio(br#"{"audio_data": "SUQz"}"#).unwrap()[..], b"ID3");
        let e = audio(br#"{"other": 1}"#).unwrap_err();
        assert!(e.message.contains("No audio_data"), "{}", e.message);
        assert!(audio(b"<html>").is_err());
        assert!(audio(br#"{"audio_data": "!!"}"#).is_err());
    }
}
