//! Voyage AI under `/voyage/v1` (its real base is `https://api.voyageai.com/v1`):
//! `POST /embeddings` and `/rerank` as its API reference describes them. Both want
//! `Authorization: Bearer`; errors are `{"detail": ...}`. Like the real API it refuses fields
//! it does not define (OpenAI's `dimensions`, Cohere's `top_n`), an `encoding_format` other
//! than `base64`, token arrays as input and non-string documents.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::openai::recorded;
use crate::ranking::{bearer, rank, strings, tokens, vector};
use crate::Shared;

const EMBED_FIELDS: &[&str] = &[
    "input",
    "model",
    "input_type",
    "truncation",
    "output_dimension",
    "output_dtype",
    "encoding_format",
];
const RERANK_FIELDS: &[&str] = &[
    "query",
    "documents",
    "model",
    "top_k",
    "return_documents",
    "truncation",
];

fn error(status: u16, detail: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, axum::Json(json!({"detail": detail}))).into_response()
}

fn denied(status: u16, detail: &str) -> Box<Response> {
    Box::new(error(status, detail))
}

/// The body if the request is authorised, well-formed, of known fields and of a model that
/// asks for no failure.
fn admit(
    shared: &Shared,
    m: &Method,
    u: &Uri,
    h: &HeaderMap,
    b: &Bytes,
    fields: &[&str],
) -> Result<Value, Box<Response>> {
    let body: Option<Value> = serde_json::from_slice(b).ok();
    shared.record(|| recorded(m, u, h, body.clone().unwrap_or(Value::Null)));
    if bearer(h).is_none() {
        return Err(denied(
            401,
            "Provided API key is invalid. Please check your API key.",
        ));
    }
    let Some(body) = body.filter(Value::is_object) else {
        return Err(denied(400, "Request body is not valid JSON"));
    };
    if let Some(k) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| !fields.contains(&k.as_str())))
    {
        return Err(denied(400, &format!("Argument '{k}' is not supported")));
    }
    let model = body["model"].as_str().unwrap_or_default();
    if let Behaviour::Error(code) = shared.overrides.behaviour(model) {
        return Err(denied(code, &format!("mock error {code}")));
    }
    Ok(body)
}

/// `POST /voyage/v1/embeddings`.
pub async fn embeddings(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body = match admit(&shared, &m, &u, &h, &b, EMBED_FIELDS) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let inputs = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        other => match strings(other).filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => return error(400, "Input should be a string or a list of strings"),
        },
    };
    let base64 = match &body["encoding_format"] {
        Value::Null => false,
        Value::String(f) if f == "base64" => true,
        _ => return error(400, "encoding_format should be None or 'base64'"),
    };
    let dims = body["output_dimension"].as_u64().unwrap_or(8) as usize;
    let data: Vec<Value> = (0..inputs.len())
        .map(|i| {
            let v = vector(i, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "embedding": embedding, "index": i})
        })
        .collect();
    let n = tokens(inputs.iter().map(String::as_str));
    axum::Json(
        json!({"object": "list", "data": data, "model": body["model"],
        "usage": {"total_tokens": n}}),
    )
    .into_response()
}

/// `POST /voyage/v1/rerank`.
pub async fn rerank(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body = match admit(&shared, &m, &u, &h, &b, RERANK_FIELDS) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(query) = body["query"].as_str() else {
        return error(400, "query should be a string");
    };
    let Some(docs) = strings(&body["documents"]).filter(|d| !d.is_empty()) else {
        return error(400, "documents should be a non-empty list of strings");
    };
    let with_docs = body["return_documents"] == true;
    let data: Vec<Value> = rank(query, &docs, body["top_k"].as_u64())
        .into_iter()
        .map(|(i, s)| {
            let mut r = json!({"relevance_score": s, "index": i});
            if with_docs {
                r["document"] = json!(docs[i]);
            }
            r
        })
        .collect();
    let n = tokens(std::iter::once(query).chain(docs.iter().map(String::as_str)));
    axum::Json(
        json!({"object": "list", "data": data, "model": body["model"],
        "usage": {"total_tokens": n}}),
    )
    .into_response()
}
