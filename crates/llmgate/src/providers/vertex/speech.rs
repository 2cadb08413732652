//! Vertex AI's speech models that are not Gemini, as LiteLLM sends them: `/audio/speech` to
//! Cloud Text-to-Speech (`v1/text:synthesize`: OpenAI's voices mapped to Google voices, the
//! language taken from the voice name, `response_format` as `audioEncoding` (`LINEAR16` by
//! default), `speed` as `speakingRate`, SSML when the input holds `<speak>`; the base64
//! `audioContent` decoded), and `/audio/transcriptions` to Speech-to-Text v2
//! (`v2/projects/{p}/locations/{l}/recognizers/_:recognize` on `{l}-speech.googleapis.com`,
//! location `us` unless the deployment names one; the audio inline, `language` (as a BCP-47
//! tag) or `auto`;
//! the results' first alternatives joined, the billed duration as `duration`; `json` and
//! `text` only). Both carry the project as `x-goog-user-project`.

use base64::Engine;
use bytes::Bytes;
use llmgate_types::SpeechRequest;
use serde_json::{json, Value};

use super::{param, Site, NAME};
use crate::media::{Audio, Form, Transcript};
use crate::providers::gemini::errors::litellm_class;
use crate::providers::gemini::transcribe::{audio_file, language_tag, transcript, Format, Heard};
use crate::providers::http::{header_pairs, json, path_segment, send, SegmentKind};
use crate::providers::Ctx;
use crate::response::Response;
use crate::{ErrorKind, LlmError};

const TTS_URL: &str = "https://texttospeech.googleapis.com/v1/text:synthesize";
/// Speech-to-Text's default location in LiteLLM.
const STT_LOCATION: &str = "us";

/// LiteLLM's OpenAI → Google voice names.
fn voice_name(v: &str) -> &str {
    match v {
        "alloy" | "nova" => "en-US-Studio-O",
        "echo" => "en-US-Studio-M",
        "fable" => "en-GB-Studio-B",
        "onyx" => "en-US-Wavenet-D",
        "shimmer" => "en-US-Wavenet-F",
        _ => v,
    }
}

/// `response_format` as Cloud TTS's `audioEncoding` (an unknown one sent as it is).
fn encoding(f: Option<&str>) -> String {
    match f {
        None | Some("wav") | Some("pcm") => "LINEAR16".into(),
        Some("mp3") | Some("aac") => "MP3".into(),
        Some("opus") => "OGG_OPUS".into(),
        Some("flac") => "FLAC".into(),
        Some(other) => other.into(),
    }
}

/// Cloud Text-to-Speech's body for `req`.
pub fn tts_body(req: &SpeechRequest) -> Value {
    let text = req.input.as_deref().unwrap_or("");
    let ssml = req.extra.get("use_ssml").and_then(Value::as_bool) == Some(true)
        || text.contains("<speak>");
    let input = if ssml {
        json!({"ssml": text})
    } else {
        json!({"text": text})
    };
    let voice = match &req.voice {
        Some(Value::Object(o)) => Value::Object(o.clone()),
        Some(Value::String(v)) => {
            let name = voice_name(v);
            let parts: Vec<&str> = name.split('-').collect();
            let lang = if parts.len() >= 2 {
                format!("{}-{}", parts[0], parts[1])
            } else {
                "en-US".into()
            };
            json!({"languageCode": lang, "name": name})
        }
        _ => json!({"languageCode": "en-US", "name": "en-US-Studio-O"}),
    };
    let audio_config = match req.extra.get("audioConfig").filter(|c| c.is_object()) {
        Some(c) => c.clone(),
        None => {
            let rate = req
                .extra
                .get("speed")
                .filter(|s| s.is_number())
                .map_or_else(|| "1".to_string(), |s| s.to_string());
            json!({"audioEncoding": encoding(req.response_format.as_deref()), "speakingRate": rate})
        }
    };
    json!({"input": input, "voice": voice, "audioConfig": audio_config})
}

/// The content type audio bytes announce.
fn sniff(b: &[u8]) -> &'static str {
    if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE" {
        "audio/wav"
    } else if b.starts_with(b"OggS") {
        "audio/ogg"
    } else if b.starts_with(b"fLaC") {
        "audio/flac"
    } else {
        "audio/mpeg"
    }
}

fn post(cx: &Ctx<'_>, url: &str, site: &Site, body: &Value) -> reqwest::RequestBuilder {
    let mut rb = cx
        .http
        .post(url)
        .bearer_auth(&site.token)
        .header("x-goog-user-project", &site.project)
        .header("content-type", "application/json");
    for (k, v) in &cx.opts.extra_headers {
        rb = rb.header(k, v);
    }
    rb.body(serde_json::to_vec(body).unwrap_or_default())
}

