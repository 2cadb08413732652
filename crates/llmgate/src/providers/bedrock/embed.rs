//! Embeddings through InvokeModel: Amazon Titan (one text per call) and Cohere Embed (a batch).

use serde_json::{json, Value};

use llmgate_types::{EmbeddingRequest, EmbeddingResponse};

use crate::providers::gemini::{embedding_inputs, embedding_response};
use crate::LlmError;

/// The InvokeModel bodies for `req` on `model` (Titan: one per input; Cohere: one for all).
pub fn bodies(req: &EmbeddingRequest, model: &str) -> Result<Vec<Value>, LlmError> {
    let inputs = embedding_inputs(req)?;
    let dims = req
        .dimensions
        .map(|d| json!(d))
        .or_else(|| req.extra.get("dimensions").cloned());
    if model.contains("cohere.") {
        let mut b = json!({
            "texts": inputs,
            "input_type": req.extra.get("input_type").cloned().unwrap_or_else(|| json!("search_document")),
        });
        if let Some(t) = req.extra.get("truncate").filter(|v| !v.is_null()) {
            b["truncate"] = t.clone();
        }
        return Ok(vec![b]);
    }
    if model.contains("titan-embed") {
        return Ok(inputs
            .into_iter()
            .map(|t| {
                let mut b = json!({"inputText": t});
                // Titan v2 takes dimensions and normalize; v1 takes neither.
                if let Some(d) = &dims {
                    b["dimensions"] = d.clone();
                }
                if let Some(n) = req.extra.get("normalize").filter(|v| !v.is_null()) {
                    b["normalize"] = n.clone();
                }
                b
            })
            .collect());
    }
    Err(LlmError::bad_request(format!(
        "Bedrock embeddings support Amazon Titan and Cohere Embed models, not {model}"
    ))
    .with_provider(super::NAME))
}

/// The answers of [`bodies`]' calls as one OpenAI embedding response.
pub fn response(model: &str, answers: &[Value], input_tokens: u64) -> EmbeddingResponse {
    let mut vectors = Vec::new();
    let mut tokens = 0;
    for a in answers {
        if let Some(e) = a.get("embedding") {
            vectors.push(e.clone());
            tokens += a["inputTextTokenCount"].as_u64().unwrap_or(0);
        } else if let Some(all) = a["embeddings"].as_array() {
            vectors.extend(all.iter().cloned());
        } else if let Some(all) = a["embeddings"]["float"].as_array() {
            vectors.extend(all.iter().cloned());
        }
    }
    // Cohere on Bedrock reports no token count: counted locally, as LiteLLM does.
    embedding_response(
        model,
        vectors,
        if tokens > 0 { tokens } else { input_tokens },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titan_and_cohere_bodies() {
        let req: EmbeddingRequest =
            serde_json::from_value(json!({"model": "m", "input": ["a", "b"], "dimensions": 256}))
                .unwrap();
        let t = bodies(&req, "amazon.titan-embed-text-v2:0").unwrap();
        assert_eq!(
            t,
            vec![
                json!({"inputText": "a", "dimensions": 256}),
                json!({"inputText": "b", "dimensions": 256})
            ]
        );
        let c = bodies(&req, "cohere.embed-english-v3").unwrap();
        assert_eq!(
            c,
            vec![json!({"texts": ["a", "b"], "input_type": "search_document"})]
        );
        assert!(bodies(&req, "anthropic.claude-3-5-sonnet-20240620-v1:0").is_err());
        let r = response(
            "m",
            &[
                json!({"embedding": [0.1], "inputTextTokenCount": 2}),
                json!({"embedding": [0.2], "inputTextTokenCount": 3}),
            ],
            0,
        );
        assert_eq!(r.data.len(), 2);
        assert_eq!(r.usage.unwrap().prompt_tokens, 5);
    }
}
