//! Google's speech and media APIs beside `generateContent` (`google.rs`), as their public
//! documentation describes them:
//! - Gemini TTS: `generateContent` with `responseModalities: ["AUDIO"]` and a prebuilt voice
//!   (one of Gemini's 30 names, else a 400), answered with base64 16-bit PCM at 24 kHz inline
//!   (`audio/L16;codec=pcm;rate=24000`) and `usageMetadata` with AUDIO output tokens;
//! - Vertex AI Gemini transcription: `generateContent` with `audioTranscriptionConfig` and
//!   the audio inline, answered with text and AUDIO prompt tokens;
//! - Gemini image models on AI Studio answer images (and text) with no modality asked;
//! - Imagen edits: `:predict` with `referenceImages` (a raw image required, base64 bytes,
//!   an `editMode`);
//! - AI Studio's Interactions API (`POST /v1beta/interactions`, `x-goog-api-key`): an
//!   `audio` input transcribed, word timings when `transcription_config.mode` asks;
//! - Cloud Text-to-Speech `POST /v1/text:synthesize` (a bearer token, `x-goog-user-project`,
//!   input, voice, `audioEncoding`) answering base64 `audioContent`;
//! - Speech-to-Text v2 `POST /v2/projects/{p}/locations/{l}/recognizers/_:recognize` (the
//!   same auth; `config.model`, `languageCodes`, `content`) answering `results` and the
//!   billed duration.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

use crate::google::{error, ACCESS_TOKEN};
use crate::openai::recorded;
use crate::Shared;

/// Gemini's prebuilt TTS voices.
const VOICES: &[&str] = &[
    "Zephyr",
    "Puck",
    "Charon",
    "Kore",
    "Fenrir",
    "Leda",
    "Orus",
    "Aoede",
    "Callirrhoe",
    "Autonoe",
    "Enceladus",
    "Iapetus",
    "Umbriel",
    "Algieba",
    "Despina",
    "Erinome",
    "Algenib",
    "Rasalgethi",
    "Laomedeia",
    "Achernar",
    "Alnilam",
    "Schedar",
    "Gacrux",
    "Pulcherrima",
    "Achird",
    "Zubenelgenubi",
    "Vindemiatrix",
    "Sadachbia",
    "Sadaltager",
    "Sulafat",
];

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The decoded bytes of every inline audio part of the request's contents.
fn inline_audio(req: &Value) -> Vec<Vec<u8>> {
    req["contents"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["parts"].as_array().into_iter().flatten())
        .filter(|p| {
            p["inlineData"]["mimeType"]
                .as_str()
                .is_some_and(|m| m.starts_with("audio/"))
        })
        .filter_map(|p| b64().decode(p["inlineData"]["data"].as_str()?).ok())
        .collect()
}

/// The checks `generateContent` makes of a speech or transcription request (`req` in
/// camelCase).
pub(crate) fn check(model: &str, req: &Value) -> Result<(), String> {
    let gen = &req["generationConfig"];
    let audio_out = gen["responseModalities"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m == "AUDIO"));
    if audio_out {
        if !model.contains("tts") {
            return Err(format!(
                "Model {model} does not support the requested response modalities: audio"
            ));
        }
        let voice = &gen["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"];
        if let Some(v) = voice.as_str() {
            if !VOICES.contains(&v) {
                return Err(format!("Voice name {v} is not supported."));
            }
        }
    } else if gen.get("speechConfig").is_some() {
        return Err("speech_config requires the AUDIO response modality".into());
    }
    if gen.get("audioTranscriptionConfig").is_some() {
        if !model.contains("transcribe") {
            return Err(format!(
                "audio_transcription_config is not supported by {model}"
            ));
        }
        if inline_audio(req).is_empty() {
            return Err(
                "* GenerateContentRequest.contents: an audio part is required for transcription"
                    .into(),
            );
        }
    }
    Ok(())
}

/// PCM the mock speaks: 16-bit samples, one per input byte.
fn pcm_for(text: &str) -> Vec<u8> {
    text.bytes().flat_map(|b| [b, 0x10]).collect()
}

