//! What every embeddings adapter shares: the text inputs of a request (token arrays refused
//! where the upstream takes text only), and `encoding_format: "base64"` honoured for upstreams
//! that only answer floats.

use base64::Engine;
use llmgate_types::{EmbeddingRequest, EmbeddingResponse};
use serde_json::Value;

use crate::LlmError;

/// The inputs as strings: a string, or a non-empty list of strings. Token arrays (`[1, 2]`,
/// `[[1, 2]]`) are a 400 naming the provider, before any upstream call.
pub fn texts(req: &EmbeddingRequest, provider: &str) -> Result<Vec<String>, LlmError> {
    let bad = |m: String| LlmError::bad_request(m).with_provider(provider);
    match &req.input {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(_) | Value::Array(_) => Err(bad(format!(
                    "{provider} does not take token arrays as embedding input; send the text"
                ))),
                _ => Err(bad("input must be a string or a list of strings".into())),
            })
            .collect(),
        _ => Err(bad(
            "input must be a non-empty string or a list of strings".into()
        )),
    }
}

/// Each float vector as the base64 of its little-endian `f32`s, as OpenAI encodes them;
/// vectors already encoded by the upstream stay as they are.
pub fn encode_base64(resp: &mut EmbeddingResponse) {
    for e in &mut resp.data {
        if let Value::Array(items) = &e.embedding {
            let bytes: Vec<u8> = items
                .iter()
                .flat_map(|v| (v.as_f64().unwrap_or(0.0) as f32).to_le_bytes())
                .collect();
            e.embedding = Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
    }
}

/// Whether the request asks for base64 vectors.
pub fn wants_base64(req: &EmbeddingRequest) -> bool {
    req.encoding_format.as_deref() == Some("base64")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(input: Value) -> EmbeddingRequest {
        EmbeddingRequest {
            model: "m".into(),
            input,
            ..Default::default()
        }
    }

    #[test]
    fn strings_pass_and_tokens_are_refused() {
        assert_eq!(texts(&req(json!("a")), "p").unwrap(), ["a"]);
        assert_eq!(texts(&req(json!(["a", "b"])), "p").unwrap(), ["a", "b"]);
        for bad in [json!([1, 2]), json!([[1, 2]]), json!([]), json!(null)] {
            let e = texts(&req(bad), "voyage").unwrap_err();
            assert_eq!(e.status, 400);
        }
        let e = texts(&req(json!([[1, 2]])), "voyage").unwrap_err();
        assert!(e.message.contains("token arrays"), "{}", e.message);
    }

    #[test]
    fn floats_become_little_endian_f32_base64() {
        let mut r: EmbeddingResponse = serde_json::from_value(json!({
            "data": [{"embedding": [1.0, -2.5], "index": 0}, {"embedding": "AAAA", "index": 1}]
        }))
        .unwrap();
        encode_base64(&mut r);
        let b = base64::engine::general_purpose::STANDARD
            .decode(r.data[0].embedding.as_str().unwrap())
            .unwrap();
        let floats: Vec<f32> = b
            .chunks(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(floats, [1.0, -2.5]);
        assert_eq!(r.data[1].embedding, "AAAA");
    }
}
