//! What the token-billed retrieval mocks (Voyage, Jina AI, DashScope) share: the bearer key
//! check, word-overlap ranking, made-up vectors and token counts.

use axum::http::HeaderMap;
use serde_json::Value;

/// The `Authorization: Bearer` key, if one is there.
pub(crate) fn bearer(h: &HeaderMap) -> Option<&str> {
    h.get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|k| !k.trim().is_empty())
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

/// Document indexes by score, best first (ties in order), at most `top`.
pub(crate) fn rank(query: &str, docs: &[String], top: Option<u64>) -> Vec<(usize, f64)> {
    let mut ranked: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (i, score(query, d)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(top.map_or(docs.len(), |n| n as usize));
    ranked
}

/// The `i`th input's vector of `dims` floats.
pub(crate) fn vector(i: usize, dims: usize) -> Vec<f32> {
    (0..dims)
        .map(|j| 0.1 * (i + 1) as f32 + 0.01 * j as f32)
        .collect()
}

/// Whitespace words, at least one per text: the mocks' token count.
pub(crate) fn tokens<'a>(texts: impl IntoIterator<Item = &'a str>) -> usize {
    texts
        .into_iter()
        .map(|t| t.split_whitespace().count().max(1))
        .sum()
}

/// A JSON array of strings, else None.
pub(crate) fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|d| d.as_str().map(str::to_string))
        .collect()
}
