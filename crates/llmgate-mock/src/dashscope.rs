//! DashScope (Alibaba Cloud Model Studio): the rerank API on `POST /compatible-api/v1/reranks`
//! (`qwen3-rerank`, `gte-rerank-v2`), wanting `Authorization: Bearer`, errors as
//! `{"code", "message", "request_id"}`. Its embeddings are the OpenAI route under
//! `/compatible-mode/v1` (see `openai.rs`). Image generation on the multimodal-generation
//! endpoint: DashScope's message body in, image URLs out; its image edits and speech on the
//! same endpoint are in `dashscope_media.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::recorded;
use crate::ranking::{bearer, rank, strings, tokens};
use crate::Shared;

const FIELDS: &[&str] = &[
    "model",
    "query",
    "documents",
    "top_n",
    "return_documents",
    "instruct",
];

pub(crate) fn error(status: u16, code: &str, message: &str) -> Response {
    let s = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"code": code, "message": message, "request_id": "mock-request-1"});
    (s, axum::Json(body)).into_response()
}

/// `POST /compatible-api/v1/reranks`.
pub async fn rerank(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&b).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    if bearer(&h).is_none() {
        return error(401, "InvalidApiKey", "Invalid API-key provided.");
    }
    let Some(body) = body.filter(Value::is_object) else {
        return error(
            400,
            "InvalidParameter",
            "The request body is not valid JSON.",
        );
    };
    if let Some(k) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| !FIELDS.contains(&k.as_str())))
    {
        return error(400, "InvalidParameter", &format!("Unknown parameter: {k}"));
    }
    let model = body["model"].as_str().unwrap_or_default();
    if let Behaviour::Error(code) = shared.overrides.behaviour(model) {
        return error(code, "MockError", &format!("mock error {code}"));
    }
    let (Some(query), Some(docs)) = (body["query"].as_str(), strings(&body["documents"])) else {
        return error(
            400,
            "InvalidParameter",
            "query must be a string and documents a list of strings.",
        );
    };
    let with_docs = body["return_documents"] == true;
    let results: Vec<Value> = rank(query, &docs, body["top_n"].as_u64())
        .into_iter()
        .map(|(i, s)| {
            let mut r = json!({"index": i, "relevance_score": s});
            if with_docs {
                r["document"] = json!({"text": docs[i]});
            }
            r
        })
        .collect();
    let n = tokens(std::iter::once(query).chain(docs.iter().map(String::as_str)));
    axum::Json(json!({"object": "list", "results": results, "model": model,
        "id": "mock-dashscope-rerank-1", "usage": {"total_tokens": n}}))
    .into_response()
}

/// `POST /api/v1/services/aigc/multimodal-generation/generation`, image models
/// (`qwen-image-*`): a bearer key, `model`, the prompt as `input.messages[0].content[0].text`,
/// `parameters.size` as `W*H` (OpenAI's `WxH` refused) and `parameters.n`; each image a URL in
/// its own choice, the usage in DashScope's names.
pub async fn multimodal_generation(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    shared.record(|| recorded(&m, &u, &h, body.clone()));
    if bearer(&h).is_none() {
        return error(401, "InvalidApiKey", "No API-key provided.");
    }
    let Some(model) = body["model"].as_str() else {
        return error(400, "InvalidParameter", "Model not specified.");
    };
    if crate::dashscope_media::is_tts(model) {
        return crate::dashscope_media::tts(&h, &body);
    }
    if crate::dashscope_media::is_edit(model) {
        return crate::dashscope_media::edit(model, &body);
    }
    let Some(prompt) = body["input"]["messages"][0]["content"][0]["text"].as_str() else {
        return error(400, "InvalidParameter", "Field required: input.messages");
    };
    if prompt.is_empty() {
        return error(400, "InvalidParameter", "The prompt must not be empty.");
    }
    let params = &body["parameters"];
    let size = params["size"].as_str().unwrap_or("1024*1024");
    let Some((w, hgt)) = size
        .split_once('*')
        .and_then(|(w, h)| Some((w.parse::<u64>().ok()?, h.parse::<u64>().ok()?)))
    else {
        return error(
            400,
            "InvalidParameter",
            &format!("The size '{size}' is not valid: write it as width*height."),
        );
    };
    let n = params["n"].as_u64().unwrap_or(1);
    if !(1..=4).contains(&n) {
        return error(400, "InvalidParameter", "n must be between 1 and 4.");
    }
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            json!({"finish_reason": "stop", "message": {"role": "assistant",
                   "content": [{"image": format!("https://dashscope-result.mock/{model}/{i}.png")}]}})
        })
        .collect();
    axum::Json(json!({"output": {"choices": choices},
                      "usage": {"width": w, "height": hgt, "image_count": n},
                      "request_id": "mock-request-2"}))
    .into_response()
}
