//! What the token-billed retrieval APIs share (Voyage, Jina AI, DashScope's rerank): a JSON
//! `POST` with the key as a bearer token, and their rerank answer shape.

use llmgate_types::RerankResponse;
use serde_json::{json, Value};

use super::http::{header_pairs, json, send};
use super::Ctx;
use crate::{ErrorKind, LlmError};

/// `POST url` with the key as a bearer token (LiteLLM sends `Bearer None` without one; the
/// upstream answers 401 either way) and the deployment's extra headers.
pub fn post(cx: &Ctx<'_>, url: &str, body: &Value, key_env: &[&str]) -> reqwest::RequestBuilder {
    let mut rb = cx
        .http
        .post(url)
        .header("accept", "application/json")
        .header("content-type", "application/json");
    let key = cx.opts.api_key.clone().or_else(|| {
        key_env
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|k| !k.is_empty()))
    });
    if let Some(k) = key {
        rb = rb.bearer_auth(k);
    }
    for (k, v) in &cx.opts.extra_headers {
        rb = rb.header(k, v);
    }
    rb.body(serde_json::to_vec(body).unwrap_or_default())
}

/// [`post`]s `body`, answers the upstream's headers and JSON (a failure mapped as `send` maps it).
pub async fn call(
    cx: &Ctx<'_>,
    url: &str,
    body: &Value,
    key_env: &[&str],
    provider: &str,
) -> Result<(Vec<(String, String)>, Value), LlmError> {
    let res = send(
        post(cx, url, body, key_env),
        provider,
        cx.opts.timeout,
        true,
    )
    .await?;
    let headers = header_pairs(res.headers());
    Ok((headers, json(res, provider).await?))
}

/// A `{"<key>": [{index, relevance_score, document?}], "usage": {"total_tokens"}}` answer (Voyage,
/// Jina, DashScope) in Cohere's shape, the tokens as billed units.
pub fn rerank_answer(v: &Value, key: &str) -> Result<RerankResponse, LlmError> {
    let Some(items) = v[key].as_array() else {
        return Err(LlmError::new(
            ErrorKind::InternalServer,
            format!("No results found in the response={v}"),
        ));
    };
    let results: Vec<Value> = items
        .iter()
        .map(|r| {
            let mut out = json!({"index": r["index"], "relevance_score": r["relevance_score"]});
            match &r["document"] {
                Value::Null => {}
                Value::String(t) => out["document"] = json!({"text": t}),
                d => out["document"] = d.clone(),
            }
            out
        })
        .collect();
    let id = v["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let tokens = v["usage"]["total_tokens"].as_u64();
    serde_json::from_value(json!({
        "id": id,
        "results": results,
        "meta": {"billed_units": {"total_tokens": tokens}, "tokens": {"input_tokens": tokens, "output_tokens": 0}},
    }))
    .map_err(|e| {
        LlmError::new(
            ErrorKind::InternalServer,
            format!("unexpected rerank answer: {e}"),
        )
    })
}