/// The answer to a speech or transcription request, or to an AI Studio image model asked for
/// no modality; None for any other request.
pub(crate) fn answer(model: &str, req: &Value) -> Option<Value> {
    let gen = &req["generationConfig"];
    let modalities = gen["responseModalities"].as_array();
    if modalities.is_some_and(|m| m.iter().any(|m| m == "AUDIO")) {
        let text: String = req["contents"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["parts"].as_array().into_iter().flatten())
            .filter_map(|p| p["text"].as_str())
            .collect();
        let pcm = pcm_for(&text);
        let audio_tokens = (pcm.len() / 16).max(1) as u64;
        let prompt = text.split_whitespace().count().max(1) as u64;
        return Some(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": b64().encode(pcm)}}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": audio_tokens, "totalTokenCount": prompt + audio_tokens,
                              "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
                              "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": audio_tokens}]},
            "modelVersion": model,
        }));
    }
    if gen.get("audioTranscriptionConfig").is_some() {
        let n: usize = inline_audio(req).iter().map(Vec::len).sum();
        let lang = gen["audioTranscriptionConfig"]["languageCodes"][0]
            .as_str()
            .unwrap_or("auto");
        return Some(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": format!("Hello from mock audio: {n} bytes ({lang})")}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 440, "candidatesTokenCount": 62, "totalTokenCount": 502,
                              "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 440}],
                              "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 62}]},
            "modelVersion": model,
        }));
    }
    if modalities.is_none() && model.contains("-image") {
        let inline_images = req["contents"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["parts"].as_array().into_iter().flatten())
            .filter(|p| p.get("inlineData").is_some())
            .count();
        return Some(json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": format!("Edited {inline_images} image(s).")},
                {"inlineData": {"mimeType": "image/png", "data": crate::media::png_b64()}}]},
                "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 265, "candidatesTokenCount": 1290, "totalTokenCount": 1555},
            "modelVersion": model,
        }));
    }
    None
}

/// Imagen's edit request (`:predict` with reference images): None when it is not one, else
/// its refusal or the images.
pub(crate) fn imagen_edit(body: &Value) -> Option<Result<Value, String>> {
    let refs = body["instances"][0].get("referenceImages")?;
    let check = || -> Result<Value, String> {
        let refs = refs
            .as_array()
            .filter(|r| !r.is_empty())
            .ok_or("instances[0].referenceImages must be a non-empty list")?;
        for (i, r) in refs.iter().enumerate() {
            let kind = r["referenceType"].as_str().unwrap_or("");
            if !["REFERENCE_TYPE_RAW", "REFERENCE_TYPE_MASK"].contains(&kind) {
                return Err(format!(
                    "referenceImages[{i}].referenceType {kind:?} is not valid"
                ));
            }
            let data = r["referenceImage"]["bytesBase64Encoded"]
                .as_str()
                .unwrap_or("");
            if !matches!(b64().decode(data), Ok(d) if !d.is_empty()) {
                return Err(format!(
                    "referenceImages[{i}].referenceImage.bytesBase64Encoded is required"
                ));
            }
            if !r["referenceId"].is_u64() {
                return Err(format!("referenceImages[{i}].referenceId is required"));
            }
        }
        if !refs
            .iter()
            .any(|r| r["referenceType"] == "REFERENCE_TYPE_RAW")
        {
            return Err("a REFERENCE_TYPE_RAW reference image is required".into());
        }
        if !body["instances"][0]["prompt"].is_string() {
            return Err("instances[0].prompt is required".into());
        }
        if !body["parameters"]["editMode"].is_string() {
            return Err("parameters.editMode is required for edits".into());
        }
        let n = body["parameters"]["sampleCount"]
            .as_u64()
            .unwrap_or(1)
            .clamp(1, 4);
        let preds: Vec<Value> = (0..n)
            .map(
                |_| json!({"bytesBase64Encoded": crate::media::png_b64(), "mimeType": "image/png"}),
            )
            .collect();
        Ok(json!({"predictions": preds}))
    };
    Some(check())
}

fn bearer_ok(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

/// Cloud Text-to-Speech and Speech-to-Text want the token and the quota project: the
/// refusal when either is missing.
fn cloud_refusal(h: &HeaderMap) -> Option<Response> {
    if !bearer_ok(h) {
        return Some(error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        ));
    }
    if !h.contains_key("x-goog-user-project") {
        return Some(error(403, "Your application is authenticating by using local Application Default Credentials. The texttospeech.googleapis.com API requires a quota project, which is not set by default."));
    }
    None
}

