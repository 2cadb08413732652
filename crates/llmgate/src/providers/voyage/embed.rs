//! `POST {base}/embeddings`, as LiteLLM's `VoyageEmbeddingConfig`: `{"input", "model"}` with
//! `dimensions` as `output_dimension`, `encoding_format` as it is, and Voyage's own fields
//! (`input_type`, `output_dtype`, `truncation`, ...) passed through. Deliberately unlike
//! LiteLLM: `encoding_format: "float"` is left out (Voyage knows only `base64`, floats are its
//! default), token arrays are refused before the call, and the contextualized and multimodal
//! models (other endpoints and bodies) are refused by name.

use llmgate_types::{EmbeddingRequest, EmbeddingResponse};
use serde_json::{json, Map, Value};

use crate::LlmError;

/// `{base}/embeddings` unless the base already ends with it.
pub fn url(base: Option<&str>) -> String {
    match base {
        Some(b) if b.ends_with("/embeddings") => b.to_string(),
        Some(b) => format!("{b}/embeddings"),
        None => format!("{}/embeddings", super::DEFAULT_BASE),
    }
}

pub fn body(req: &EmbeddingRequest) -> Result<Value, LlmError> {
    let lower = req.model.to_ascii_lowercase();
    if lower.contains("context") || lower.contains("multimodal") {
        return Err(LlmError::bad_request(format!(
            "voyage/{}: Voyage's contextualized and multimodal embeddings are not supported by llmgate",
            req.model
        ))
        .with_provider(super::NAME));
    }
    let texts = crate::embeddings::texts(req, super::NAME)?;
    let mut b = Map::new();
    // A single string stays a string, as LiteLLM sends it.
    let input = match &req.input {
        Value::String(s) => json!(s),
        _ => json!(texts),
    };
    b.insert("input".into(), input);
    b.insert("model".into(), json!(req.model));
    if let Some(f) = req.encoding_format.as_deref().filter(|f| *f != "float") {
        b.insert("encoding_format".into(), json!(f));
    }
    if let Some(d) = req.dimensions {
        b.insert("output_dimension".into(), json!(d));
    }
    for (k, v) in &req.extra {
        if !v.is_null() {
            b.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(b))
}

/// Voyage's answer is OpenAI's list already; its `usage.total_tokens` is the prompt's.
pub fn response(v: &Value, model: &str) -> EmbeddingResponse {
    let tokens = v["usage"]["total_tokens"].as_u64().unwrap_or(0);
    serde_json::from_value(json!({
        "object": "list",
        "data": v["data"].as_array().cloned().unwrap_or_default(),
        "model": v["model"].as_str().unwrap_or(model),
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
    fn urls_as_litellm_builds_them() {
        assert_eq!(url(None), "https://api.voyageai.com/v1/embeddings");
        assert_eq!(url(Some("http://h/v1")), "http://h/v1/embeddings");
        assert_eq!(
            url(Some("http://h/v1/embeddings")),
            "http://h/v1/embeddings"
        );
    }

    #[test]
    fn bodies_rename_dimensions_and_pass_voyage_fields() {
        let b = body(&req(json!({"model": "voyage-3.5", "input": ["a", "b"],
            "dimensions": 256, "encoding_format": "base64", "input_type": "query",
            "output_dtype": "int8"})))
        .unwrap();
        assert_eq!(
            b,
            json!({"input": ["a", "b"], "model": "voyage-3.5", "encoding_format": "base64",
                   "output_dimension": 256, "input_type": "query", "output_dtype": "int8"})
        );
        let b = body(&req(
            json!({"model": "voyage-3", "input": "q", "encoding_format": "float"}),
        ))
        .unwrap();
        assert_eq!(b, json!({"input": "q", "model": "voyage-3"}));
        assert_eq!(
            body(&req(json!({"model": "voyage-3", "input": [[1, 2]]})))
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            body(&req(json!({"model": "voyage-context-3", "input": "q"})))
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn answers_carry_total_tokens_as_prompt_tokens() {
        let v = json!({"object": "list", "model": "voyage-3",
            "data": [{"object": "embedding", "embedding": [0.1, 0.2], "index": 0}],
            "usage": {"total_tokens": 7}});
        let r = response(&v, "voyage-3");
        assert_eq!(r.data[0].embedding, json!([0.1, 0.2]));
        let u = r.usage.unwrap();
        assert_eq!((u.prompt_tokens, u.total_tokens), (7, 7));
    }
}
