//! DashScope's multimodal-generation endpoint for image edits (`qwen-image-edit*`: the images
//! as data URLs or URLs and one text in the user message's content, `parameters.n` and
//! `parameters.size` as `W*H`; image URLs back) and speech (`qwen-tts`, `qwen3-tts-*`:
//! `input.text` and `input.voice`; the answer names a WAV file this mock serves at
//! `/dashscope-mock-audio/{n}.wav`, on the host the request came to).

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

use super::dashscope::error;

/// Qwen-TTS's system voices.
const VOICES: [&str; 8] = [
    "Cherry", "Serena", "Ethan", "Chelsie", "Dylan", "Jada", "Sunny", "Nofish",
];

/// Whether `model` is a speech model.
pub(crate) fn is_tts(model: &str) -> bool {
    model.contains("tts")
}

/// Whether `model` is an image edit model.
pub(crate) fn is_edit(model: &str) -> bool {
    model.contains("image-edit")
}

fn decodable_data_url(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("data:image/") else {
        return s.starts_with("https://") || s.starts_with("http://");
    };
    rest.split_once(";base64,").is_some_and(|(_, b)| {
        !b.is_empty() && base64::engine::general_purpose::STANDARD.decode(b).is_ok()
    })
}

/// An image edit.
pub(crate) fn edit(model: &str, body: &Value) -> Response {
    let Some(content) = body["input"]["messages"][0]["content"].as_array() else {
        return error(400, "InvalidParameter", "Field required: input.messages");
    };
    let images: Vec<&str> = content.iter().filter_map(|c| c["image"].as_str()).collect();
    if images.is_empty() || images.len() > 3 {
        return error(
            400,
            "InvalidParameter",
            "The request must hold 1 to 3 images.",
        );
    }
    if !images.iter().all(|i| decodable_data_url(i)) {
        return error(
            400,
            "InvalidParameter",
            "The image must be a URL or a base64 data URL (data:image/<type>;base64,...).",
        );
    }
    let texts: Vec<&str> = content.iter().filter_map(|c| c["text"].as_str()).collect();
    if texts.len() != 1 || texts[0].trim().is_empty() {
        return error(
            400,
            "InvalidParameter",
            "The edit instruction (one text) is required.",
        );
    }
    let params = &body["parameters"];
    if params
        .get("size")
        .is_some_and(|s| s.as_str().is_none_or(|s| !s.contains('*')))
    {
        return error(
            400,
            "InvalidParameter",
            "The size is not valid: write it as width*height.",
        );
    }
    let n = params["n"].as_u64().unwrap_or(1);
    if !(1..=6).contains(&n) {
        return error(400, "InvalidParameter", "n must be between 1 and 6.");
    }
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            json!({"finish_reason": "stop", "message": {"role": "assistant",
                   "content": [{"image": format!("https://dashscope-result.mock/{model}/edit-{i}.png")}]}})
        })
        .collect();
    axum::Json(json!({"output": {"choices": choices},
                      "usage": {"width": 1024, "height": 1024, "image_count": n},
                      "request_id": "mock-request-3"}))
    .into_response()
}

/// A speech synthesis: the audio file's URL on this mock.
pub(crate) fn tts(h: &HeaderMap, body: &Value) -> Response {
    let input = &body["input"];
    let Some(text) = input["text"].as_str().filter(|t| !t.is_empty()) else {
        return error(400, "InvalidParameter", "Field required: input.text");
    };
    let Some(voice) = input["voice"].as_str() else {
        return error(400, "InvalidParameter", "Field required: input.voice");
    };
    if !VOICES.contains(&voice) {
        return error(
            400,
            "InvalidParameter",
            &format!("Voice '{voice}' is not supported."),
        );
    }
    let host = h
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let chars = text.chars().count();
    axum::Json(json!({
        "output": {"finish_reason": "stop", "audio": {
            "url": format!("http://{host}/dashscope-mock-audio/{chars}.wav"),
            "id": "audio_mock_1", "data": "", "expires_at": 1_900_000_000u64}},
        "usage": {"input_tokens": chars, "output_tokens": chars * 4, "characters": chars},
        "request_id": "mock-request-4"}))
    .into_response()
}

/// `GET /dashscope-mock-audio/{n}.wav`: a WAV file, 64 bytes per character spoken.
pub async fn audio(Path(name): Path<String>) -> Response {
    let n: usize = name
        .strip_suffix(".wav")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let mut wav = b"RIFF".to_vec();
    wav.extend((0..n * 64).map(|i| (i % 251) as u8));
    ([("content-type", "audio/wav")], wav).into_response()
}
