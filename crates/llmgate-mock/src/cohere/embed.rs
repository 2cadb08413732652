//! Cohere's Embed v2 and Rerank (v2 and v1), with the checks the real API makes: `input_type`
//! required for v3+ embed models, `embedding_types` from `float`/`int8`/`uint8`/`binary`/
//! `ubinary`/`base64` (float when absent), `output_dimension` only on embed-v4; rerank wants a
//! query and a non-empty list of documents, `max_tokens_per_doc` on v2 only and
//! `max_chunks_per_doc` on v1 only.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

use super::{admit, error};
use crate::Shared;

/// Four numbers per input, told apart by position (or `output_dimension` of them).
fn vector(i: usize, dims: usize) -> Vec<f32> {
    (0..dims)
        .map(|j| 0.1 * (i + 1) as f32 + 0.01 * j as f32)
        .collect()
}

/// `POST /v2/embed`.
pub async fn embed(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let (body, model, _) = match admit(&shared, &m, &u, &h, &b) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let inputs = body["texts"]
        .as_array()
        .or_else(|| body["images"].as_array())
        .filter(|a| !a.is_empty() && a.iter().all(Value::is_string));
    let Some(inputs) = inputs else {
        return error(
            400,
            "invalid request: texts or images must be a non-empty list of strings",
        );
    };
    let input_type = body["input_type"].as_str();
    let known = [
        "search_document",
        "search_query",
        "classification",
        "clustering",
        "image",
    ];
    if input_type.is_none_or(|t| !known.contains(&t)) {
        return error(
            400,
            "invalid request: valid input_type must be provided with the provided model",
        );
    }
    let dims = match &body["output_dimension"] {
        Value::Null => 4,
        d if !model.contains("v4") => {
            return error(
                400,
                &format!("invalid request: output_dimension {d} is not supported by {model}"),
            )
        }
        d => match d.as_u64() {
            Some(n @ (256 | 512 | 1024 | 1536)) => n as usize,
            _ => {
                return error(
                    400,
                    "invalid request: output_dimension must be one of 256, 512, 1024, 1536",
                )
            }
        },
    };
    let types: Vec<String> = match &body["embedding_types"] {
        Value::Null => vec!["float".into()],
        Value::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => return error(400, "invalid request: embedding_types must be a list"),
    };
    let known = ["float", "int8", "uint8", "binary", "ubinary", "base64"];
    if let Some(t) = types.iter().find(|t| !known.contains(&t.as_str())) {
        return error(
            400,
            &format!("invalid request: embedding type {t} is not supported"),
        );
    }
    let mut embeddings = serde_json::Map::new();
    for t in &types {
        let list: Vec<Value> = (0..inputs.len())
            .map(|i| {
                let v = vector(i, dims);
                match t.as_str() {
                    // Little-endian float32 bytes, as the base64 type is documented.
                    "base64" => json!(base64::engine::general_purpose::STANDARD
                        .encode(v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>())),
                    _ => json!(v),
                }
            })
            .collect();
        embeddings.insert(t.clone(), Value::Array(list));
    }
    let tokens: usize = inputs
        .iter()
        .filter_map(Value::as_str)
        .map(|s| s.split_whitespace().count().max(1))
        .sum();
    let billed = if body["images"].is_array() {
        json!({"images": inputs.len()})
    } else {
        json!({"input_tokens": tokens})
    };
    axum::Json(json!({
        "id": "mock-embed-1", "embeddings": embeddings, "texts": body["texts"],
        "meta": {"api_version": {"version": "2"}, "billed_units": billed},
        "response_type": "embeddings_by_type",
    }))
    .into_response()
}

/// Query words found in the document, over the query's word count.
fn score(query: &str, doc: &str) -> f64 {
    let doc = doc.to_lowercase();
    let q: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    if q.is_empty() {
        return 0.0;
    }
    q.iter().filter(|w| doc.contains(w.as_str())).count() as f64 / q.len() as f64
}

fn doc_text(d: &Value) -> String {
    match d {
        Value::String(s) => s.clone(),
        other => other["text"].as_str().unwrap_or_default().to_string(),
    }
}

/// `POST /v2/rerank` and `/v1/rerank`.
pub async fn rerank(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let (body, _, _) = match admit(&shared, &m, &u, &h, &b) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let v2 = u.path().starts_with("/v2/");
    let Some(query) = body["query"].as_str() else {
        return error(400, "invalid request: query must be a string");
    };
    let Some(docs) = body["documents"].as_array().filter(|d| !d.is_empty()) else {
        return error(400, "invalid request: list of documents must not be empty");
    };
    let (wrong, version) = if v2 {
        ("max_chunks_per_doc", "2")
    } else {
        ("max_tokens_per_doc", "1")
    };
    if body.get(wrong).is_some() {
        return error(
            400,
            &format!("invalid request: unknown field: parameter {wrong} is not a valid field"),
        );
    }
    let mut ranked: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (i, score(query, &doc_text(d))))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let n = body["top_n"].as_u64().map_or(docs.len(), |n| n as usize);
    let with_docs = body["return_documents"] == true;
    let results: Vec<Value> = ranked
        .into_iter()
        .take(n)
        .map(|(i, s)| {
            let mut r = json!({"index": i, "relevance_score": s});
            if with_docs {
                r["document"] = json!({"text": doc_text(&docs[i])});
            }
            r
        })
        .collect();
    // One search unit per query over up to 100 documents.
    let units = docs.len().div_ceil(100);
    axum::Json(json!({
        "id": "mock-rerank-1", "results": results,
        "meta": {"api_version": {"version": version}, "billed_units": {"search_units": units}},
    }))
    .into_response()
}
