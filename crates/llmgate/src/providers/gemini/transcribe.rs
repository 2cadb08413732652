//! `/audio/transcriptions` on Google's APIs as LiteLLM sends it: AI Studio's transcription
//! models (`gemini-3.5-transcribe`) through the Interactions API (`POST /v1beta/interactions`,
//! `Api-Revision` pinned, the audio base64 as an `audio` input, `language` and word
//! timestamps in `generation_config.transcription_config`), Vertex AI's Gemini transcription
//! models through `:generateContent` with the audio inline and `audioTranscriptionConfig`.
//! Answers become OpenAI's transcription in the `response_format` asked for: `json` (text and
//! token usage), `verbose_json` (task, language, duration, words), `text`; on AI Studio also
//! `srt` and `vtt`, built from the word timings it returns when asked (LiteLLM synthesizes
//! subtitles the same way). Vertex AI takes only `json` and `text`, as LiteLLM allows.

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::{errors, Auth, Target};
use crate::media::{FilePart, Form, Transcript};
use crate::providers::fetch::{bare, mime_from_extension};
use crate::providers::http::{header_pairs, json, send};
use crate::providers::Ctx;
use crate::response::Response;
use crate::{ErrorKind, LlmError};

/// The Interactions API revision LiteLLM pins.
const API_REVISION: &str = "2026-05-20";
/// Audio Gemini reads (its documented input types).
const AUDIO_TYPES: &[&str] = &[
    "audio/wav",
    "audio/mp3",
    "audio/aiff",
    "audio/aac",
    "audio/ogg",
    "audio/flac",
];

/// An OpenAI `response_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Verbose,
    Text,
    Srt,
    Vtt,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Verbose => "verbose_json",
            Format::Text => "text",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
        }
    }

    /// The form's `response_format` (default `json`) if `allowed`; else LiteLLM's refusal,
    /// or (`drop_params`) the default.
    pub fn of(
        form: &Form,
        allowed: &[Format],
        who: &str,
        drop_params: bool,
        provider: &'static str,
    ) -> Result<Format, LlmError> {
        let asked = form.field("response_format").unwrap_or("json");
        let all = [
            Format::Json,
            Format::Verbose,
            Format::Text,
            Format::Srt,
            Format::Vtt,
        ];
        match all.iter().find(|f| f.name() == asked) {
            Some(f) if allowed.contains(f) => Ok(*f),
            _ if drop_params => Ok(Format::Json),
            _ => {
                let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
                Err(LlmError::bad_request(format!(
                    "{who} does not support response_format={asked:?}. Supported values: {}. To drop unsupported openai params from the call, set `litellm.drop_params = True`",
                    names.join(", ")
                ))
                .with_provider(provider))
            }
        }
    }
}

/// What a provider heard, before it is given OpenAI's shape.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Heard {
    pub text: String,
    /// `{"word", "start", "end", "speaker"?}` each.
    pub words: Vec<Value>,
    pub duration: Option<f64>,
    pub language: Option<String>,
    /// OpenAI's `usage` (`{"type": "tokens", ...}`).
    pub usage: Option<Value>,
}

