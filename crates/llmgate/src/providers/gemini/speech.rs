//! `/audio/speech` on Gemini's TTS models as LiteLLM serves it (its speech-to-completion
//! bridge): `:generateContent` with the input as the one user turn, `responseModalities:
//! ["AUDIO"]` and the voice as `speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName` (an
//! object voice is sent as the whole `speechConfig`, multi-speaker configs included). Gemini
//! answers base64 16-bit mono PCM inline (`audio/L16;codec=pcm;rate=24000`), sent on as `wav`
//! (a RIFF header added; the default) or raw `pcm`; any other format is refused before the
//! call, as LiteLLM refuses it. Shared by AI Studio and Vertex AI through [`Target`].
//!
//! Voices: LiteLLM passes the name through, and Gemini refuses OpenAI's names; here OpenAI's
//! voices are mapped to Gemini's prebuilt voices (so `/health`'s `alloy` and OpenAI clients'
//! defaults work); Gemini's own names are sent as they are.

use base64::Engine;
use bytes::Bytes;
use llmgate_types::SpeechRequest;
use serde_json::{json, Value};

use super::{errors, Target};
use crate::media::{Audio, SpeechUsage};
use crate::providers::http::{header_pairs, json, send};
use crate::providers::Ctx;
use crate::response::Response;
use crate::{ErrorKind, LlmError};

/// The formats Gemini's PCM can be given as.
const FORMATS: &str = "pcm, wav";
/// Gemini TTS's sample rate when the answer's MIME type names none.
const DEFAULT_RATE: u32 = 24_000;

/// OpenAI's voice names as Gemini prebuilt voices; other names are Gemini's own.
fn voice_name(v: &str) -> &str {
    match v.to_ascii_lowercase().as_str() {
        "alloy" => "Kore",
        "ash" => "Charon",
        "ballad" => "Algieba",
        "coral" => "Aoede",
        "echo" => "Puck",
        "fable" => "Fenrir",
        "nova" => "Leda",
        "onyx" => "Orus",
        "sage" => "Schedar",
        "shimmer" => "Zephyr",
        "verse" => "Iapetus",
        "marin" => "Despina",
        "cedar" => "Enceladus",
        _ => v,
    }
}