/// `POST /v1beta/interactions`: a transcription model's interaction.
pub async fn interactions(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    shared.record(|| recorded(&m, &u, &h, body.clone()));
    if !h.contains_key("x-goog-api-key") {
        return error(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    }
    let Some(model) = body["model"].as_str().filter(|m| !m.is_empty()) else {
        return error(400, "model is required");
    };
    if !model.contains("transcribe") {
        return error(
            400,
            &format!("Model {model} does not support transcription"),
        );
    }
    let input = body["input"].as_array().cloned().unwrap_or_default();
    let audio: Vec<Vec<u8>> = input
        .iter()
        .filter(|i| {
            i["type"] == "audio"
                && i["mime_type"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("audio/"))
        })
        .filter_map(|i| b64().decode(i["data"].as_str()?).ok())
        .collect();
    if audio.is_empty() {
        return error(
            400,
            "input must hold an audio item with data and an audio mime_type",
        );
    }
    let n: usize = audio.iter().map(Vec::len).sum();
    let text = format!("Hello from mock audio: {n} bytes");
    let config = &body["generation_config"]["transcription_config"];
    let mut content = json!({"type": "text", "text": text});
    if config["mode"]["timestamp_granularities"]
        .as_array()
        .is_some_and(|g| g.iter().any(|g| g == "word"))
    {
        let words: Vec<Value> = text
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| json!({"type": "word_info", "text": w, "speaker": "speaker_1",
                                  "start_offset": format!("{:.1}s", i as f64 * 0.5), "end_offset": format!("{:.1}s", i as f64 * 0.5 + 0.4)}))
            .collect();
        content["annotations"] = json!(words);
    }
    axum::Json(json!({
        "id": "interaction-mock-1", "status": "completed", "model": model,
        "steps": [{"type": "model_output", "content": [content]}],
        "usage": {"total_input_tokens": 300, "total_output_tokens": 20, "total_tokens": 320,
                  "input_tokens_by_modality": [{"modality": "audio", "tokens": 290}, {"modality": "text", "tokens": 10}]},
    }))
    .into_response()
}

/// `POST /v1/text:synthesize`.
pub async fn synthesize(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    shared.record(|| recorded(&m, &u, &h, body.clone()));
    if let Some(r) = cloud_refusal(&h) {
        return r;
    }
    let text = body["input"]["text"]
        .as_str()
        .or(body["input"]["ssml"].as_str())
        .unwrap_or("");
    if text.is_empty() {
        return error(400, "Either `input.text` or `input.ssml` is required.");
    }
    if !body["voice"]["languageCode"].is_string() {
        return error(400, "Voice.language_code is required.");
    }
    let audio = match body["audioConfig"]["audioEncoding"].as_str() {
        Some("LINEAR16") => {
            let pcm = pcm_for(text);
            let mut w = b"RIFF".to_vec();
            w.extend((36 + pcm.len() as u32).to_le_bytes());
            w.extend(b"WAVEfmt ");
            w.extend(16u32.to_le_bytes());
            w.extend([1u8, 0, 1, 0]);
            w.extend(24000u32.to_le_bytes());
            w.extend(48000u32.to_le_bytes());
            w.extend([2u8, 0, 16, 0]);
            w.extend(b"data");
            w.extend((pcm.len() as u32).to_le_bytes());
            w.extend(pcm);
            w
        }
        Some("MP3") => [b"ID3".as_slice(), text.as_bytes()].concat(),
        Some("OGG_OPUS") => [b"OggS".as_slice(), text.as_bytes()].concat(),
        Some("FLAC") => [b"fLaC".as_slice(), text.as_bytes()].concat(),
        other => {
            return error(
                400,
                &format!("Invalid value at 'audio_config.audio_encoding' ({other:?})"),
            )
        }
    };
    axum::Json(json!({"audioContent": b64().encode(audio)})).into_response()
}

/// `POST /v2/projects/{p}/locations/{l}/recognizers/{recognizer}:recognize`.
pub async fn recognize(
    State(shared): State<Arc<Shared>>,
    Path((_project, _location, spec)): Path<(String, String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    shared.record(|| recorded(&m, &u, &h, body.clone()));
    if spec != "_:recognize" {
        return error(404, &format!("recognizer {spec} not found"));
    }
    if let Some(r) = cloud_refusal(&h) {
        return r;
    }
    let config = &body["config"];
    if !config["model"].is_string() {
        return error(400, "config.model is required when no recognizer is used");
    }
    let Some(lang) = config["languageCodes"]
        .as_array()
        .and_then(|l| l.first())
        .and_then(Value::as_str)
    else {
        return error(400, "config.language_codes is required");
    };
    let Some(audio) = body["content"].as_str().and_then(|c| b64().decode(c).ok()) else {
        return error(400, "Either content or uri is required");
    };
    // WAV: its length from the header, rounded up as Google bills whole seconds.
    let secs = (audio.len() >= 44 && &audio[..4] == b"RIFF")
        .then(|| {
            let rate = u32::from_le_bytes(audio[28..32].try_into().ok()?) as f64;
            (rate > 0.0).then(|| (audio.len() - 44) as f64 / rate)
        })
        .flatten()
        .unwrap_or(1.0)
        .ceil();
    let detected = if lang == "auto" { "en-us" } else { lang };
    axum::Json(json!({
        "results": [{"alternatives": [{"transcript": format!("Hello from mock audio: {} bytes", audio.len()), "confidence": 0.92}],
                     "resultEndOffset": format!("{secs}s"), "languageCode": detected}],
        "metadata": {"totalBilledDuration": format!("{secs}s"), "requestId": "mock-stt-1"},
    }))
    .into_response()
}