/// The uploaded audio and its MIME type: the part's type when it is audio, else its
/// extension's, else what its first bytes say; a file that is none of Gemini's audio types is
/// a 400 before any call.
pub fn audio_file<'a>(
    form: &'a Form,
    provider: &'static str,
) -> Result<(&'a FilePart, String), LlmError> {
    let file = form.file("file").ok_or_else(|| {
        LlmError::bad_request("`file` is a required file field").with_provider(provider)
    })?;
    let sniffed = || {
        let d = &file.data;
        let mime = if d.len() >= 12 && &d[..4] == b"RIFF" && &d[8..12] == b"WAVE" {
            "audio/wav"
        } else if d.starts_with(b"ID3")
            || d.starts_with(&[0xFF, 0xFB])
            || d.starts_with(&[0xFF, 0xF3])
        {
            "audio/mp3"
        } else if d.starts_with(b"OggS") {
            "audio/ogg"
        } else if d.starts_with(b"fLaC") {
            "audio/flac"
        } else if d.starts_with(b"FORM") {
            "audio/aiff"
        } else {
            return None;
        };
        Some(mime.to_string())
    };
    let mime = file
        .content_type
        .as_deref()
        .map(bare)
        .map(|m| match m.as_str() {
            "audio/mpeg" => "audio/mp3".to_string(),
            "audio/x-wav" | "audio/wave" => "audio/wav".to_string(),
            _ => m,
        })
        .filter(|m| AUDIO_TYPES.contains(&m.as_str()))
        .or_else(|| {
            mime_from_extension(&file.filename)
                .filter(|m| AUDIO_TYPES.contains(m))
                .map(str::to_string)
        })
        .or_else(sniffed);
    match mime {
        Some(m) => Ok((file, m)),
        None => Err(LlmError::bad_request(format!(
            "{:?} is not audio this model reads: upload one of {}",
            file.filename,
            AUDIO_TYPES.join(", ")
        ))
        .with_provider(provider)),
    }
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// `language` as the BCP-47 tag LiteLLM sends: a bare language code with its usual region
/// (`en` → `en-US`, `ja` → `ja-JP`), case normalized (`en-gb` → `en-GB`), anything else as
/// given (`auto`).
pub fn language_tag(lang: &str) -> String {
    let lang = lang.trim();
    let region = match lang.to_ascii_lowercase().as_str() {
        "en" => "en-US",
        "ja" => "ja-JP",
        "de" => "de-DE",
        "fr" => "fr-FR",
        "es" => "es-ES",
        "it" => "it-IT",
        "ko" => "ko-KR",
        "pt" => "pt-BR",
        "zh" => "zh-CN",
        "hi" => "hi-IN",
        "ru" => "ru-RU",
        _ => "",
    };
    if !region.is_empty() {
        return region.to_string();
    }
    let mut parts = lang.split(['-', '_']);
    let mut out = parts.next().unwrap_or("").to_ascii_lowercase();
    for p in parts {
        out.push('-');
        out.push_str(&if p.len() == 2 {
            p.to_ascii_uppercase()
        } else {
            p.to_string()
        });
    }
    out
}

fn language(form: &Form) -> Option<String> {
    form.field("language")
        .filter(|l| !l.trim().is_empty())
        .map(language_tag)
}

/// Whether the form asks for word timestamps (`timestamp_granularities[]=word`, or a list).
fn wants_words(form: &Form) -> bool {
    form.fields.iter().any(|(k, v)| {
        k.starts_with("timestamp_granularities")
            && (v == "word"
                || serde_json::from_str::<Vec<String>>(v)
                    .is_ok_and(|l| l.iter().any(|g| g == "word")))
    })
}

/// The Interactions API's body (AI Studio).
pub fn interaction_body(
    model: &str,
    form: &Form,
    mime: &str,
    data: &[u8],
    format: Format,
) -> Value {
    let mut config = Map::new();
    if let Some(l) = language(form) {
        config.insert("language_codes".into(), json!([l]));
    }
    if wants_words(form) || matches!(format, Format::Srt | Format::Vtt) {
        config.insert(
            "mode".into(),
            json!({"type": "verbatim", "timestamp_granularities": ["word"], "diarization_mode": "speaker"}),
        );
    }
    let mut body = json!({
        "model": model.strip_prefix("models/").unwrap_or(model),
        "input": [{"type": "audio", "data": b64(data), "mime_type": mime}],
    });
    if !config.is_empty() {
        body["generation_config"] = json!({"transcription_config": config});
    }
    body
}

/// `"1.25s"` → 1.25.
fn offset_seconds(v: &Value) -> Option<f64> {
    v.as_str()?.strip_suffix('s')?.parse().ok()
}

fn provider_error(provider: &'static str, m: String) -> LlmError {
    LlmError::new(ErrorKind::InternalServer, m).with_provider(provider)
}

/// The Interactions API's answer.
pub fn interaction_heard(v: &Value, provider: &'static str) -> Result<Heard, LlmError> {
    if v["status"] != "completed" {
        return Err(provider_error(
            provider,
            format!(
                "Gemini transcription interaction did not complete (status={}): {v}",
                v["status"].as_str().unwrap_or("None")
            ),
        ));
    }
    let texts: Vec<&Value> = v["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["content"].as_array().into_iter().flatten())
        .filter(|c| c["type"] == "text" && c["text"].is_string())
        .collect();
    let text = texts
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<Value> = texts
        .iter()
        .flat_map(|c| c["annotations"].as_array().into_iter().flatten())
        .filter(|a| a["type"] == "word_info" && a["text"].is_string())
        .map(|a| {
            let mut w = json!({"word": a["text"]});
            for (k, at) in [("start", "start_offset"), ("end", "end_offset")] {
                if let Some(s) = offset_seconds(&a[at]) {
                    w[k] = json!(s);
                }
            }
            if a["speaker"].is_string() {
                w["speaker"] = a["speaker"].clone();
            }
            w
        })
        .collect();
    let duration = words.last().and_then(|w| w["end"].as_f64());
    let usage = v.get("usage").filter(|u| u.is_object()).map(|u| {
        let input = u["total_input_tokens"].as_u64().unwrap_or(0);
        let audio: u64 = u["input_tokens_by_modality"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["modality"] == "audio")
            .filter_map(|m| m["tokens"].as_u64())
            .sum();
        json!({"type": "tokens", "input_tokens": input, "output_tokens": u["total_output_tokens"].as_u64().unwrap_or(0),
               "total_tokens": u["total_tokens"].as_u64().unwrap_or(0),
               "input_token_details": {"audio_tokens": audio, "text_tokens": input.saturating_sub(audio)}})
    });
    Ok(Heard {
        text,
        words,
        duration,
        language: None,
        usage,
    })
}

/// Vertex AI's Gemini transcription body.
pub fn vertex_body(form: &Form, mime: &str, data: &[u8]) -> Value {
    let mut config = json!({});
    if let Some(l) = language(form) {
        config["languageCodes"] = json!([l]);
    }
    json!({
        "contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": mime, "data": b64(data)}}]}],
        "generationConfig": {"audioTranscriptionConfig": config},
    })
}