/// Cloud Text-to-Speech. A deployment's `api_base` replaces Google's host (a full
/// `...:synthesize` URL is used as it is, as LiteLLM uses it).
pub async fn synthesize(cx: &Ctx<'_>, req: SpeechRequest) -> Result<Response<Audio>, LlmError> {
    let site = Site::resolve(cx).await?;
    let url = match cx.opts.api_base.as_deref().filter(|b| !b.is_empty()) {
        Some(b) if b.ends_with(":synthesize") => b.to_string(),
        Some(b) => format!(
            "{}/v1/text:synthesize",
            b.trim_end_matches('/').trim_end_matches("/v1")
        ),
        None => TTS_URL.to_string(),
    };
    let res = send(
        post(cx, &url, &site, &tts_body(&req)),
        NAME,
        cx.opts.timeout,
        true,
    )
    .await
    .map_err(litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, NAME).await?;
    let fail = |m: &str| LlmError::new(ErrorKind::InternalServer, m).with_provider(NAME);
    let b64 = v["audioContent"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| fail("No audioContent in Vertex AI TTS response"))?;
    let audio = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| fail("Invalid base64 audioContent in Vertex AI TTS response"))?;
    let content_type = sniff(&audio).to_string();
    let bytes = Bytes::from(audio);
    Ok(Response {
        body: Audio {
            content_type,
            stream: Box::pin(futures::stream::once(async move { Ok(bytes) })),
            usage: None,
        },
        headers,
        api_base: url,
    })
}

/// Speech-to-Text v2's recognize body.
pub fn stt_body(model: &str, form: &Form, data: &[u8]) -> Value {
    let lang = form
        .field("language")
        .filter(|l| !l.trim().is_empty())
        .map_or_else(|| "auto".to_string(), language_tag);
    json!({
        "config": {"model": model, "languageCodes": [lang],
                   "features": {"enableAutomaticPunctuation": true}, "autoDecodingConfig": {}},
        "content": base64::engine::general_purpose::STANDARD.encode(data),
    })
}

/// Speech-to-Text v2's answer.
pub fn stt_heard(v: &Value) -> Heard {
    let results = v["results"].as_array().cloned().unwrap_or_default();
    let text = results
        .iter()
        .filter_map(|r| {
            r["alternatives"][0]["transcript"]
                .as_str()
                .filter(|t| !t.is_empty())
        })
        .collect::<Vec<_>>()
        .join(" ");
    Heard {
        text,
        language: results
            .iter()
            .find_map(|r| r["languageCode"].as_str().map(str::to_string)),
        duration: v["metadata"]["totalBilledDuration"]
            .as_str()
            .and_then(|d| d.strip_suffix('s'))
            .and_then(|d| d.parse().ok()),
        ..Default::default()
    }
}

/// Speech-to-Text v2.
pub async fn recognize(
    cx: &Ctx<'_>,
    model: &str,
    form: &Form,
) -> Result<Response<Transcript>, LlmError> {
    let format = Format::of(
        form,
        &[Format::Json, Format::Text],
        "Google Speech-to-Text",
        cx.opts.drop_params,
        NAME,
    )?;
    let (file, _) = audio_file(form, NAME)?;
    let model = path_segment(model, SegmentKind::Segment).map_err(|e| e.with_provider(NAME))?;
    let site = Site::resolve(cx).await?;
    let location = param(cx.opts, &["vertex_location", "vertex_ai_location"])
        .and_then(Value::as_str)
        .unwrap_or(STT_LOCATION);
    path_segment(location, SegmentKind::Segment).map_err(|e| e.with_provider(NAME))?;
    let base = match cx.opts.api_base.as_deref().filter(|b| !b.is_empty()) {
        Some(b) => b.trim_end_matches('/').to_string(),
        None if location == "global" => "https://speech.googleapis.com".into(),
        None => format!("https://{location}-speech.googleapis.com"),
    };
    let url = format!(
        "{base}/v2/projects/{}/locations/{location}/recognizers/_:recognize",
        site.project
    );
    let res = send(
        post(cx, &url, &site, &stt_body(model, form, &file.data)),
        NAME,
        cx.opts.timeout,
        true,
    )
    .await
    .map_err(litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, NAME).await?;
    Ok(Response {
        body: transcript(stt_heard(&v), format, NAME)?,
        headers,
        api_base: url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tts_bodies_as_litellm_sends_them() {
        let r: SpeechRequest = serde_json::from_value(json!({"model": "chirp", "input": "hi", "voice": "fable", "response_format": "mp3", "speed": 1.5})).unwrap();
        assert_eq!(
            tts_body(&r),
            json!({"input": {"text": "hi"}, "voice": {"languageCode": "en-GB", "name": "en-GB-Studio-B"},
                   "audioConfig": {"audioEncoding": "MP3", "speakingRate": "1.5"}})
        );
        let r: SpeechRequest =
            serde_json::from_value(json!({"input": "<speak>hi</speak>"})).unwrap();
        let b = tts_body(&r);
        assert_eq!(b["input"], json!({"ssml": "<speak>hi</speak>"}));
        assert_eq!(b["voice"]["name"], "en-US-Studio-O");
        assert_eq!(b["audioConfig"]["audioEncoding"], "LINEAR16");
    }

    #[test]
    fn stt_answers() {
        let v = json!({"results": [{"alternatives": [{"transcript": "hello"}], "languageCode": "en-us"},
                                   {"alternatives": [{"transcript": "world"}]}],
                       "metadata": {"totalBilledDuration": "3s"}});
        let h = stt_heard(&v);
        assert_eq!(
            (h.text.as_str(), h.language.as_deref(), h.duration),
            ("hello world", Some("en-us"), Some(3.0))
        );
    }
}
