//! Rerank through the Bedrock Agent Runtime's `POST /rerank` (`bedrock/amazon.rerank-v1:0`,
//! `bedrock/cohere.rerank-v3-5:0`), as LiteLLM's `BedrockRerankConfig` builds it: the query as
//! one text query, each document an inline source (text, or JSON for an object),
//! `numberOfResults` = `top_n` or every document; signed for service `bedrock` on the runtime
//! endpoint with `bedrock-runtime` → `bedrock-agent-runtime`. Bedrock reports no usage: one
//! search unit, as LiteLLM counts it. Deliberately better than LiteLLM: a bare model id becomes
//! its foundation-model ARN (the API takes ARNs only), and `return_documents` fills each
//! result's document from the request.

use llmgate_types::{RerankDocument, RerankRequest, RerankResponse};
use serde_json::{json, Value};

use crate::{ErrorKind, LlmError};

/// The Agent Runtime URL for a runtime `endpoint`.
pub fn url(endpoint: &str) -> String {
    format!(
        "{}/rerank",
        endpoint.replace("bedrock-runtime", "bedrock-agent-runtime")
    )
}

/// `arn:aws:bedrock:{region}::foundation-model/{id}` unless `model` is an ARN already.
pub fn model_arn(model: &str, region: &str) -> String {
    if model.starts_with("arn:") {
        model.to_string()
    } else {
        format!("arn:aws:bedrock:{region}::foundation-model/{model}")
    }
}

pub fn body(req: &RerankRequest, arn: &str) -> Value {
    let docs = req.documents();
    let sources: Vec<Value> = docs
        .iter()
        .map(|d| match d {
            RerankDocument::Text(t) => json!({"inlineDocumentSource": {
                "textDocument": {"text": t}, "type": "TEXT"}, "type": "INLINE"}),
            RerankDocument::Object(o) => json!({"inlineDocumentSource": {
                "jsonDocument": o, "type": "JSON"}, "type": "INLINE"}),
        })
        .collect();
    json!({
        "queries": [{"textQuery": {"text": req.query}, "type": "TEXT"}],
        "rerankingConfiguration": {
            "bedrockRerankingConfiguration": {
                "modelConfiguration": {"modelArn": arn},
                "numberOfResults": req.top_n.map_or(docs.len() as u64, u64::from),
            },
            "type": "BEDROCK_RERANKING_MODEL",
        },
        "sources": sources,
    })
}

/// `{"results": [{"index", "relevanceScore"}]}` → Cohere's shape.
pub fn response(v: &Value, req: &RerankRequest) -> Result<RerankResponse, LlmError> {
    let items = v["results"].as_array().filter(|r| !r.is_empty());
    let Some(items) = items else {
        return Err(LlmError::new(
            ErrorKind::InternalServer,
            format!("No results found in the response={v}"),
        )
        .with_provider(super::NAME));
    };
    let docs = req.documents();
    let results: Vec<Value> = items
        .iter()
        .map(|r| {
            let mut out = json!({"index": r["index"], "relevance_score": r["relevanceScore"]});
            let doc = r["index"].as_u64().and_then(|i| docs.get(i as usize));
            if let (Some(true), Some(d)) = (req.return_documents, doc) {
                out["document"] = match d {
                    RerankDocument::Text(t) => json!({"text": t}),
                    RerankDocument::Object(o) => json!(o),
                };
            }
            out
        })
        .collect();
    let billed = match &v["usage"] {
        Value::Object(u) => json!(u),
        _ => json!({"search_units": 1}),
    };
    let id = v["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    serde_json::from_value(json!({"id": id, "results": results, "meta": {"billed_units": billed}}))
        .map_err(|e| {
            LlmError::new(
                ErrorKind::InternalServer,
                format!("unexpected Bedrock rerank answer: {e}"),
            )
            .with_provider(super::NAME)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> RerankRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn urls_and_arns() {
        assert_eq!(
            url("https://bedrock-runtime.us-west-2.amazonaws.com"),
            "https://bedrock-agent-runtime.us-west-2.amazonaws.com/rerank"
        );
        assert_eq!(url("http://127.0.0.1:9"), "http://127.0.0.1:9/rerank");
        assert_eq!(
            model_arn("amazon.rerank-v1:0", "us-west-2"),
            "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0"
        );
        let arn = "arn:aws:bedrock:eu-central-1::foundation-model/cohere.rerank-v3-5:0";
        assert_eq!(model_arn(arn, "us-west-2"), arn);
    }

    #[test]
    fn bodies_as_litellm_builds_them() {
        let r = req(json!({"model": "amazon.rerank-v1:0", "query": "q",
            "documents": ["a", {"title": "t", "body": "b"}]}));
        assert_eq!(
            body(&r, "arn:x"),
            json!({
                "queries": [{"textQuery": {"text": "q"}, "type": "TEXT"}],
                "rerankingConfiguration": {
                    "bedrockRerankingConfiguration": {
                        "modelConfiguration": {"modelArn": "arn:x"}, "numberOfResults": 2},
                    "type": "BEDROCK_RERANKING_MODEL"},
                "sources": [
                    {"inlineDocumentSource": {"textDocument": {"text": "a"}, "type": "TEXT"}, "type": "INLINE"},
                    {"inlineDocumentSource": {"jsonDocument": {"title": "t", "body": "b"}, "type": "JSON"}, "type": "INLINE"}
                ]
            })
        );
        let r = req(json!({"model": "m", "query": "q", "documents": ["a", "b"], "top_n": 1}));
        assert_eq!(
            body(&r, "arn:x")["rerankingConfiguration"]["bedrockRerankingConfiguration"]
                ["numberOfResults"],
            1
        );
    }

    #[test]
    fn answers_count_one_search_unit() {
        let r = req(json!({"model": "m", "query": "q", "documents": ["a", "b"],
            "return_documents": true}));
        let v = json!({"results": [{"index": 1, "relevanceScore": 0.8}, {"index": 0, "relevanceScore": 0.1}]});
        let a = response(&v, &r).unwrap();
        assert_eq!(a.results[0].index, 1);
        assert_eq!(a.results[0].relevance_score, 0.8);
        assert_eq!(a.results[0].document, Some(json!({"text": "b"})));
        assert_eq!(a.meta.billed_units.as_ref().unwrap().search_units, Some(1));
        assert_eq!(a.usage().extra[llmgate_types::rerank::SEARCH_UNITS], 1);
        assert!(response(&json!({"results": []}), &r).is_err());
    }
}