/// Vertex AI's Gemini transcription answer: its text parts, its token usage.
pub fn vertex_heard(v: &Value) -> Heard {
    let text = v["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["content"]["parts"].as_array().into_iter().flatten())
        .filter_map(|p| p["text"].as_str().filter(|t| !t.is_empty()))
        .collect::<Vec<_>>()
        .join(" ");
    let usage = v.get("usageMetadata").map(|u| {
        let input = u["promptTokenCount"].as_u64().unwrap_or(0);
        let audio: u64 = u["promptTokensDetails"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["modality"] == "AUDIO")
            .filter_map(|d| d["tokenCount"].as_u64())
            .sum();
        json!({"type": "tokens", "input_tokens": input, "output_tokens": u["candidatesTokenCount"].as_u64().unwrap_or(0),
               "total_tokens": u["totalTokenCount"].as_u64().unwrap_or(0),
               "input_token_details": {"audio_tokens": audio, "text_tokens": input.saturating_sub(audio)}})
    });
    Heard {
        text,
        usage,
        ..Default::default()
    }
}

/// `secs` as a subtitle timestamp (`00:00:01,250`; VTT with a dot).
fn stamp(secs: f64, sep: char) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Subtitles from word timings: cues of up to 12 words, a new cue after a pause of a second.
fn subtitles(words: &[Value], vtt: bool) -> Option<String> {
    let timed: Vec<(&str, f64, f64)> = words
        .iter()
        .filter_map(|w| {
            Some((
                w["word"].as_str()?,
                w["start"].as_f64()?,
                w["end"].as_f64()?,
            ))
        })
        .collect();
    if timed.is_empty() {
        return None;
    }
    let mut cues: Vec<Vec<(&str, f64, f64)>> = vec![];
    for w in timed {
        match cues.last_mut() {
            Some(c) if c.len() < 12 && w.1 - c.last().map_or(w.1, |l| l.2) < 1.0 => c.push(w),
            _ => cues.push(vec![w]),
        }
    }
    let sep = if vtt { '.' } else { ',' };
    let mut out = if vtt {
        "WEBVTT\n\n".to_string()
    } else {
        String::new()
    };
    for (i, c) in cues.iter().enumerate() {
        if !vtt {
            out.push_str(&format!("{}\n", i + 1));
        }
        let text: Vec<&str> = c.iter().map(|w| w.0).collect();
        out.push_str(&format!(
            "{} --> {}\n{}\n\n",
            stamp(c[0].1, sep),
            stamp(c[c.len() - 1].2, sep),
            text.join(" ")
        ));
    }
    Some(out)
}

/// `heard` in OpenAI's shape for `format`. Every answer keeps the verbose JSON beside it, so
/// that its usage or duration prices the call whatever the client sees.
pub fn transcript(
    h: Heard,
    format: Format,
    provider: &'static str,
) -> Result<Transcript, LlmError> {
    let mut verbose = json!({"task": "transcribe", "text": h.text});
    if let Some(l) = &h.language {
        verbose["language"] = json!(l);
    }
    if let Some(d) = h.duration {
        verbose["duration"] = json!(d);
    }
    if !h.words.is_empty() {
        verbose["words"] = json!(h.words);
    }
    if let Some(u) = &h.usage {
        verbose["usage"] = u.clone();
    }
    let text_body = |body: String, ct: &str| Transcript {
        content_type: ct.to_string(),
        body: Bytes::from(body),
        json: Some(verbose.clone()),
    };
    Ok(match format {
        Format::Json => {
            let mut j = json!({"text": h.text});
            if let Some(u) = h.usage {
                j["usage"] = u;
            }
            text_body(j.to_string(), "application/json")
        }
        Format::Verbose => {
            Transcript::new("application/json".into(), Bytes::from(verbose.to_string()))
        }
        Format::Text => text_body(h.text.clone(), "text/plain; charset=utf-8"),
        Format::Srt | Format::Vtt => {
            let vtt = format == Format::Vtt;
            // Silence has no cues; words without timings cannot be given any.
            let subs = subtitles(&h.words, vtt).or_else(|| {
                h.text
                    .trim()
                    .is_empty()
                    .then(|| if vtt { "WEBVTT\n\n" } else { "" }.to_string())
            });
            let Some(subs) = subs else {
                return Err(provider_error(
                    provider,
                    "The transcription has no word timings to build subtitles from".into(),
                ));
            };
            text_body(
                subs,
                if vtt {
                    "text/vtt; charset=utf-8"
                } else {
                    "text/plain; charset=utf-8"
                },
            )
        }
    })
}

/// AI Studio: the Interactions API under the base's host (the base's API version replaced
/// by the Interactions API's).
pub async fn studio(
    cx: &Ctx<'_>,
    base: &str,
    model: &str,
    form: &Form,
    t: &Target,
) -> Result<Response<Transcript>, LlmError> {
    let p = t.provider;
    let format = Format::of(
        form,
        &[
            Format::Json,
            Format::Verbose,
            Format::Text,
            Format::Srt,
            Format::Vtt,
        ],
        "Gemini transcription",
        cx.opts.drop_params,
        p,
    )?;
    let (file, mime) = audio_file(form, p)?;
    let body = interaction_body(model, form, &mime, &file.data, format);
    let root = base
        .trim_end_matches('/')
        .trim_end_matches("/v1beta")
        .trim_end_matches("/v1alpha")
        .trim_end_matches("/v1");
    let url = format!("{root}/v1beta/interactions");
    let Auth::ApiKey(key) = &t.auth else {
        return Err(LlmError::bad_request("Google API key is required").with_provider(p));
    };
    let mut rb = cx
        .http
        .post(&url)
        .header("content-type", "application/json")
        .header("x-goog-api-key", key)
        .header("Api-Revision", API_REVISION);
    for (k, v) in &cx.opts.extra_headers {
        rb = rb.header(k, v);
    }
    let rb = rb.body(serde_json::to_vec(&body).unwrap_or_default());
    let res = send(rb, p, cx.opts.timeout, true)
        .await
        .map_err(errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, p).await?;
    let heard = interaction_heard(&v, p)?;
    Ok(Response {
        body: transcript(heard, format, p)?,
        headers,
        api_base: url,
    })
}

/// Vertex AI: `:generateContent` on the Gemini transcription model.
pub async fn vertex(
    cx: &Ctx<'_>,
    form: &Form,
    t: &Target,
) -> Result<Response<Transcript>, LlmError> {
    let p = t.provider;
    let format = Format::of(
        form,
        &[Format::Json, Format::Text],
        "Vertex AI Gemini transcription",
        cx.opts.drop_params,
        p,
    )?;
    let (file, mime) = audio_file(form, p)?;
    let body = vertex_body(form, &mime, &file.data);
    let res = send(
        t.post(cx, "generateContent", &body),
        p,
        cx.opts.timeout,
        true,
    )
    .await
    .map_err(errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, p).await?;
    Ok(Response {
        body: transcript(vertex_heard(&v), format, p)?,
        headers,
        api_base: t.model_url.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)], ct: Option<&str>, name: &str, data: &'static [u8]) -> Form {
        Form {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: vec![FilePart {
                name: "file".into(),
                filename: name.into(),
                content_type: ct.map(str::to_string),
                data: Bytes::from_static(data),
            }],
        }
    }

    #[test]
    fn interaction_request_and_answer() {
        let f = form(
            &[("language", "en"), ("timestamp_granularities[]", "word")],
            None,
            "a.wav",
            b"RIFF\0\0\0\0WAVEfmt ",
        );
        let (file, mime) = audio_file(&f, "gemini").unwrap();
        assert_eq!(mime, "audio/wav");
        let b = interaction_body("gemini-3.5-transcribe", &f, &mime, &file.data, Format::Json);
        assert_eq!(b["input"][0]["type"], "audio");
        assert_eq!(
            b["generation_config"]["transcription_config"]["language_codes"],
            json!(["en-US"])
        );
        assert_eq!(
            b["generation_config"]["transcription_config"]["mode"]["timestamp_granularities"],
            json!(["word"])
        );
        let plain = form(&[], Some("audio/mpeg"), "x.bin", b"\xff\xfb");
        let b = interaction_body("m", &plain, "audio/mp3", b"x", Format::Json);
        assert!(b.get("generation_config").is_none());
        let v = json!({"status": "completed", "steps": [{"type": "model_output", "content": [{"type": "text", "text": "hello world",
            "annotations": [{"type": "word_info", "text": "hello", "start_offset": "0s", "end_offset": "0.5s"},
                            {"type": "word_info", "text": "world", "start_offset": "0.6s", "end_offset": "1.2s", "speaker": "1"}]}]}],
            "usage": {"total_input_tokens": 30, "total_output_tokens": 4, "total_tokens": 34, "input_tokens_by_modality": [{"modality": "audio", "tokens": 25}]}});
        let h = interaction_heard(&v, "gemini").unwrap();
        assert_eq!(h.text, "hello world");
        assert_eq!(h.duration, Some(1.2));
        assert_eq!(
            h.usage.as_ref().unwrap()["input_token_details"]["text_tokens"],
            5
        );
        let srt = transcript(h.clone(), Format::Srt, "gemini").unwrap();
        assert_eq!(
            std::str::from_utf8(&srt.body).unwrap(),
            "1\n00:00:00,000 --> 00:00:01,200\nhello world\n\n"
        );
        let silent = Heard::default();
        let vtt = transcript(silent.clone(), Format::Vtt, "gemini").unwrap();
        assert_eq!(&vtt.body[..], b"WEBVTT\n\n");
        let untimed = Heard {
            text: "words".into(),
            ..silent
        };
        assert!(transcript(untimed, Format::Srt, "gemini").is_err());
        let t = transcript(h, Format::Text, "gemini").unwrap();
        assert_eq!(&t.body[..], b"hello world");
        assert!(t.token_usage().is_some());
        assert!(interaction_heard(&json!({"status": "failed"}), "gemini").is_err());
    }

    #[test]
    fn formats_and_files_refused() {
        let f = form(
            &[("response_format", "srt")],
            Some("text/plain"),
            "notes.txt",
            b"hello",
        );
        let e = Format::of(
            &f,
            &[Format::Json, Format::Text],
            "Vertex",
            false,
            "vertex_ai",
        )
        .unwrap_err();
        assert!(
            e.message.contains("Supported values: json, text"),
            "{}",
            e.message
        );
        assert_eq!(
            Format::of(&f, &[Format::Json], "Vertex", true, "vertex_ai").unwrap(),
            Format::Json
        );
        let e = audio_file(&f, "gemini").unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(language_tag("en-us"), "en-US");
        assert_eq!(language_tag("EN"), "en-US");
        assert_eq!(language_tag("en-GB"), "en-GB");
        assert_eq!(language_tag("auto"), "auto");
    }
}