/// `wav` (also when none is asked) or `pcm`; anything else LiteLLM's refusal.
fn format(req: &SpeechRequest, provider: &'static str) -> Result<&'static str, LlmError> {
    match req.response_format.as_deref() {
        None | Some("wav") => Ok("wav"),
        Some("pcm") => Ok("pcm"),
        Some(f) => Err(LlmError::bad_request(format!(
            "Gemini TTS only produces raw PCM16 audio, so response_format='{f}' is not supported. Supported response formats: {FORMATS}."
        ))
        .with_provider(provider)),
    }
}

/// The `generateContent` body for `req` (`vertex`: Vertex's, the same shape).
pub fn body(req: &SpeechRequest) -> Value {
    let mut config = json!({"responseModalities": ["AUDIO"]});
    match &req.voice {
        Some(Value::String(v)) if !v.trim().is_empty() => {
            config["speechConfig"] = json!({"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice_name(v.trim())}}});
        }
        Some(Value::Object(o)) => config["speechConfig"] = Value::Object(o.clone()),
        _ => {}
    }
    json!({
        "contents": [{"role": "user", "parts": [{"text": req.input.as_deref().unwrap_or("")}]}],
        "generationConfig": config,
    })
}

/// The sample rate a PCM MIME type names (`audio/L16;codec=pcm;rate=24000`).
fn rate(mime: &str) -> u32 {
    mime.split(';')
        .filter_map(|p| p.trim().strip_prefix("rate="))
        .find_map(|r| r.parse().ok())
        .unwrap_or(DEFAULT_RATE)
}

/// 16-bit mono PCM with a RIFF/WAVE header.
pub fn wav(pcm: &[u8], rate: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(44 + pcm.len());
    let size = pcm.len() as u32;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + size).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(pcm);
    out
}

/// The `data` chunk of a WAV file (None: not one, or truncated).
fn wav_data(audio: &[u8]) -> Option<&[u8]> {
    if audio.len() < 12 || &audio[..4] != b"RIFF" || &audio[8..12] != b"WAVE" {
        return None;
    }
    let mut at = 12;
    while at + 8 <= audio.len() {
        let size = u32::from_le_bytes(audio[at + 4..at + 8].try_into().ok()?) as usize;
        let start = at + 8;
        let end = start.checked_add(size)?;
        if end > audio.len() {
            return None;
        }
        if &audio[at..at + 4] == b"data" {
            return Some(&audio[start..end]);
        }
        at = end + (size & 1);
    }
    None
}

/// The inline audio of Gemini's answer, as `format` wants it, with its content type.
pub fn audio(v: &Value, format: &str, provider: &'static str) -> Result<(Bytes, String), LlmError> {
    let part = v["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["content"]["parts"].as_array().into_iter().flatten())
        .find_map(|p| {
            let d = p.get("inlineData").or_else(|| p.get("inline_data"))?;
            let mime = d
                .get("mimeType")
                .or_else(|| d.get("mime_type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            mime.starts_with("audio/")
                .then(|| Some((mime, d["data"].as_str()?)))
                .flatten()
        });
    let fail = |m: &str| LlmError::new(ErrorKind::InternalServer, m).with_provider(provider);
    let Some((mime, b64)) = part else {
        return Err(fail("No audio part found in the response"));
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| fail("The audio in the response is not valid base64"))?;
    Ok(match (format, wav_data(&raw)) {
        ("pcm", Some(pcm)) => (Bytes::copy_from_slice(pcm), "audio/pcm".into()),
        ("pcm", None) => (Bytes::from(raw), "audio/pcm".into()),
        (_, Some(_)) => (Bytes::from(raw), "audio/wav".into()),
        (_, None) => (Bytes::from(wav(&raw, rate(mime))), "audio/wav".into()),
    })
}

/// `usageMetadata` as speech usage (audio tokens from `candidatesTokensDetails`, else every
/// output token).
fn usage(v: &Value) -> Option<SpeechUsage> {
    let u = v.get("usageMetadata")?;
    let output = u["candidatesTokenCount"].as_u64().unwrap_or(0);
    let audio = u["candidatesTokensDetails"].as_array().map(|d| {
        d.iter()
            .filter(|d| d["modality"] == "AUDIO")
            .filter_map(|d| d["tokenCount"].as_u64())
            .sum()
    });
    Some(SpeechUsage {
        input_tokens: u["promptTokenCount"].as_u64().unwrap_or(0),
        output_tokens: output,
        output_audio_tokens: audio.unwrap_or(output),
    })
}

pub async fn speak(
    cx: &Ctx<'_>,
    req: SpeechRequest,
    t: &Target,
) -> Result<Response<Audio>, LlmError> {
    let format = format(&req, t.provider)?;
    let body = body(&req);
    let res = send(
        t.post(cx, "generateContent", &body),
        t.provider,
        cx.opts.timeout,
        true,
    )
    .await
    .map_err(errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, t.provider).await?;
    let (bytes, content_type) = audio(&v, format, t.provider)?;
    Ok(Response {
        body: Audio {
            content_type,
            stream: Box::pin(futures::stream::once(async move { Ok(bytes) })),
            usage: usage(&v),
        },
        headers,
        api_base: t.model_url.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> SpeechRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn bodies_and_formats() {
        let r =
            req(json!({"model": "gemini-2.5-flash-preview-tts", "input": "hi", "voice": "alloy"}));
        assert_eq!(
            body(&r),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                   "generationConfig": {"responseModalities": ["AUDIO"],
                       "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}}})
        );
        let r = req(json!({"input": "hi", "voice": "Puck"}));
        assert_eq!(
            body(&r)["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]
                ["voiceName"],
            "Puck"
        );
        assert_eq!(format(&r, "gemini").unwrap(), "wav");
        let r = req(json!({"input": "hi", "response_format": "mp3"}));
        let e = format(&r, "gemini").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("Supported response formats: pcm, wav"));
    }

    #[test]
    fn pcm_becomes_wav_or_stays_raw() {
        let pcm = [1u8, 2, 3, 4];
        let b64 = base64::engine::general_purpose::STANDARD.encode(pcm);
        let v = json!({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=16000", "data": b64}}]}}],
                       "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 9, "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 9}]}});
        let (w, ct) = audio(&v, "wav", "gemini").unwrap();
        assert_eq!(ct, "audio/wav");
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(w[24..28].try_into().unwrap()), 16000);
        assert_eq!(wav_data(&w), Some(&pcm[..]));
        let (p, ct) = audio(&v, "pcm", "gemini").unwrap();
        assert_eq!((&p[..], ct.as_str()), (&pcm[..], "audio/pcm"));
        assert_eq!(
            usage(&v),
            Some(SpeechUsage {
                input_tokens: 3,
                output_tokens: 9,
                output_audio_tokens: 9
            })
        );
        assert!(audio(&json!({"candidates": []}), "wav", "gemini").is_err());
    }
}
