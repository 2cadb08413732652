//! Embed v2 (`/v2/embed`), as LiteLLM's `CohereEmbeddingConfig` sends it: `texts` (or
//! `images` when every input is a base64 data URL) with `input_type` (default
//! `search_document`), `encoding_format` as `embedding_types`, `dimensions` as
//! `output_dimension`; other request fields (`truncate`, `input_type`, ...) passed through.

use llmgate_types::{EmbeddingRequest, EmbeddingResponse};
use serde_json::{json, Map, Value};

use crate::LlmError;

/// LiteLLM's `COHERE_DEFAULT_EMBEDDING_INPUT_TYPE`.
pub const DEFAULT_INPUT_TYPE: &str = "search_document";

fn inputs(req: &EmbeddingRequest) -> Result<Vec<String>, LlmError> {
    let bad = || {
        LlmError::bad_request("Input must be a string or a non-empty list of strings")
            .with_provider(super::NAME)
    };
    match &req.input {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect(),
        _ => Err(bad()),
    }
}

/// The request body and the texts it embeds (for a local token count).
pub fn body(req: &EmbeddingRequest) -> Result<(Value, Vec<String>), LlmError> {
    let inputs = inputs(req)?;
    let images = inputs
        .iter()
        .all(|i| i.starts_with("data:") && i.contains(";base64,"));
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    if images {
        b.insert("images".into(), json!(inputs));
        b.insert("input_type".into(), json!("image"));
    } else {
        b.insert("texts".into(), json!(inputs));
        b.insert("input_type".into(), json!(DEFAULT_INPUT_TYPE));
    }
    if let Some(f) = &req.encoding_format {
        b.insert("embedding_types".into(), json!([f]));
    }
    if let Some(d) = req.dimensions {
        b.insert("output_dimension".into(), json!(d));
    }
    for (k, v) in &req.extra {
        if !v.is_null() {
            b.insert(k.clone(), v.clone());
        }
    }
    Ok((Value::Object(b), if images { Vec::new() } else { inputs }))
}

/// `{"embeddings": {"float": [...], "base64": [...]}, "meta": {"billed_units": ...}}` →
/// OpenAI's list, each type's vectors in order; tokens billed (text and image), else `local`.
pub fn response(v: &Value, model: &str, local: u64) -> EmbeddingResponse {
    let mut data = Vec::new();
    if let Some(by_type) = v["embeddings"].as_object() {
        for vectors in by_type.values() {
            for (i, e) in vectors.as_array().into_iter().flatten().enumerate() {
                data.push(json!({"object": "embedding", "index": i, "embedding": e}));
            }
        }
    } else if let Some(list) = v["embeddings"].as_array() {
        // `embeddings_floats` answers (no `embedding_types`) are a bare list.
        for (i, e) in list.iter().enumerate() {
            data.push(json!({"object": "embedding", "index": i, "embedding": e}));
        }
    }
    let billed = &v["meta"]["billed_units"];
    let (text, images) = (billed["input_tokens"].as_u64(), billed["images"].as_u64());
    let tokens = if text.is_none() && images.is_none() {
        local
    } else {
        text.unwrap_or(0) + images.unwrap_or(0)
    };
    serde_json::from_value(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens},
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> EmbeddingRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn bodies_as_litellm_sends_them() {
        let (b, texts) = body(&req(
            json!({"model": "embed-english-v3.0", "input": ["a", "b"],
            "encoding_format": "base64", "dimensions": 256}),
        ))
        .unwrap();
        assert_eq!(
            b,
            json!({"model": "embed-english-v3.0", "texts": ["a", "b"], "input_type": "search_document",
                   "embedding_types": ["base64"], "output_dimension": 256})
        );
        assert_eq!(texts, ["a", "b"]);
        let (b, _) = body(&req(
            json!({"model": "m", "input": "q", "input_type": "search_query"}),
        ))
        .unwrap();
        assert_eq!(b["input_type"], "search_query");
        let (b, _) = body(&req(
            json!({"model": "m", "input": ["data:image/png;base64,iVBORw0KGgo="]}),
        ))
        .unwrap();
        assert_eq!(b["input_type"], "image");
        assert!(b.get("texts").is_none());
        assert_eq!(
            body(&req(json!({"model": "m", "input": [[1, 2]]})))
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn answers_by_type_with_billed_tokens() {
        let v = json!({"id": "e", "embeddings": {"float": [[0.1, 0.2], [0.3, 0.4]]},
            "texts": ["a", "b"], "meta": {"billed_units": {"input_tokens": 4}}});
        let r = response(&v, "cohere/embed-english-v3.0", 99);
        assert_eq!(r.data.len(), 2);
        assert_eq!(r.data[1].index, 1);
        assert_eq!(r.data[1].embedding, json!([0.3, 0.4]));
        assert_eq!(r.usage.unwrap().prompt_tokens, 4);
        let r = response(&json!({"embeddings": {"float": [[1.0]]}}), "m", 7);
        assert_eq!(r.usage.unwrap().total_tokens, 7, "counted locally");
    }
}
