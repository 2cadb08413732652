//! xAI's speech-to-text, `POST /v1/stt`: a bearer key, a multipart form with the audio in
//! `file` (xAI's fields such as `language` beside it; OpenAI's `response_format`, `prompt`,
//! `temperature` and `timestamp_granularities` are not xAI's and are refused), answered as
//! xAI does: `text`, `language`, `duration` and `words` of `text` / `start` / `end`
//! (`speaker` when `diarize` is on). The text names the upload's size and byte sum, as the
//! OpenAI mock's transcripts do.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::media::{form_json, parse_form, seconds, transcript_text};
use crate::openai::{recorded, with_headers};
use crate::Shared;

fn xai_error(status: StatusCode, msg: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": "invalid-argument", "error": msg})),
    )
        .into_response()
}

pub(crate) async fn stt(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let form = parse_form(&headers, &bytes);
    let body = form.as_ref().map_or(Value::Null, form_json);
    shared.record(|| recorded(&method, &uri, &headers, body));
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.strip_prefix("Bearer "))
        .filter(|k| !k.is_empty());
    if bearer.is_none() {
        return xai_error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided. You can obtain an API key from https://console.x.ai.",
        );
    }
    let Some(form) = form else {
        return xai_error(
            StatusCode::BAD_REQUEST,
            "Expected a multipart/form-data body.",
        );
    };
    for (k, _) in &form.fields {
        let openai_only = matches!(
            k.trim_end_matches("[]"),
            "response_format" | "prompt" | "temperature" | "timestamp_granularities"
        );
        if openai_only {
            return xai_error(StatusCode::BAD_REQUEST, &format!("Unknown field: {k}"));
        }
    }
    let Some(file) = form.file("file") else {
        return xai_error(StatusCode::BAD_REQUEST, "Missing audio: send it in 'file'.");
    };
    let text = transcript_text(file);
    let secs = (seconds(&file.data) * 100.0).round() / 100.0;
    let diarize = form.field("diarize") == Some("true");
    let words: Vec<Value> = text
        .split_whitespace()
        .take(3)
        .enumerate()
        .map(|(i, w)| {
            let mut o = json!({"text": w, "start": i as f64 * 0.3, "end": i as f64 * 0.3 + 0.25});
            if diarize {
                o["speaker"] = json!(i % 2);
            }
            o
        })
        .collect();
    with_headers(
        StatusCode::OK,
        json!({"text": text, "language": form.field("language").unwrap_or("en"),
               "duration": secs, "words": words}),
    )
}
