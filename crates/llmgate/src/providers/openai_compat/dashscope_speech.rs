//! DashScope's speech (`qwen-tts`, `qwen3-tts-*`) as LiteLLM's `DashScopeTextToSpeechConfig`
//! sends it: `{"model", "input": {"text", "voice", ...}}` to the multimodal-generation endpoint
//! (`api_base` unless it is the chat row's, else `DASHSCOPE_API_BASE_TTS`, else DashScope's
//! international URL) with a bearer key; the client's other fields go into `input`, except
//! OpenAI's `response_format`, `speed` and `instructions`, which DashScope has no field for.
//! The answer names an audio file (`output.audio.url`), downloaded under the SDK's fetch rules
//! (`providers/fetch.rs`: public https only unless allow-listed), its bytes the speech.

use llmgate_types::SpeechRequest;
use serde_json::{json, Map, Value};

use super::dashscope::NAME;
use super::dashscope_images::multimodal_url;
use crate::providers::fetch;
use crate::{CallOptions, ErrorKind, LlmError};

const ENV: &str = "DASHSCOPE_API_BASE_TTS";
const DROPPED: [&str; 3] = ["response_format", "speed", "instructions"];
/// The download of the audio, unless the call's own timeout is shorter (LiteLLM's 60 s).
const DOWNLOAD: std::time::Duration = std::time::Duration::from_secs(60);

pub(super) fn url(api_base: Option<&str>) -> String {
    multimodal_url(api_base, ENV)
}

pub(super) fn body(req: &SpeechRequest) -> Value {
    let mut input = Map::new();
    input.insert("text".into(), json!(req.input.as_deref().unwrap_or("")));
    // A custom voice object has no DashScope counterpart: only a name is sent.
    if let Some(v) = req.voice.as_ref().and_then(Value::as_str) {
        input.insert("voice".into(), json!(v));
    }
    for (k, v) in req.extra.iter() {
        if v.is_null() || DROPPED.contains(&k.as_str()) {
            continue;
        }
        input.insert(k.clone(), v.clone());
    }
    json!({"model": req.model, "input": input})
}

fn upstream(message: String) -> LlmError {
    LlmError::new(ErrorKind::BadGateway, message).with_provider(NAME)
}

/// The audio file's URL in DashScope's answer (its `code` error relayed as a 400).
pub(super) fn audio_url(v: &Value) -> Result<&str, LlmError> {
    if v.get("code").is_some() && v.get("output").is_none() {
        let msg = v["message"]
            .as_str()
            .map_or_else(|| v.to_string(), str::to_string);
        return Err(LlmError::bad_request(msg).with_provider(NAME));
    }
    v["output"]["audio"]["url"]
        .as_str()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| upstream(format!("No audio url in DashScope TTS response: {v}")))
}

/// The audio at `url` and its content type (the file's, else by its extension, else WAV,
/// what Qwen-TTS makes).
pub(super) async fn download(url: &str, opts: &CallOptions) -> Result<(String, Vec<u8>), LlmError> {
    let limit = opts.timeout.map_or(DOWNLOAD, |t| t.min(DOWNLOAD));
    let got = fetch::fetch(url, &fetch::Allowlist::from_opts(opts), limit)
        .await
        .map_err(|e| {
            let e = e.into_llm();
            upstream(format!(
                "Failed to download DashScope audio file: {}",
                e.message
            ))
        })?;
    let content_type = got
        .content_type
        .as_deref()
        .map(fetch::bare)
        .filter(|t| !t.is_empty() && t != "application/octet-stream")
        .or_else(|| fetch::mime_from_extension(url).map(str::to_string))
        .unwrap_or_else(|| "audio/wav".to_string());
    Ok((content_type, got.bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_as_litellm_sends_them() {
        let r: SpeechRequest = serde_json::from_value(json!({"model": "qwen3-tts-flash",
            "input": "hello", "voice": "Cherry", "response_format": "mp3", "speed": 1.2,
            "language_type": "English"}))
        .unwrap();
        assert_eq!(
            body(&r),
            json!({"model": "qwen3-tts-flash",
                   "input": {"text": "hello", "voice": "Cherry", "language_type": "English"}})
        );
    }

    #[test]
    fn answers() {
        let v = json!({"output": {"audio": {"url": "https://x/a.wav", "data": ""}}});
        assert_eq!(audio_url(&v).unwrap(), "https://x/a.wav");
        let e =
            audio_url(&json!({"code": "InvalidParameter", "message": "bad voice"})).unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (400, "bad voice"));
        assert_eq!(audio_url(&json!({"output": {}})).unwrap_err().status, 502);
    }
}
