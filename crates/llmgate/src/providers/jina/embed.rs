//! `POST {base}/embeddings`, as LiteLLM's `JinaAIEmbeddingConfig`: `input` always a list (base64
//! data URLs as `{"image": ...}`, the rest as `{"text": ...}` when any is an image),
//! `dimensions` as it is, Jina's own fields (`task`, `input_type`, `late_chunking`,
//! `embedding_type`, ...) passed through. `encoding_format` is not sent (Jina calls it
//! `embedding_type`); base64 is made from the floats by the SDK instead of LiteLLM's refusal.

use llmgate_types::{EmbeddingRequest, EmbeddingResponse};
use serde_json::{json, Map, Value};

use crate::LlmError;

/// A `data:<mime>;base64,<data>` URL's data.
fn image_data(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    meta.ends_with(";base64").then_some(data)
}

pub fn body(req: &EmbeddingRequest) -> Result<Value, LlmError> {
    let texts = crate::embeddings::texts(req, super::NAME)?;
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    if let Some(d) = req.dimensions {
        b.insert("dimensions".into(), json!(d));
    }
    for (k, v) in &req.extra {
        if !v.is_null() {
            b.insert(k.clone(), v.clone());
        }
    }
    let input = if texts.iter().any(|t| image_data(t).is_some()) {
        let items: Vec<Value> = texts
            .iter()
            .map(|t| match image_data(t) {
                Some(data) => json!({"image": data}),
                None => json!({"text": t}),
            })
            .collect();
        json!(items)
    } else {
        json!(texts)
    };
    b.insert("input".into(), input);
    Ok(Value::Object(b))
}

/// Jina's answer is OpenAI's list; usage as it reports it.
pub fn response(v: &Value, model: &str) -> EmbeddingResponse {
    let total = v["usage"]["total_tokens"].as_u64().unwrap_or(0);
    let prompt = v["usage"]["prompt_tokens"].as_u64().unwrap_or(total);
    serde_json::from_value(json!({
        "object": "list",
        "data": v["data"].as_array().cloned().unwrap_or_default(),
        "model": v["model"].as_str().unwrap_or(model),
        "usage": {"prompt_tokens": prompt, "completion_tokens": 0, "total_tokens": total.max(prompt)},
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
        let b = body(&req(
            json!({"model": "jina-embeddings-v3", "input": "hello",
            "dimensions": 64, "task": "retrieval.query", "encoding_format": "base64"}),
        ))
        .unwrap();
        assert_eq!(
            b,
            json!({"model": "jina-embeddings-v3", "dimensions": 64, "task": "retrieval.query",
                   "input": ["hello"]})
        );
        let b = body(&req(json!({"model": "jina-clip-v2",
            "input": ["a cat", "data:image/png;base64,iVBORw0KGgo="]})))
        .unwrap();
        assert_eq!(
            b["input"],
            json!([{"text": "a cat"}, {"image": "iVBORw0KGgo="}])
        );
        assert_eq!(
            body(&req(json!({"model": "m", "input": [1, 2]})))
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn answers_with_usage() {
        let v = json!({"model": "jina-embeddings-v3", "object": "list",
            "usage": {"total_tokens": 5, "prompt_tokens": 5},
            "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}]});
        let r = response(&v, "m");
        assert_eq!(r.data.len(), 1);
        assert_eq!(r.usage.unwrap().prompt_tokens, 5);
    }
}
