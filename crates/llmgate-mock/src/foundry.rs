//! Azure AI Foundry's own image endpoints, as LiteLLM calls them: MAI's
//! `/mai/v1/images/generations` (its body and usage names) and `/mai/v1/images/edits` (a form:
//! `model`, `prompt`, `size`, one `image`), and Black Forest Labs' FLUX.2 at
//! `/providers/blackforestlabs/v1/{model}` (BFL's fields; an edit carries the base64 `image`).
//! All want `api-version` and `api-key`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::media::{form_json, images, parse_form, png_b64};
use crate::openai::{recorded, with_headers};
use crate::Shared;

type St = State<Arc<Shared>>;

/// MAI's error body.
fn mai_error(status: u16, msg: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        axum::Json(json!({"error": {"code": "BadRequest", "message": msg}})),
    )
        .into_response()
}

/// What MAI answers a call without an `api-version` or an `api-key`.
fn mai_refusal(uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    if !uri.query().unwrap_or("").contains("api-version=") {
        return Some(mai_error(404, "Resource not found"));
    }
    if headers.get("api-key").is_none_or(|k| k.is_empty()) {
        return Some(mai_error(
            401,
            "Access denied due to invalid subscription key or wrong API endpoint.",
        ));
    }
    None
}

/// Azure AI Foundry's MAI image endpoint, `POST /mai/v1/images/generations?api-version=`:
/// `api-key`, a JSON body of `model`, `prompt`, `width`, `height` (each side at least 768);
/// one PNG back whatever count is asked, and a usage in MAI's names.
pub(crate) async fn mai(
    State(shared): St,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    if let Some(refused) = mai_refusal(&uri, &headers) {
        return refused;
    }
    let Some(prompt) = body["prompt"].as_str() else {
        return mai_error(400, "'prompt' is required.");
    };
    for side in ["width", "height"] {
        if body[side].as_u64().is_some_and(|v| v < 768) {
            return mai_error(400, &format!("'{side}' must be at least 768 pixels."));
        }
    }
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text_in = prompt.split_whitespace().count() as u64 + 5;
    with_headers(
        StatusCode::OK,
        json!({"created": created, "data": [{"b64_json": png_b64()}],
               "usage": {"num_input_text_tokens": text_in, "num_output_tokens": 1056}}),
    )
}

/// Black Forest Labs' FLUX.2 on Azure AI Foundry, `POST
/// /providers/blackforestlabs/v1/{flux-2-pro|flux-2-flex}?api-version=`: `api-key`, a JSON
/// body with `prompt` (OpenAI's `n` and `size` refused: BFL's are `num_images`, `width`,
/// `height`); `num_images` PNGs back in OpenAI's image answer.
pub(crate) async fn flux2(
    State(shared): St,
    Path(model): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    let bfl_error = |status: StatusCode, msg: &str| {
        (
            status,
            axum::Json(json!({"error": {"code": "BadRequest", "message": msg}})),
        )
            .into_response()
    };
    if !matches!(model.as_str(), "flux-2-pro" | "flux-2-flex") {
        return bfl_error(StatusCode::NOT_FOUND, "Resource not found");
    }
    if !uri.query().unwrap_or("").contains("api-version=") {
        return bfl_error(StatusCode::NOT_FOUND, "Resource not found");
    }
    if headers.get("api-key").is_none_or(|k| k.is_empty()) {
        return bfl_error(
            StatusCode::UNAUTHORIZED,
            "Access denied due to invalid subscription key.",
        );
    }
    if body["prompt"].as_str().is_none() {
        return bfl_error(StatusCode::BAD_REQUEST, "'prompt' is required.");
    }
    // An edit's input image: base64 text, never a URL or an object.
    if let Some(image) = body.get("image") {
        let decoded = image
            .as_str()
            .map(|s| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s));
        if !matches!(decoded, Some(Ok(ref b)) if !b.is_empty()) {
            return bfl_error(
                StatusCode::BAD_REQUEST,
                "'image' must be a base64-encoded image.",
            );
        }
    }
    for openai_only in ["n", "size"] {
        if body.get(openai_only).is_some() {
            return bfl_error(
                StatusCode::BAD_REQUEST,
                &format!("Unknown field '{openai_only}'."),
            );
        }
    }
    let n = body["num_images"].as_u64().unwrap_or(1).clamp(1, 4);
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    with_headers(
        StatusCode::OK,
        json!({"created": created, "data": images(n, true, None)}),
    )
}

/// MAI's edit endpoint, `POST /mai/v1/images/edits?api-version=`: `api-key`, a form of
/// `model`, `prompt`, `size` (`WxH`) and one `image` file; OpenAI-only fields (`mask`,
/// `quality`, `response_format`) refused. One PNG back with MAI's usage names.
pub(crate) async fn mai_edit(
    State(shared): St,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let form = parse_form(&headers, &bytes);
    let recorded_body = form.as_ref().map_or(Value::Null, form_json);
    shared.record(|| recorded(&method, &uri, &headers, recorded_body));
    if let Some(refused) = mai_refusal(&uri, &headers) {
        return refused;
    }
    let Some(form) = form else {
        return mai_error(400, "Expected multipart/form-data.");
    };
    let Some(prompt) = form.field("prompt") else {
        return mai_error(400, "'prompt' is required.");
    };
    if form.files.len() != 1 || form.file("image").is_none() {
        return mai_error(400, "Exactly one 'image' file is required.");
    }
    for (k, _) in &form.fields {
        if !matches!(k.as_str(), "model" | "prompt" | "size" | "n") {
            return mai_error(400, &format!("Unknown field '{k}'."));
        }
    }
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text_in = prompt.split_whitespace().count() as u64 + 5;
    with_headers(
        StatusCode::OK,
        json!({"created": created, "data": [{"b64_json": png_b64()}],
               "usage": {"num_input_text_tokens": text_in, "num_input_image_tokens": 258,
                         "num_output_tokens": 1056}}),
    )
}
