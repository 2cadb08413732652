//! `/rerank`: Cohere's request and response shape, which LiteLLM uses for every rerank
//! provider (Cohere, Bedrock, Jina, Voyage, ...). Provider-neutral: an adapter translates from
//! and to these.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Extra, Usage};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RerankRequest {
    #[serde(default)]
    pub model: String,
    /// Required; an `Option` so that a missing one is a clear 400, not a parse error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Required: strings, or objects (`{"text": ...}`, or fields named by `rank_fields`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<RerankDocument>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_documents: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_fields: Option<Vec<String>>,
    /// Cohere v1's chunking limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chunks_per_doc: Option<u32>,
    /// Cohere v2's truncation limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_per_doc: Option<u32>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One document to rank: a string or an object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RerankDocument {
    Text(String),
    Object(Map<String, Value>),
}

impl RerankDocument {
    /// The text the document is ranked on: the string, or the object's `text` (else its
    /// string fields joined), for token counts and for providers that take strings only.
    pub fn text(&self) -> String {
        match self {
            RerankDocument::Text(t) => t.clone(),
            RerankDocument::Object(o) => match o.get("text").and_then(Value::as_str) {
                Some(t) => t.to_string(),
                None => o
                    .values()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n"),
            },
        }
    }
}

impl RerankRequest {
    pub fn documents(&self) -> &[RerankDocument] {
        self.documents.as_deref().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RerankResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub results: Vec<RerankResult>,
    #[serde(default)]
    pub meta: RerankMeta,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RerankResult {
    pub index: u32,
    pub relevance_score: f64,
    /// With `return_documents`: `{"text": ...}` (or the document object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RerankMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_units: Option<RerankBilledUnits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<RerankTokens>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RerankBilledUnits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_units: Option<u64>,
    /// Token-billed rerankers (Jina, Voyage) report this instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RerankTokens {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `Usage` key a rerank call's search units travel under, to be priced per query.
pub const SEARCH_UNITS: &str = "search_units";

impl RerankResponse {
    /// What the call is charged and counted for: its tokens (billed, else counted by the
    /// upstream), and its search units under [`SEARCH_UNITS`] — one when the upstream reports
    /// none, as LiteLLM prices a per-query model.
    pub fn usage(&self) -> Usage {
        let billed = self.meta.billed_units.as_ref();
        let tokens = billed
            .and_then(|b| b.total_tokens)
            .or_else(|| self.meta.tokens.as_ref().and_then(|t| t.input_tokens))
            .unwrap_or(0);
        let mut u = Usage::new(tokens, 0);
        let units = billed.and_then(|b| b.search_units).unwrap_or(1);
        u.extra.insert(SEARCH_UNITS.into(), units.into());
        u
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_strings_or_objects_and_unknown_fields_kept() {
        let r: RerankRequest = serde_json::from_value(json!({
            "model": "rerank-v3.5", "query": "q", "top_n": 2,
            "documents": ["a", {"text": "b", "title": "t"}, {"title": "only"}],
            "custom": 1
        }))
        .unwrap();
        let texts: Vec<String> = r.documents().iter().map(RerankDocument::text).collect();
        assert_eq!(texts, ["a", "b", "only"]);
        assert_eq!(r.extra["custom"], 1);
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["documents"][1]["title"], "t");
        assert!(back.get("return_documents").is_none());
    }

    #[test]
    fn usage_carries_search_units() {
        let r: RerankResponse = serde_json::from_value(json!({
            "id": "x", "results": [{"index": 1, "relevance_score": 0.9}],
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 3}}
        }))
        .unwrap();
        assert_eq!(r.usage().extra[SEARCH_UNITS], 3);
        let none = RerankResponse::default().usage();
        assert_eq!(none.extra[SEARCH_UNITS], 1);
        let v = serde_json::to_value(&r).unwrap();
        assert!(v["results"][0].get("document").is_none());
        assert_eq!(v["meta"]["billed_units"]["search_units"], 3);
    }
}
