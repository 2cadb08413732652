//! Jina AI: `POST /jina/v1/embeddings` (its real base is `https://api.jina.ai/v1`) and
//! `POST /v1/rerank` for `jina-*` models (the path Jina serves it on; other models there are
//! Cohere's v1, see `cohere/`). Both want `Authorization: Bearer`; errors are `{"detail": ...}`.
//! Embedding input is a list of strings or of `{"text"}`/`{"image"}` objects, never tokens;
//! unknown fields (OpenAI's `encoding_format`, Cohere's `rank_fields`) are refused.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::recorded;
use crate::ranking::{bearer, rank, tokens, vector};
use crate::Shared;

const EMBED_FIELDS: &[&str] = &[
    "model",
    "input",
    "task",
    "dimensions",
    "input_type",
    "late_chunking",
    "embedding_type",
    "normalized",
    "truncate",
];
const RERANK_FIELDS: &[&str] = &["model", "query", "documents", "top_n", "return_documents"];

fn error(status: u16, detail: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, axum::Json(json!({"detail": detail}))).into_response()
}

fn denied(status: u16, detail: &str) -> Box<Response> {
    Box::new(error(status, detail))
}

fn admit(
    h: &HeaderMap,
    body: Option<Value>,
    fields: &[&str],
    shared: &Shared,
) -> Result<Value, Box<Response>> {
    if bearer(h).is_none() {
        return Err(denied(401, "Unauthorized: API key is missing or invalid"));
    }
    let Some(body) = body.filter(Value::is_object) else {
        return Err(denied(400, "Request body is not valid JSON"));
    };
    if let Some(k) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| !fields.contains(&k.as_str())))
    {
        return Err(denied(422, &format!("Extra inputs are not permitted: {k}")));
    }
    let model = body["model"].as_str().unwrap_or_default();
    if let Behaviour::Error(code) = shared.overrides.behaviour(model) {
        return Err(denied(code, &format!("mock error {code}")));
    }
    Ok(body)
}

/// `POST /jina/v1/embeddings`.
pub async fn embeddings(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&b).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    let body = match admit(&h, body, EMBED_FIELDS, &shared) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let texts: Option<Vec<String>> = body["input"].as_array().and_then(|a| {
        a.iter()
            .map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o
                    .get("text")
                    .or_else(|| o.get("image"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            })
            .collect()
    });
    let Some(texts) = texts.filter(|t| !t.is_empty()) else {
        return error(
            422,
            "input: a list of strings or text/image objects is required",
        );
    };
    let dims = body["dimensions"].as_u64().unwrap_or(8) as usize;
    let data: Vec<Value> = (0..texts.len())
        .map(|i| json!({"object": "embedding", "index": i, "embedding": vector(i, dims)}))
        .collect();
    let n = tokens(texts.iter().map(String::as_str));
    axum::Json(json!({"model": body["model"], "object": "list",
        "usage": {"total_tokens": n, "prompt_tokens": n}, "data": data}))
    .into_response()
}

/// `POST /v1/rerank` for a `jina-*` model.
pub async fn rerank(
    shared: Arc<Shared>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    body: Option<Value>,
) -> Response {
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    let body = match admit(&h, body, RERANK_FIELDS, &shared) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(query) = body["query"].as_str() else {
        return error(422, "query: a string is required");
    };
    let docs: Option<Vec<String>> = body["documents"].as_array().and_then(|a| {
        a.iter()
            .map(|d| match d {
                Value::String(s) => Some(s.clone()),
                o => o["text"].as_str().map(str::to_string),
            })
            .collect()
    });
    let Some(docs) = docs.filter(|d| !d.is_empty()) else {
        return error(422, "documents: a non-empty list is required");
    };
    let with_docs = body["return_documents"] != false;
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
    axum::Json(json!({"model": body["model"], "usage": {"total_tokens": n}, "results": results}))
        .into_response()
}

/// `POST /v1/rerank`: Jina's for `jina-*` models, Cohere's v1 for every other.
pub async fn v1_rerank(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&b).ok();
    let jina = body
        .as_ref()
        .and_then(|v| v["model"].as_str())
        .is_some_and(|m| m.starts_with("jina-"));
    if jina {
        rerank(shared, m, u, h, body).await
    } else {
        crate::cohere::rerank(State(shared), m, u, h, b).await
    }
}
