//! LiteLLM's governance headers on an answer (`x-ratelimit-api_key-*`, `x-litellm-key-*`,
//! `x-litellm-cache-key`). They go on every answer, so the names are constants and integer
//! values are written without a string in between or a parse of either.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

pub const LIMIT_REQUESTS: HeaderName =
    HeaderName::from_static("x-ratelimit-api_key-limit-requests");
pub const REMAINING_REQUESTS: HeaderName =
    HeaderName::from_static("x-ratelimit-api_key-remaining-requests");
pub const LIMIT_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-api_key-limit-tokens");
pub const REMAINING_TOKENS: HeaderName =
    HeaderName::from_static("x-ratelimit-api_key-remaining-tokens");
pub const KEY_TPM_LIMIT: HeaderName = HeaderName::from_static("x-litellm-key-tpm-limit");
pub const KEY_RPM_LIMIT: HeaderName = HeaderName::from_static("x-litellm-key-rpm-limit");
pub const KEY_MAX_BUDGET: HeaderName = HeaderName::from_static("x-litellm-key-max-budget");
pub const KEY_SPEND: HeaderName = HeaderName::from_static("x-litellm-key-spend");
pub const CACHE_KEY: HeaderName = HeaderName::from_static("x-litellm-cache-key");

/// Python's `None`, as LiteLLM writes an unset limit.
const NONE: HeaderValue = HeaderValue::from_static("None");

/// The headers admission and settlement add to a successful answer, in order.
#[derive(Clone, Debug, Default)]
pub struct AnswerHeaders(Vec<(HeaderName, HeaderValue)>);

impl AnswerHeaders {
    pub fn int(&mut self, name: HeaderName, v: i64) {
        self.0.push((name, HeaderValue::from(v)));
    }

    /// An integer, or `None` when unset.
    pub fn py_int(&mut self, name: HeaderName, v: Option<i64>) {
        self.0.push((name, v.map_or(NONE, HeaderValue::from)));
    }

    /// A float as Python writes it, or `None` when unset.
    pub fn py_float(&mut self, name: HeaderName, v: Option<f64>) {
        let value = v.map_or(Ok(NONE), |x| {
            HeaderValue::try_from(crate::pyfmt::py_float(x))
        });
        if let Ok(value) = value {
            self.0.push((name, value));
        }
    }

    /// A text value (left out if it cannot be a header value).
    pub fn text(&mut self, name: HeaderName, v: &str) {
        if let Ok(value) = HeaderValue::from_str(v) {
            self.0.push((name, value));
        }
    }

    /// Sets each header on `h` (a later one of the same name wins).
    pub fn apply(&self, h: &mut HeaderMap) {
        for (k, v) in &self.0 {
            h.insert(k.clone(), v.clone());
        }
    }
}
