//! OpenAI's media endpoints as documented: `/images/generations` (JSON), `/images/edits` and
//! `/images/variations` (multipart, `image` required, edits need a `prompt`),
//! `/audio/transcriptions` and `/audio/translations` (multipart: `file` and `model` required;
//! every `response_format`: `json`, `text`, `srt`, `vtt`, `verbose_json`; a `voxtral` model's
//! `json` is Mistral's answer, its seconds in `usage.prompt_audio_seconds`) and
//! `/audio/speech` (JSON in, audio bytes streamed out in chunks with the format's content
//! type; a `voxtral` model answers as Mistral: `voice_id` in, the audio base64 in JSON's
//! `audio_data` out). Also served on Azure's deployment paths (`api-version` and `api-key` checked).
//! The transcript names the upload's size and byte sum, so a test sees the file arrived intact.
//! A wrong file type gets OpenAI's 400: audio by the file name's extension, an image by its
//! part's content type.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::{error, failure, recorded, with_headers};
use crate::Shared;

type St = State<Arc<Shared>>;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

pub(crate) fn png_b64() -> String {
    base64::engine::general_purpose::STANDARD.encode(PNG)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Generation,
    Edit,
    Variation,
    Transcription,
    Translation,
    Speech,
}

/// A file part of a form.
pub(crate) struct File {
    pub(crate) filename: String,
    /// The part's `Content-Type` (None: the client sent none).
    pub(crate) content_type: Option<String>,
    pub(crate) data: Vec<u8>,
}

/// The audio formats OpenAI's speech-to-text accepts, by the upload's file name extension.
const AUDIO_FORMATS: &[&str] = &[
    "flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm",
];

/// OpenAI's 400 for an upload whose name has no supported audio extension.
fn audio_format_error(f: &File) -> Option<Response> {
    let ext = f
        .filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase());
    if ext.as_deref().is_some_and(|e| AUDIO_FORMATS.contains(&e)) {
        return None;
    }
    let list = AUDIO_FORMATS
        .iter()
        .map(|f| format!("'{f}'"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(error(
        400,
        &format!("Invalid file format. Supported formats: [{list}]"),
        None,
        None,
    ))
}

/// OpenAI's 400 for an image part whose content type is not an image it edits: PNG, JPEG
/// or WebP (DALL·E 2: PNG only).
fn image_type_error(field: &str, f: &File, png_only: bool) -> Option<Response> {
    let mime = f
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let allowed: &[&str] = if png_only {
        &["image/png"]
    } else {
        &["image/jpeg", "image/png", "image/webp"]
    };
    if allowed.contains(&mime.as_str()) {
        return None;
    }
    let listed = match allowed {
        [one] => format!("'{one}'"),
        _ => "'image/jpeg', 'image/png', and 'image/webp'".to_string(),
    };
    Some(error(
        400,
        &format!(
            "Invalid file '{field}': unsupported mimetype ('{mime}'). Supported file formats are {listed}."
        ),
        Some((field, "unsupported_file_mimetype")),
        None,
    ))
}

#[derive(Default)]
pub(crate) struct Form {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) files: Vec<(String, File)>,
}

impl Form {
    pub(crate) fn field(&self, k: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn file(&self, k: &str) -> Option<&File> {
        self.files.iter().find(|(n, _)| n == k).map(|(_, f)| f)
    }
}

/// RFC 7578, as a server reads it: the boundary from the content type, parts split on it.
pub(crate) fn parse_form(headers: &HeaderMap, body: &[u8]) -> Option<Form> {
    let ct = headers.get("content-type")?.to_str().ok()?;
    if !ct.starts_with("multipart/form-data") {
        return None;
    }
    let boundary = ct
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let find = |hay: &[u8], n: &[u8], from: usize| {
        hay.get(from..)?
            .windows(n.len())
            .position(|w| w == n)
            .map(|i| i + from)
    };
    let mut pos = find(body, delim.as_bytes(), 0)? + delim.len();
    let mut form = Form::default();
    loop {
        if body.get(pos..pos + 2)? == b"--" {
            return Some(form);
        }
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = std::str::from_utf8(&body[pos..head_end]).ok()?;
        let end = find(body, format!("\r\n{delim}").as_bytes(), head_end + 4)?;
        let data = body[head_end + 4..end].to_vec();
        let disposition = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
        let param = |k: &str| {
            disposition
                .split(';')
                .find_map(|p| p.trim().strip_prefix(&format!("{k}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        let name = param("name")?;
        let content_type = head.split("\r\n").find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        });
        match param("filename") {
            Some(filename) => form.files.push((
                name,
                File {
                    filename,
                    content_type,
                    data,
                },
            )),
            None => form
                .fields
                .push((name, String::from_utf8_lossy(&data).into_owned())),
        }
        pos = end + 2 + delim.len();
    }
}

/// What is recorded of a form: its fields, and each file's name, size and filename.
pub(crate) fn form_json(f: &Form) -> Value {
    let mut o = serde_json::Map::new();
    for (k, v) in &f.fields {
        o.insert(k.clone(), json!(v));
    }
    for (k, file) in &f.files {
        o.insert(
            k.clone(),
            json!({"filename": file.filename, "bytes": file.data.len()}),
        );
    }
    Value::Object(o)
}

/// A WAV file's playing time (its `fmt ` byte rate and `data` size), else 1 second per
/// 16000 bytes.
pub(crate) fn seconds(data: &[u8]) -> f64 {
    let le = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if data.len() > 12 && &data[..4] == b"RIFF" {
        let mut pos = 12;
        let mut rate = None;
        while pos + 8 <= data.len() {
            let size = le(pos + 4).unwrap_or(0) as usize;
            match &data[pos..pos + 4] {
                b"fmt " => rate = le(pos + 16),
                b"data" => {
                    if let Some(r) = rate.filter(|r| *r > 0) {
                        return size as f64 / r as f64;
                    }
                }
                _ => {}
            }
            pos += 8 + size + (size & 1);
        }
    }
    data.len() as f64 / 16000.0
}

pub(crate) fn transcript_text(f: &File) -> String {
    let sum: u64 = f.data.iter().map(|b| *b as u64).sum();
    format!(
        "Hello from mock audio: {} bytes, sum {sum}, {}",
        f.data.len(),
        f.filename
    )
}

fn srt_time(s: f64) -> String {
    let ms = (s * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn text(content_type: &'static str, body: String) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    res
}

fn bad(msg: &str, param: &str) -> Response {
    error(400, msg, Some((param, "missing_required_parameter")), None)
}

pub(crate) fn images(n: u64, b64: bool, prompt: Option<&str>) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut d = if b64 {
                json!({"b64_json": png_b64()})
            } else {
                json!({"url": format!("https://mock.images.local/img-{i}.png")})
            };
            if let Some(p) = prompt {
                d["revised_prompt"] = json!(format!("{p} (revised)"));
            }
            d
        })
        .collect()
}

/// Routes with the deployment in the path are Azure's.
pub(crate) async fn azure(
    s: St,
    Path((d, _a, _b)): Path<(String, String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let kind = match u.path().rsplit('/').take(2).collect::<Vec<_>>().as_slice() {
        ["generations", "images"] => Kind::Generation,
        ["edits", "images"] => Kind::Edit,
        ["variations", "images"] => Kind::Variation,
        ["transcriptions", "audio"] => Kind::Transcription,
        ["translations", "audio"] => Kind::Translation,
        ["speech", "audio"] => Kind::Speech,
        _ => return error(404, "Resource not found", None, None),
    };
    if let Some(res) = crate::azure::refused_deployment(&s.0, &u, &h) {
        let body = serde_json::from_slice(&b).unwrap_or(Value::Null);
        s.0.record(|| recorded(&m, &u, &h, body));
        return res;
    }
    handle(s, kind, Some(d), m, u, h, b).await
}

macro_rules! route {
    ($name:ident, $kind:expr) => {
        pub(crate) async fn $name(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
            handle(s, $kind, None, m, u, h, b).await
        }
    };
}
route!(generations, Kind::Generation);
route!(edits, Kind::Edit);
route!(variations, Kind::Variation);
route!(transcriptions, Kind::Transcription);
route!(translations, Kind::Translation);
route!(speech, Kind::Speech);

async fn handle(
    State(shared): St,
    kind: Kind,
    deployment: Option<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let json_body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let form = parse_form(&headers, &bytes);
    let recorded_body = match (&json_body, &form) {
        (Some(v), _) => v.clone(),
        (None, Some(f)) => form_json(f),
        _ => Value::Null,
    };
    shared.record(|| recorded(&method, &uri, &headers, recorded_body));
    if !headers.contains_key("authorization") && !headers.contains_key("api-key") {
        return error(
            401,
            "You didn't provide an API key.",
            None,
            Some("invalid_request_error"),
        );
    }
    let is_form = matches!(
        kind,
        Kind::Edit | Kind::Variation | Kind::Transcription | Kind::Translation
    );
    let field = |k: &str| -> Option<String> {
        match (&json_body, &form) {
            (Some(v), _) => v[k]
                .as_str()
                .map(str::to_string)
                .or_else(|| v.get(k).filter(|x| !x.is_null()).map(|x| x.to_string())),
            (None, Some(f)) => f.field(k).map(str::to_string),
            _ => None,
        }
    };
    if is_form && form.is_none() {
        return error(
            400,
            "Invalid Content-Type header: expected multipart/form-data",
            None,
            None,
        );
    }
    if !is_form && json_body.is_none() {
        return error(
            400,
            "We could not parse the JSON body of your request.",
            None,
            None,
        );
    }
    let model = headers
        .get("x-mock-model")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| field("model"))
        .or(deployment)
        .unwrap_or_default();
    let (behaviour, _) = shared
        .overrides
        .take(&model)
        .unwrap_or_else(|| (Behaviour::of(&model), None));
    if let Some(res) = failure(behaviour, false, &headers) {
        return res;
    }
    if let Behaviour::Slow(d) = behaviour {
        tokio::time::sleep(d).await;
    }
    let n = field("n")
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, 10);
    let gpt_image = model.contains("gpt-image");
    let b64 = gpt_image || field("response_format").as_deref() == Some("b64_json");
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match kind {
        Kind::Generation | Kind::Edit | Kind::Variation => {
            let prompt = field("prompt");
            if kind != Kind::Variation && prompt.is_none() {
                return bad("Missing required parameter: 'prompt'.", "prompt");
            }
            if kind != Kind::Generation {
                let f = form.as_ref().expect("checked above");
                let Some((name, image)) =
                    f.files.iter().find(|(n, _)| n == "image" || n == "image[]")
                else {
                    return bad("Missing required parameter: 'image'.", "image");
                };
                if let Some(res) = image_type_error(name, image, model.contains("dall-e-2")) {
                    return res;
                }
            }
            let mut answer = json!({"created": created, "data": images(n, b64, prompt.as_deref().filter(|_| model.contains("dall")))});
            if gpt_image {
                let image_in = if kind == Kind::Edit { 323 } else { 0 };
                let text_in = prompt
                    .as_deref()
                    .map_or(0, |p| p.split_whitespace().count() as u64 + 5);
                let out = 1056 * n;
                answer["usage"] = json!({"input_tokens": text_in + image_in, "input_tokens_details": {"text_tokens": text_in, "image_tokens": image_in},
                                         "output_tokens": out, "total_tokens": text_in + image_in + out});
                answer["size"] = json!(field("size").unwrap_or("1024x1024".into()));
                answer["quality"] = json!(field("quality").unwrap_or("medium".into()));
            }
            with_headers(StatusCode::OK, answer)
        }
        Kind::Transcription | Kind::Translation => {
            let f = form.as_ref().expect("checked above");
            let Some(file) = f.file("file") else {
                return bad("Missing required parameter: 'file'.", "file");
            };
            if let Some(res) = audio_format_error(file) {
                return res;
            }
            if f.field("model").is_none() && !uri.path().contains("/deployments/") {
                return bad("Missing required parameter: 'model'.", "model");
            }
            let text_out = transcript_text(file);
            let secs = seconds(&file.data);
            let tokens = model.contains("gpt-4o");
            match f.field("response_format").unwrap_or("json") {
                // Mistral's Voxtral answer: the model, text, language, segments, and a usage
                // with the audio's seconds and tokens (no `type`).
                "json" if model.contains("voxtral") => with_headers(
                    StatusCode::OK,
                    json!({"model": model, "text": text_out, "language": f.field("language"), "segments": [],
                           "usage": {"prompt_audio_seconds": secs.ceil() as u64, "prompt_tokens": 4,
                                     "completion_tokens": 12, "total_tokens": 16}}),
                ),
                "json" => {
                    let usage = if tokens {
                        json!({"type": "tokens", "input_tokens": 120, "input_token_details": {"text_tokens": 20, "audio_tokens": 100}, "output_tokens": 15, "total_tokens": 135})
                    } else {
                        json!({"type": "duration", "seconds": secs.ceil() as u64})
                    };
                    with_headers(StatusCode::OK, json!({"text": text_out, "usage": usage}))
                }
                "verbose_json" => {
                    let task = if kind == Kind::Translation {
                        "translate"
                    } else {
                        "transcribe"
                    };
                    let mut v = json!({"task": task, "language": "english", "duration": secs, "text": text_out,
                        "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": secs, "text": text_out, "tokens": [1, 2, 3],
                                      "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.0, "no_speech_prob": 0.01}]});
                    let words = f
                        .fields
                        .iter()
                        .any(|(k, v)| k.starts_with("timestamp_granularities") && v == "word");
                    if words {
                        v["words"] = json!([{"word": "Hello", "start": 0.0, "end": secs / 2.0}]);
                    }
                    with_headers(StatusCode::OK, v)
                }
                "text" => text("text/plain; charset=utf-8", format!("{text_out}\n")),
                "srt" => text(
                    "text/plain; charset=utf-8",
                    format!(
                        "1\n{} --> {}\n{text_out}\n\n",
                        srt_time(0.0),
                        srt_time(secs)
                    ),
                ),
                "vtt" => text(
                    "text/vtt; charset=utf-8",
                    format!(
                        "WEBVTT\n\n00:00:00.000 --> {}\n{text_out}\n\n",
                        srt_time(secs).replace(',', ".")
                    ),
                ),
                other => error(
                    400,
                    &format!("Invalid value for 'response_format': '{other}'."),
                    Some(("response_format", "invalid_value")),
                    None,
                ),
            }
        }
        Kind::Speech if model.contains("voxtral") => {
            // Mistral's speech: `voice_id` (or a `ref_audio` sample), never OpenAI's `voice`;
            // the audio comes back base64 in JSON.
            let Some(input) = field("input") else {
                return bad("Missing required parameter: 'input'.", "input");
            };
            if field("voice").is_some()
                || (field("voice_id").is_none() && field("ref_audio").is_none())
            {
                return error(
                    422,
                    "Send 'voice_id' (a Mistral voice) or 'ref_audio'.",
                    Some(("voice_id", "invalid_value")),
                    None,
                );
            }
            let magic: &[u8] = match field("response_format").as_deref().unwrap_or("mp3") {
                "wav" => b"RIFF",
                "flac" => b"fLaC",
                "opus" => b"OggS",
                _ => b"ID3",
            };
            let mut audio = magic.to_vec();
            audio.extend((0..input.chars().count() * 64).map(|i| (i % 251) as u8));
            with_headers(
                StatusCode::OK,
                json!({"audio_data": base64::engine::general_purpose::STANDARD.encode(&audio)}),
            )
        }
        Kind::Speech => {
            let Some(input) = field("input") else {
                return bad("Missing required parameter: 'input'.", "input");
            };
            if field("voice").is_none() {
                return bad("Missing required parameter: 'voice'.", "voice");
            }
            let (ct, magic): (&'static str, &[u8]) =
                match field("response_format").as_deref().unwrap_or("mp3") {
                    "opus" => ("audio/ogg", b"OggS"),
                    "aac" => ("audio/aac", b"\xff\xf1"),
                    "flac" => ("audio/flac", b"fLaC"),
                    "wav" => ("audio/wav", b"RIFF"),
                    "pcm" => ("audio/pcm", b""),
                    _ => ("audio/mpeg", b"ID3"),
                };
            // 1 KiB of audio per input character, sent in 4 KiB chunks a few ms apart.
            let total = input.chars().count() * 1024;
            let mut audio = magic.to_vec();
            audio.extend((0..total.saturating_sub(magic.len())).map(|i| (i % 251) as u8));
            let chunks: Vec<Bytes> = audio.chunks(4096).map(Bytes::copy_from_slice).collect();
            let stream = futures::stream::unfold(chunks.into_iter(), |mut it| async move {
                let c = it.next()?;
                tokio::time::sleep(Duration::from_millis(2)).await;
                Some((Ok::<Bytes, std::io::Error>(c), it))
            });
            let mut res = Response::new(Body::from_stream(stream));
            res.headers_mut()
                .insert("content-type", HeaderValue::from_static(ct));
            res
        }
    }
}
